import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: entries in services/topology.ts and the queries/ folder are relative to it. */
export const REPOSITORY_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const fromRepositoryRoot = (...segments: string[]): string => path.join(REPOSITORY_ROOT, ...segments);
