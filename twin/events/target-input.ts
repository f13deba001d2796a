import { randomUUID } from 'node:crypto';
import type { TargetInput } from '../template/stack-model.js';

/** A target input the twin cannot shape exactly (a path or a placeholder it does not implement). */
class UnsupportedTargetInputError extends Error {
  override readonly name = 'UnsupportedTargetInputError';
}

/** Reads a simple JSON path (`$`, `$.time`, `$.detail.runId`) from an event. */
function atPath(event: unknown, path: string): unknown {
  if (path === '$') return event;
  if (!/^\$(\.[A-Za-z0-9_-]+)+$/.test(path))
    throw new UnsupportedTargetInputError(`the twin reads only $.a.b paths, not ${path}`);
  let value: unknown = event;
  for (const key of path.slice(2).split('.')) {
    value = typeof value === 'object' && value !== null ? Reflect.get(value, key) : undefined;
  }
  return value;
}

/**
 * What a rule target delivers for an event: the event itself, the target's constant Input, or its
 * InputTransformer applied. A placeholder inside quotes takes the value as text; a bare one takes it as JSON
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html).
 */
export function targetPayload(input: TargetInput, event: unknown): unknown {
  if (input.kind === 'event') return event;
  if (input.kind === 'constant') return JSON.parse(input.json);
  const values = new Map(Object.entries(input.paths).map(([name, path]) => [name, atPath(event, path)]));
  const text = input.template.replace(
    /("?)<([A-Za-z0-9_.-]+)>("?)/g,
    (_match, open: string, name: string, close: string) => {
      if (!values.has(name))
        throw new UnsupportedTargetInputError(`placeholder <${name}> is not in InputPathsMap`);
      const value = values.get(name);
      if (open === '"' && close === '"')
        return JSON.stringify(typeof value === 'string' ? value : JSON.stringify(value ?? null));
      return `${open}${JSON.stringify(value ?? null)}${close}`;
    },
  );
  return JSON.parse(text);
}

/** The event a scheduled EventBridge rule sends when a schedule fires (detail-type "Scheduled Event"). */
export function scheduledEvent(options: { time: Date; ruleArn: string; account: string; region: string }) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: options.account,
    time: options.time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: options.region,
    resources: [options.ruleArn],
    detail: {},
  };
}
