import type { S3Client } from '@aws-sdk/client-s3';
import { TerminalError } from '../../../shared/errors.js';
import { S3ObjectStore } from '../s3/object-store.js';

const S3_URL = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/;

function parseS3Url(url: string): { bucket: string; key: string } | undefined {
  const match = S3_URL.exec(url);
  return match?.[1] && match[2] ? { bucket: match[1], key: match[2] } : undefined;
}

/**
 * Reads Athena data manifests and deletes the files they list. A manifest is a text file of s3:// URLs, one
 * per line, that Athena writes next to the query results for every CTAS and INSERT INTO
 * (https://docs.aws.amazon.com/athena/latest/ug/querying-finding-output-files.html). Only files under the
 * configured writable locations (the warehouse) are ever deleted: a manifest listing anything else is
 * refused as a whole, so a mistake can never reach the raw lake.
 */
export class ManifestFiles {
  readonly #s3: S3Client;
  readonly #writable: readonly string[];

  constructor(s3: S3Client, writableLocations: readonly string[]) {
    this.#s3 = s3;
    this.#writable = writableLocations.map((location) => `${location.replace(/\/+$/, '')}/`);
    for (const location of this.#writable) {
      if (!parseS3Url(`${location}x`)) {
        throw new TerminalError(`writable location ${location} is not an s3://bucket/prefix URL`);
      }
    }
  }

  /**
   * The files a manifest lists. A missing manifest lists nothing: Athena may not write one when a query
   * fails abruptly, and a CTAS that found its table already there wrote nothing.
   */
  async filesOf(manifestUrl: string, where: string): Promise<string[]> {
    const location = parseS3Url(manifestUrl);
    if (!location) throw new TerminalError(`${where}: data manifest ${manifestUrl} is not an s3:// URL`);
    const body = await new S3ObjectStore(this.#s3, { bucket: location.bucket }).get(location.key);
    if (body === undefined) return [];
    return new TextDecoder()
      .decode(body)
      .split(/\r?\n/)
      .map((line) => line.trim().replace(/^"(.*)"$/, '$1'))
      .filter((line) => line !== '');
  }

  /** Deletes the files, after checking that every one of them lies under a writable location. */
  async delete(urls: readonly string[], where: string): Promise<void> {
    const byBucket = new Map<string, string[]>();
    for (const url of urls) {
      const location = parseS3Url(url);
      if (!location || !this.#writable.some((prefix) => url.startsWith(prefix))) {
        throw new TerminalError(
          `${where}: refusing to delete ${url}: not under the writable locations ${this.#writable.join(', ')}`,
        );
      }
      byBucket.set(location.bucket, [...(byBucket.get(location.bucket) ?? []), location.key]);
    }
    for (const [bucket, keys] of byBucket) {
      await new S3ObjectStore(this.#s3, { bucket }).delete(keys);
    }
  }
}
