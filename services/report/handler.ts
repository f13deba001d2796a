import middy from '@middy/core';
import { DetailType, type FleetEvent, validateFleetEvent } from '../../events/index.js';
import { type ConsumedDetailType, consumedDetailTypes } from '../topology.js';
import { type ReportDeps, writeFailedNightReport, writeReport } from './write-report.js';

export function createReportHandler(deps: ReportDeps) {
  return middy<FleetEvent<ConsumedDetailType<'report'>>>()
    .use(
      // An EtlDone over 256 KB arrives by reference; its detail is in the results store (decision 60).
      validateFleetEvent(consumedDetailTypes('report'), { detailStore: deps.resultsStore }),
    )
    .handler(function report(event) {
      return event['detail-type'] === DetailType.EtlDone
        ? writeReport(event, deps)
        : writeFailedNightReport(event, deps);
    });
}
