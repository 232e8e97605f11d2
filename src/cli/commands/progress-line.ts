/**
 * One line of progress on stderr. On a terminal it is rewritten in place on every update;
 * otherwise (a log, a pipe, a CI job) a line is printed only when what it reports changes — its
 * `key` — and never with a carriage return, so a long wait leaves one line per change.
 */

/** A progress line; see {@link createProgressLine}. */
export interface ProgressLine {
  /**
   * Shows `line`. On a terminal it replaces the current line when it differs; elsewhere it is
   * printed when `key` differs from the last printed line's key.
   * @param key what the line reports, without the figures that change on every update. @default line
   */
  update(line: string, key?: string): void;
  /** Ends the line, leaving the last text visible. Idempotent. */
  done(): void;
}

/** Creates a progress line on `stream`. */
export function createProgressLine(stream: NodeJS.WritableStream): ProgressLine {
  const tty = (stream as { isTTY?: boolean }).isTTY === true;
  let current: string | undefined;
  let printedKey: string | undefined;
  let open = false;
  return {
    update(line, key = line) {
      if (tty) {
        if (line === current) return;
        current = line;
        stream.write(`\r\x1b[K${line}`);
        open = true;
        return;
      }
      if (key === printedKey) return;
      printedKey = key;
      stream.write(`${line}\n`);
    },
    done() {
      if (!open) return;
      open = false;
      stream.write('\n');
    },
  };
}
