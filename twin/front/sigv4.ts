/** The credential scope of a SigV4-signed request: who signed it, for which region and service. */
export interface SignedScope {
  accessKeyId: string;
  region: string;
  service: string;
}

const SCOPE = /^([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request$/;

/**
 * Reads the scope from the Authorization header (`Credential=AKID/date/region/service/aws4_request`) or a
 * presigned URL's X-Amz-Credential. The signature itself is not verified: every key is the twin's own, and what
 * the twin checks is which role signed, not whether the secret was right (see twin/README.md).
 */
export function signedScope(
  authorization: string | undefined,
  query: URLSearchParams,
): SignedScope | undefined {
  const credential =
    /Credential=([^,\s]+)/.exec(authorization ?? '')?.[1] ?? query.get('X-Amz-Credential') ?? undefined;
  const match = credential === undefined ? null : SCOPE.exec(credential);
  if (match === null) return undefined;
  const [, accessKeyId = '', region = '', service = ''] = match;
  return { accessKeyId, region, service };
}
