import { randomUUID } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ObjectBody, ObjectStore } from '../../ports/object-store.js';
import { systemErrorCode } from '../../shared/errors.js';

/** A write in progress: `.<object name>.<uuid>.tmp` beside the object it becomes. */
const TEMPORARY_FILE = /^\..+\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp$/;

/**
 * A bucket as a folder. Writes go to a temporary file in the same folder, are flushed to the disk and renamed
 * into place, so a reader (DuckDB's glob) never sees half an object, and neither a crash mid-write nor a power
 * loss after the rename leaves a cut object under the key.
 */
export class FsObjectStore implements ObjectStore {
  /**
   * Removes the temporary files of writes a killed process never finished, below `root`; returns how many. Only
   * for the process that owns the state folder (its lock), before it writes: another writer's would go too.
   */
  static removeAbandonedWrites(root: string): number {
    let entries: { name: string; parentPath: string; isFile(): boolean }[];
    try {
      entries = readdirSync(root, { recursive: true, withFileTypes: true });
    } catch (error) {
      if (isNotFound(error)) return 0;
      throw error;
    }
    const abandoned = entries.filter((entry) => entry.isFile() && TEMPORARY_FILE.test(entry.name));
    for (const entry of abandoned) rmSync(path.join(entry.parentPath, entry.name), { force: true });
    return abandoned.length;
  }

  readonly location: string;

  constructor(private readonly root: string) {
    this.location = pathToFileURL(path.resolve(root)).href.replace(/\/$/, '');
  }

  pathOf(key: string): string {
    const resolved = path.resolve(this.root, key);
    if (!resolved.startsWith(path.resolve(this.root) + path.sep)) {
      throw new RangeError(`object key escapes the store: "${key}"`);
    }
    return resolved;
  }

  async put(key: string, body: ObjectBody, _options?: { contentType?: string }): Promise<{ bytes: number }> {
    const target = this.pathOf(key);
    await mkdir(path.dirname(target), { recursive: true });
    const temporary = path.join(path.dirname(target), `.${path.basename(target)}.${randomUUID()}.tmp`);
    try {
      const bytes = await writeBody(temporary, body);
      await rename(temporary, target);
      return { bytes };
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.pathOf(key));
    } catch (error) {
      // A folder is where keys sharing a prefix live, not an object: S3 holds no object under such a key either.
      if (isNotFound(error) || systemErrorCode(error) === 'EISDIR') return undefined;
      throw error;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(key))).isFile();
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const root = path.resolve(this.root);
    let entries: string[];
    try {
      entries = await readdir(root, { recursive: true });
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
    const keys: string[] = [];
    for (const entry of entries) {
      const key = entry.split(path.sep).join('/');
      // Only the temporary files of writes in progress are hidden: any other key, a leading dot or not, is listed
      // as a bucket lists it.
      if (key.startsWith(prefix) && !TEMPORARY_FILE.test(path.basename(key)) && (await this.exists(key))) {
        keys.push(key);
      }
    }
    return keys.sort();
  }

  async delete(keys: readonly string[]): Promise<void> {
    await Promise.all(keys.map((key) => rm(this.pathOf(key), { force: true })));
  }
}

/**
 * Writes the body through a file handle, flushed to the disk before it returns. Promises rather than a write stream:
 * a stream reports a failed write (a full disk) as an 'error' event too, which, with nobody listening once the
 * write's own callback has failed, ends the process with a stack trace instead of failing this put.
 */
async function writeBody(file: string, body: ObjectBody): Promise<number> {
  const handle = await open(file, 'wx');
  let bytes = 0;
  try {
    if (typeof body === 'string') {
      bytes += (await handle.write(body)).bytesWritten;
    } else if (ArrayBuffer.isView(body)) {
      bytes += (await handle.write(body)).bytesWritten;
    } else {
      for await (const chunk of body) bytes += (await handle.write(chunk)).bytesWritten;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return bytes;
}

function isNotFound(error: unknown): boolean {
  return systemErrorCode(error) === 'ENOENT';
}
