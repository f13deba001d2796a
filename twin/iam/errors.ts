/**
 * The evaluator could not judge a request (an action it does not know, a resource ARN of the wrong type): a bug
 * in the twin's request mapping, never a denial, so it is not answered as AccessDenied.
 */
export class AuthorizationInputError extends Error {
  override readonly name = 'AuthorizationInputError';
}
