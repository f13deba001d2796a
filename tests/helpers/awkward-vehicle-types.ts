/**
 * Vehicle types an API may send that no folder name could hold as written, and must come back exactly as sent, each
 * its own group of the answer (docs/decisions/0089): the names Hive and DuckDB read back as NULL, in every case;
 * types that differ by case only (one folder on macOS and Windows); what a path or a URL gives meaning to; text
 * longer than a folder name; and Unicode that looks alike but is not the same text (composed and decomposed
 * accents, a byte-order mark, right-to-left override, joined emoji). Plain types are kept among them, so that the
 * readable keys are proven beside the hashed ones.
 */
export const AWKWARD_VEHICLE_TYPES: readonly string[] = [
  'bus',
  'Bus',
  'BUS',
  'semi-trailer',
  'NULL',
  'null',
  'Null',
  '__HIVE_DEFAULT_PARTITION__',
  '__hive_default_partition__',
  '中'.repeat(300),
  '中'.repeat(26),
  'x'.repeat(1024),
  'emoji 🚚',
  '👩‍🔧',
  '/../',
  'bus/../../etc',
  '..',
  '.',
  '%',
  '50% off',
  '%2F',
  '=',
  'a=b',
  'Kühlwagen',
  'Ku\u0308hlwagen',
  '\uFEFFbom',
  '\u202Eright-to-left',
  'two  spaces ',
  ' ',
  "it's",
  'tab\there',
  'line\nbreak',
  'nul\u0000char',
  '#hash?query&and',
  '\\back\\slash',
  '_',
  '-',
  'NULLABLE',
  'nil',
];

/** What a partition folder of the warehouse may be named: a plain key or a hashed one (lake-keys.ts). */
export const SAFE_PARTITION_KEY = /^(?:[a-z0-9-][a-z0-9_-]{0,63}|_[0-9a-f]{32})$/;
