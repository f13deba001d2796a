/**
 * The one made-up account and region every synthesized ARN, URL and name of the twin lives in. The template is
 * environment-agnostic (`cdk synth` without account or region), so the twin picks them, once, here.
 */
export const TWIN_ACCOUNT = '123456789012';
export const TWIN_REGION = 'eu-west-1';
export const TWIN_PARTITION = 'aws';
export const TWIN_URL_SUFFIX = 'amazonaws.com';
