// The loader hooks of record-module-loads.mjs: they run on Node.js's hooks thread.
import { appendFileSync } from 'node:fs';

let file;

export function initialize(data) {
  file = data.file;
}

export async function load(url, context, nextLoad) {
  const loaded = await nextLoad(url, context);
  if (!url.startsWith('node:')) appendFileSync(file, `${url}\n`);
  return loaded;
}
