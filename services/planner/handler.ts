import middy from '@middy/core';
import { parseInput } from '../shared/parse-input.js';
import { type PlannerDeps, type PlannerInput, PlannerInputSchema, planPages } from './plan-pages.js';

export function createPlannerHandler(deps: PlannerDeps) {
  return middy<PlannerInput>()
    .use(parseInput(PlannerInputSchema, 'planner input'))
    .handler(function planner(event) {
      return planPages(event, deps);
    });
}
