import type { EventPattern as CdkEventPattern } from 'aws-cdk-lib/aws-events';
import type { EventPattern } from '../topology.js';

/** Envelope fields of an EventBridge pattern, by the name the topology uses and the name CDK uses. */
const ENVELOPE_FIELDS = {
  version: 'version',
  id: 'id',
  'detail-type': 'detailType',
  source: 'source',
  account: 'account',
  time: 'time',
  region: 'region',
  resources: 'resources',
} as const satisfies Record<string, Exclude<keyof CdkEventPattern, 'detail'>>;

const isEnvelopeField = (field: string): field is keyof typeof ENVELOPE_FIELDS =>
  Object.hasOwn(ENVELOPE_FIELDS, field);

export class UnsupportedEventPatternError extends Error {
  override readonly name = 'UnsupportedEventPatternError';
}

/**
 * The topology writes patterns as EventBridge does (`detail-type`); CDK's EventPattern spells envelope fields in
 * camelCase and renders them back. `detail` passes through unchanged.
 */
export function toCdkEventPattern(pattern: EventPattern): CdkEventPattern {
  const converted: { -readonly [K in keyof CdkEventPattern]: CdkEventPattern[K] } = {};
  for (const [field, value] of Object.entries(pattern)) {
    if (field === 'detail') {
      if (Array.isArray(value)) throw new UnsupportedEventPatternError('`detail` must be an object pattern');
      converted.detail = value;
    } else if (isEnvelopeField(field)) {
      if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string')) {
        throw new UnsupportedEventPatternError(`\`${field}\` must be a list of strings`);
      }
      converted[ENVELOPE_FIELDS[field]] = [...value];
    } else {
      throw new UnsupportedEventPatternError(`unknown event pattern field \`${field}\``);
    }
  }
  return converted;
}
