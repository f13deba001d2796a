/** The template uses something the twin cannot give a value to; the twin refuses rather than guess. */
export class UnresolvableTemplateValueError extends Error {
  override readonly name = 'UnresolvableTemplateValueError';
}

/** The cloud assembly or a resource of its template is not what the twin's model expects. */
export class InvalidTemplateError extends Error {
  override readonly name = 'InvalidTemplateError';
}
