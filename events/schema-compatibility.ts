/**
 * Whether a new version of an event's JSON Schema can replace the published one without breaking anybody.
 * Events flow both ways in time: consumers built on the old schema read new events, and consumers built on the
 * new schema read old events from the archive (replays). So a change is compatible only if every event valid
 * under one schema stays valid under the other, except for fields added as optional (objects are open, so old
 * consumers ignore them, and old events simply lack them). Everything else — a field removed or renamed, a type
 * narrowed or widened, an enum value added or removed, a field made required or optional, a constraint
 * tightened or loosened — is breaking: publish a new detail-type or schema version instead.
 */

export interface SchemaChange {
  /** JSON path of the change, e.g. `EtlDone.summary.durationMs`. */
  path: string;
  breaking: boolean;
  description: string;
}

type Schema = Record<string, unknown>;

const isSchema = (value: unknown): value is Schema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Keywords that document a schema without constraining events. */
const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', 'examples', '$comment']);
/** Keywords compared by the dedicated checks below. */
const STRUCTURAL = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'items',
  'enum',
  'const',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'anyOf',
]);

export function compareSchemas(previous: unknown, next: unknown, path: string): SchemaChange[] {
  const changes: SchemaChange[] = [];
  compare(previous, next, path, changes);
  return changes;
}

export function breakingChanges(previous: unknown, next: unknown, path: string): SchemaChange[] {
  return compareSchemas(previous, next, path).filter((c) => c.breaking);
}

function compare(previous: unknown, next: unknown, path: string, changes: SchemaChange[]): void {
  const breaking = (description: string) => changes.push({ path, breaking: true, description });
  if (!isSchema(previous) || !isSchema(next)) {
    if (JSON.stringify(previous) !== JSON.stringify(next)) breaking('the schema changed shape');
    return;
  }
  const typeBefore = JSON.stringify(previous.type);
  const typeAfter = JSON.stringify(next.type);
  if (typeBefore !== typeAfter) {
    breaking(`type changed from ${typeBefore ?? 'any'} to ${typeAfter ?? 'any'}`);
    return;
  }
  compareObjects(previous, next, path, changes);
  compareList('enum', previous, next, path, changes);
  if (JSON.stringify(previous.const) !== JSON.stringify(next.const)) {
    breaking(`constant changed from ${JSON.stringify(previous.const)} to ${JSON.stringify(next.const)}`);
  }
  for (const bound of ['minimum', 'exclusiveMinimum', 'minLength', 'minItems'] as const) {
    compareBound(bound, previous[bound], next[bound], 'lower', path, changes);
  }
  for (const bound of ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems'] as const) {
    compareBound(bound, previous[bound], next[bound], 'upper', path, changes);
  }
  if ('items' in previous || 'items' in next) compare(previous.items, next.items, `${path}[]`, changes);
  if ('anyOf' in previous || 'anyOf' in next) compareAlternatives(previous.anyOf, next.anyOf, path, changes);
  if ('propertyNames' in previous || 'propertyNames' in next) {
    compare(previous.propertyNames ?? {}, next.propertyNames ?? {}, `${path}{keys}`, changes);
  }
  const keywords = new Set([...Object.keys(previous), ...Object.keys(next)]);
  for (const keyword of keywords) {
    if (ANNOTATIONS.has(keyword) || STRUCTURAL.has(keyword)) continue;
    if (JSON.stringify(previous[keyword]) !== JSON.stringify(next[keyword])) {
      breaking(
        `"${keyword}" changed from ${JSON.stringify(previous[keyword])} to ${JSON.stringify(next[keyword])}`,
      );
    }
  }
}

