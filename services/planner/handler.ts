import middy from '@middy/core';
import type { FleetSource } from '../ports/fleet-source.js';
import { type LogFields, withLogFields } from '../shared/log-context.js';
import { parseInput } from '../shared/parse-input.js';
import { runIdFor } from '../shared/run-identity.js';
import { type PlannerDeps, type PlannerInput, PlannerInputSchema, planPages } from './plan-pages.js';

export function createPlannerHandler(deps: PlannerDeps) {
  return middy<PlannerInput>()
    .use(parseInput(PlannerInputSchema, 'planner input'))
    .handler(function planner(event) {
      return withLogFields(plannerLogFields(event, deps.source), () => planPages(event, deps));
    });
}

/**
 * The run and dataset a planner input is about, or nothing when it is not an input: the run is derived from the
 * scheduled time as planPages derives it, so every line of the plan names it.
 */
export function plannerLogFields(input: unknown, source: FleetSource): LogFields {
  const parsed = PlannerInputSchema.safeParse(input);
  if (!parsed.success) return {};
  const { dataset, time } = parsed.data;
  return { runId: runIdFor(source.windowFor(new Date(time))), dataset };
}
