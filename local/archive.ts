import { closeSync, fstatSync, ftruncateSync, openSync, readFileSync, readSync } from 'node:fs';
import * as z from 'zod';
import { EventBridgeEnvelopeSchema } from '../events/index.js';
import { systemErrorCode } from '../services/shared/errors.js';

/** One line of `<state-dir>/events/archive.ndjson`: the bus name and the envelope as targets received it. */
export const ArchivedEventSchema = EventBridgeEnvelopeSchema.extend({ bus: z.string().min(1) });
export type ArchivedEvent = z.infer<typeof ArchivedEventSchema>;

export class ArchiveError extends Error {
  override readonly name = 'ArchiveError';
}

export interface ArchiveContents {
  events: ArchivedEvent[];
  /** Set when the last line was cut short (a process killed while appending): it is skipped, and said so. */
  truncatedLastLine?: number;
}

/**
 * Reads and validates the local archive. A missing file is an empty archive. A bad line in the middle is an
 * error naming the line; a bad last line without its newline is what a crash mid-append leaves, and is skipped.
 */
export function readArchive(file: string): ArchiveContents {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (systemErrorCode(error) === 'ENOENT') return { events: [] };
    throw error;
  }
  const lines = text.split('\n');
  const complete = text.endsWith('\n');
  if (complete) lines.pop();
  const events: ArchivedEvent[] = [];
  let truncatedLastLine: number | undefined;
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const lineNumber = index + 1;
    const parsed = parseLine(line);
    if (parsed.success) {
      events.push(parsed.data);
    } else if (!complete && index === lines.length - 1) {
      truncatedLastLine = lineNumber;
    } else {
      throw new ArchiveError(`${file} line ${lineNumber}: ${parsed.error}`);
    }
  }
  return truncatedLastLine === undefined ? { events } : { events, truncatedLastLine };
}

/**
 * Cuts a last line that has no newline (what a process killed mid-append leaves) off the archive, before anything
 * is appended: appended to, it would be glued to the next event, and that line, no longer the last, would make
 * every later reading of the archive fail. Returns the bytes dropped (0 when the archive ends whole or is absent).
 * Only the bus that owns the state folder appends, so no other writer is cut short.
 */
export function dropTornLastLine(file: string): number {
  let fd: number;
  try {
    fd = openSync(file, 'r+');
  } catch (error) {
    if (systemErrorCode(error) === 'ENOENT') return 0;
    throw error;
  }
  try {
    const size = fstatSync(fd).size;
    const chunk = Buffer.alloc(64 * 1024);
    // Reads backwards from the end to the last newline; a file whose last byte is one is whole.
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      const read = readSync(fd, chunk, 0, end - start, start);
      const newline = chunk.subarray(0, read).lastIndexOf(0x0a);
      if (newline >= 0) {
        const keep = start + newline + 1;
        if (keep < size) ftruncateSync(fd, keep);
        return size - keep;
      }
      end = start;
    }
    if (size > 0) ftruncateSync(fd, 0);
    return size;
  } finally {
    closeSync(fd);
  }
}

function parseLine(line: string): { success: true; data: ArchivedEvent } | { success: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { success: false, error: 'not valid JSON' };
  }
  const parsed = ArchivedEventSchema.safeParse(json);
  return parsed.success
    ? { success: true, data: parsed.data }
    : { success: false, error: `not an archived event: ${z.prettifyError(parsed.error)}` };
}

export interface ArchiveSelection {
  /** Inclusive, as EventBridge's EventStartTime. */
  since?: Date;
  /** Exclusive, as EventBridge's EventEndTime ("events with a creation time prior to"). */
  until?: Date;
  detailTypes?: readonly string[];
  runId?: string;
}

/** The archived events a replay or a listing selects, in archive (publication) order. */
export function selectEvents(events: readonly ArchivedEvent[], selection: ArchiveSelection): ArchivedEvent[] {
  return events.filter((event) => {
    const time = Date.parse(event.time);
    if (selection.since && time < selection.since.getTime()) return false;
    if (selection.until && time >= selection.until.getTime()) return false;
    if (
      selection.detailTypes &&
      selection.detailTypes.length > 0 &&
      !selection.detailTypes.includes(event['detail-type'])
    ) {
      return false;
    }
    if (selection.runId !== undefined && runIdOf(event) !== selection.runId) return false;
    return true;
  });
}

const RunIdField = z.object({ runId: z.string() });

/** The run an event belongs to, when its detail names one (every fleet-etl event does). */
export function runIdOf(event: { detail: unknown }): string | undefined {
  const parsed = RunIdField.safeParse(event.detail);
  return parsed.success ? parsed.data.runId : undefined;
}

/** The envelope as targets receive it (without the archive's bus name). */
export function envelopeOf({ bus: _bus, ...envelope }: ArchivedEvent) {
  return envelope;
}
