/** Runs a CLI command in this process and returns its exit code and what it wrote to stdout. */
export async function stdoutOf(command: () => Promise<number>): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    const code = await command();
    return { code, out: chunks.join('') };
  } finally {
    process.stdout.write = original;
  }
}
