import type { ContextValues } from '../iam/iam-authorizer.js';

/** One authorization AWS makes for a request: an action on a resource, with the request's own context keys. */
export interface IamCheck {
  action: string;
  resource: string;
  context?: ContextValues;
}
