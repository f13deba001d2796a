import middy from '@middy/core';
import { DetailType, type FleetEvent, validateFleetEvent } from '../../events/index.js';
import { type ReportDeps, writeReport } from './write-report.js';

export function createReportHandler(deps: ReportDeps) {
  return middy<FleetEvent<typeof DetailType.EtlDone>>()
    .use(validateFleetEvent([DetailType.EtlDone]))
    .handler(function report(event) {
      return writeReport(event, deps);
    });
}
