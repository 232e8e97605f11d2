/** Progress lines on stderr (`[ 12.3s] …`), so stdout stays the clean Markdown report. */

/** A progress logger. */
export interface Progress {
  /** Prints a line prefixed with the time since the run started. */
  log(message: string): void;
  /** Seconds since the run started. */
  elapsed(): number;
}

/** Starts the clock. */
export function createProgress(): Progress {
  const start = performance.now();
  const elapsed = (): number => (performance.now() - start) / 1000;
  return {
    elapsed,
    log(message) {
      process.stderr.write(`[${elapsed().toFixed(1).padStart(6)}s] ${message}\n`);
    },
  };
}
