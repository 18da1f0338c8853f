/**
 * Collects what is written to stdout — where @actions/core writes its workflow commands
 * (`::warning::`, `::error::`) — until released; each chunk as written.
 */
export function captureStdout(): { written: string[]; release(): void } {
  const written: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => (
    written.push(String(chunk)),
    true
  )) as typeof process.stdout.write;
  return { written, release: () => void (process.stdout.write = write) };
}
