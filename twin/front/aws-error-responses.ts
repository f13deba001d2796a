import { randomUUID } from 'node:crypto';

/** An answer the front gives instead of the emulator's: status, headers, body. */
export interface FrontResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const escapeXml = (text: string) =>
  text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c,
  );

/**
 * S3's REST error document (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html). A HEAD answer
 * has no body, which is why the SDK names a 403 on HeadObject `Forbidden` and a 404 `NotFound`.
 */
export function s3Error(status: number, code: string, message: string, head: boolean): FrontResponse {
  const requestId = randomUUID().replaceAll('-', '').slice(0, 16).toUpperCase();
  const xml =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message>` +
    `<RequestId>${requestId}</RequestId><HostId>twin</HostId></Error>`;
  return {
    status,
    headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId },
    body: head ? Buffer.alloc(0) : Buffer.from(xml),
  };
}

/**
 * The JSON protocols' error: `__type` names the error. SQS (JSON with query compatibility) also sends
 * `x-amzn-query-error`, from which the SDK takes the query-era code (`AccessDenied`), and answers 403; the
 * JSON 1.1 services (Secrets Manager, EventBridge) answer 400 with `AccessDeniedException`.
 */
export function jsonError(status: number, type: string, message: string, queryError?: string): FrontResponse {
  return {
    status,
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-requestid': randomUUID(),
      ...(queryError === undefined ? {} : { 'x-amzn-query-error': queryError }),
    },
    body: Buffer.from(JSON.stringify({ __type: type, message })),
  };
}

export function jsonResponse(value: unknown, contentType = 'application/x-amz-json-1.1'): FrontResponse {
  return {
    status: 200,
    headers: { 'content-type': contentType, 'x-amzn-requestid': randomUUID() },
    body: Buffer.from(JSON.stringify(value)),
  };
}
