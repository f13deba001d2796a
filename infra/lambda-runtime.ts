/**
 * The Lambda runtime every function is deployed on, and the esbuild target its bundle is built for. One place,
 * read by the CDK app and by the bundle tests. Local runs use the machine's Node.js (20 or later).
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
 */
export const LAMBDA_RUNTIME = { name: 'nodejs24.x', esbuildTarget: 'node24' } as const;

/** The bundled queries/ folder is copied next to the query runner's handler under this name. */
export const BUNDLED_QUERIES_DIR = 'queries';
