import { open } from 'node:fs/promises';

/**
 * Flushes a written file to the disk, before it is renamed into place: otherwise a power loss after the rename can
 * leave the name on an empty or cut file, and a full disk surfaces here, as an error of the write, not later.
 */
export async function syncFile(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