function compareObjects(previous: Schema, next: Schema, path: string, changes: SchemaChange[]): void {
  const before = isSchema(previous.properties) ? previous.properties : {};
  const after = isSchema(next.properties) ? next.properties : {};
  const requiredBefore = new Set(stringsOf(previous.required));
  const requiredAfter = new Set(stringsOf(next.required));
  for (const [name, schema] of Object.entries(before)) {
    const at = `${path}.${name}`;
    if (!(name in after)) {
      changes.push({
        path: at,
        breaking: true,
        description: 'field removed (or renamed): consumers reading it break',
      });
      continue;
    }
    if (requiredBefore.has(name) && !requiredAfter.has(name)) {
      changes.push({
        path: at,
        breaking: true,
        description: 'field became optional: consumers relying on it break',
      });
    }
    if (!requiredBefore.has(name) && requiredAfter.has(name)) {
      changes.push({
        path: at,
        breaking: true,
        description: 'field became required: archived events lack it',
      });
    }
    compare(schema, after[name], at, changes);
  }
  for (const name of Object.keys(after)) {
    if (name in before) continue;
    const at = `${path}.${name}`;
    if (requiredAfter.has(name)) {
      changes.push({
        path: at,
        breaking: true,
        description: 'required field added: archived events lack it',
      });
    } else {
      changes.push({ path: at, breaking: false, description: 'optional field added' });
    }
  }
  const openBefore = previous.additionalProperties;
  const openAfter = next.additionalProperties;
  if (JSON.stringify(openBefore) !== JSON.stringify(openAfter)) {
    if (isSchema(openBefore) && isSchema(openAfter)) {
      compare(openBefore, openAfter, `${path}{values}`, changes);
    } else {
      changes.push({
        path,
        breaking: true,
        description: `additional properties changed from ${JSON.stringify(openBefore ?? true)} to ${JSON.stringify(openAfter ?? true)}`,
      });
    }
  }
}

/**
 * `anyOf` (a detail sent whole or by reference, events/claim-check.ts): the same alternatives in the same order,
 * each held to the same rules as a schema of its own. Adding or removing an alternative is breaking, as adding or
 * removing an enum value is.
 */
function compareAlternatives(previous: unknown, next: unknown, path: string, changes: SchemaChange[]): void {
  const before = Array.isArray(previous) ? previous : [];
  const after = Array.isArray(next) ? next : [];
  if (!Array.isArray(previous) || !Array.isArray(next) || before.length !== after.length) {
    changes.push({
      path,
      breaking: true,
      description: `alternatives (anyOf) changed from ${before.length} to ${after.length}`,
    });
    return;
  }
  before.forEach((alternative, i) => {
    compare(alternative, after[i], `${path}|${i}`, changes);
  });
}

function compareList(keyword: 'enum', previous: Schema, next: Schema, path: string, changes: SchemaChange[]) {
  if (!(keyword in previous) && !(keyword in next)) return;
  const before = (Array.isArray(previous[keyword]) ? previous[keyword] : []).map((v) => JSON.stringify(v));
  const after = (Array.isArray(next[keyword]) ? next[keyword] : []).map((v) => JSON.stringify(v));
  const removed = before.filter((v) => !after.includes(v));
  const added = after.filter((v) => !before.includes(v));
  if (removed.length > 0) {
    changes.push({
      path,
      breaking: true,
      description: `enum narrowed: ${removed.join(', ')} removed (archived events hold them)`,
    });
  }
  if (added.length > 0) {
    changes.push({
      path,
      breaking: true,
      description: `enum widened: ${added.join(', ')} added (consumers reject unknown values)`,
    });
  }
}

function compareBound(
  keyword: string,
  before: unknown,
  after: unknown,
  side: 'lower' | 'upper',
  path: string,
  changes: SchemaChange[],
): void {
  if (before === after) return;
  if (typeof before === 'number' && typeof after === 'number') {
    const narrowed = side === 'lower' ? after > before : after < before;
    changes.push({
      path,
      breaking: true,
      description: `${keyword} ${narrowed ? 'narrowed' : 'widened'} from ${before} to ${after}`,
    });
    return;
  }
  changes.push({
    path,
    breaking: true,
    description: `${keyword} ${before === undefined ? 'added' : after === undefined ? 'removed' : 'changed'}: ${JSON.stringify(before)} → ${JSON.stringify(after)}`,
  });
}

function stringsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
