import middy from '@middy/core';
import { DetailType, type FleetEvent, validateFleetEvent } from '../../events/index.js';
import { type ReportDeps, writeFailedNightReport, writeReport } from './write-report.js';

export function createReportHandler(deps: ReportDeps) {
  return middy<FleetEvent<typeof DetailType.EtlDone | typeof DetailType.EtlFailed>>()
    .use(
      // An EtlDone over 256 KB arrives by reference; its detail is in the results store (decision 60).
      validateFleetEvent([DetailType.EtlDone, DetailType.EtlFailed], { detailStore: deps.resultsStore }),
    )
    .handler(function report(event) {
      return event['detail-type'] === DetailType.EtlDone
        ? writeReport(event, deps)
        : writeFailedNightReport(event, deps);
    });
}
