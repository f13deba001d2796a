import path from 'node:path';
import { reportFiles } from '../services/report/report-model.js';
import { stateLayout } from './runtime.js';

/** Where the report consumer leaves a run's HTML page under a state folder (`etl run` prints it). */
export function reportPageOf(stateDir: string, runId: string): string {
  return path.join(stateLayout(stateDir).results, reportFiles(runId, []).html);
}
