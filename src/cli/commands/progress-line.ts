/**
 * One line of progress on stderr. On a terminal it is rewritten in place; otherwise (a log, a
 * pipe, a test) each distinct line is printed once, so a long wait does not flood the output.
 */

/** A progress line; see {@link createProgressLine}. */
export interface ProgressLine {
  /** Shows `line` (ignored when it equals the current one). */
  update(line: string): void;
  /** Ends the line, leaving the last text visible. Idempotent. */
  done(): void;
}

/** Creates a progress line on `stream`. */
export function createProgressLine(stream: NodeJS.WritableStream): ProgressLine {
  const tty = (stream as { isTTY?: boolean }).isTTY === true;
  let current: string | undefined;
  let open = false;
  return {
    update(line) {
      if (line === current) return;
      current = line;
      if (tty) {
        stream.write(`\r\x1b[K${line}`);
        open = true;
      } else stream.write(`${line}\n`);
    },
    done() {
      if (!open) return;
      open = false;
      stream.write('\n');
    },
  };
}
