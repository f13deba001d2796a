import middy from '@middy/core';
import { DetailType, validateFleetEvent } from '../../events/index.js';
import { type QueryRunnerDeps, type QueryRunnerEvent, runNextFile } from './run-next-file.js';

export function createQueryRunnerHandler(deps: QueryRunnerDeps) {
  return middy<QueryRunnerEvent>()
    .use(validateFleetEvent([DetailType.DownloadsDrained, DetailType.SqlFileExecuted]))
    .handler(function queryRunner(event) {
      return runNextFile(event, deps);
    });
}
