// Worker threads do not inherit the loader hooks bin/etl.js registers, so the simulator's thread registers tsx
// itself before loading its TypeScript (simulator-worker.ts).
import { register } from 'tsx/esm/api';

register();
await import('./simulator-thread.ts');
