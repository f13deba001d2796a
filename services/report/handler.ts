import middy from '@middy/core';
import { DetailType, type FleetEvent, validateFleetEvent } from '../../events/index.js';
import { type ReportDeps, writeReport } from './write-report.js';

export function createReportHandler(deps: ReportDeps) {
  return middy<FleetEvent<typeof DetailType.EtlDone>>()
    .use(
      // An EtlDone over 256 KB arrives by reference; its detail is in the results store (decision 60).
      validateFleetEvent([DetailType.EtlDone], { detailStore: deps.resultsStore }),
    )
    .handler(function report(event) {
      return writeReport(event, deps);
    });
}
