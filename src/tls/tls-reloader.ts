/**
 * Keeps a server's TLS pair current: watches the folders of the certificate, key and CA files
 * (a folder, not the files: an atomic replace by rename, or Kubernetes swapping its `..data`
 * symlink, gives the file a new inode that a watch on the old one never hears of), re-reads them
 * once the writes settle, and hands a new pair to `onChange` only when it is a valid pair. A pair
 * that stays invalid is logged with the reason and the old one keeps being served: a half-done
 * rotation never stops a server.
 */
import { type FSWatcher, watch } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../logging/logger.ts';
import { readTlsMaterial, type TlsFiles, type TlsMaterial } from './tls-material.ts';

/** Options of {@link watchTlsFiles}. */
export interface TlsReloaderOptions {
  readonly files: TlsFiles;
  /** The pair being served (read at start-up). */
  readonly initial: TlsMaterial;
  readonly logger: Logger;
  /** Called with each new valid pair. */
  readonly onChange: (material: TlsMaterial) => void;
  /** Quiet time after a change before the files are read (ms). @default 100 */
  readonly debounceMs?: number;
  /**
   * How long the files may stay an invalid pair before that is logged (ms): a certificate and its
   * key are two writes, and between them the pair does not match. @default 1000
   */
  readonly settleMs?: number;
}

/** A running watch. */
export interface TlsReloader {
  /** The pair being served. */
  readonly current: TlsMaterial;
  /** Re-reads the files now; resolves true when a new pair was taken. */
  reload(): Promise<boolean>;
  /** Stops watching. Idempotent. */
  close(): void;
}

/** Starts watching the files' folders. */
export function watchTlsFiles(options: TlsReloaderOptions): TlsReloader {
  const { files, logger } = options;
  const debounceMs = options.debounceMs ?? 100;
  const settleMs = options.settleMs ?? 1000;
  let current = options.initial;
  let timer: NodeJS.Timeout | undefined;
  let lastChangeAt = 0;
  let closed = false;
  let reading: Promise<boolean> | undefined;
  let lastLoggedFailure: string | undefined;

  const schedule = (delayMs: number): void => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => void attempt(), delayMs);
    timer.unref();
  };

  const attempt = async (): Promise<void> => {
    try {
      await reload();
    } catch (error) {
      // Still mid-rotation: look again once the writes have had time to settle.
      const settled = Date.now() - lastChangeAt >= settleMs;
      if (!settled) {
        schedule(settleMs);
        return;
      }
      const reason = (error as Error).message;
      if (reason !== lastLoggedFailure) {
        lastLoggedFailure = reason;
        logger.warn(
          { certFile: files.certFile, keyFile: files.keyFile, reason, serving: current.fingerprint },
          'TLS files changed but are not a valid pair: still serving the previous certificate',
        );
      }
    }
  };

  const reload = (): Promise<boolean> => {
    reading ??= (async () => {
      try {
        const next = await readTlsMaterial(files);
        if (closed || next.digest === current.digest) return false;
        const previous = current;
        current = next;
        lastLoggedFailure = undefined;
        options.onChange(next);
        logger.info(
          { fingerprint: next.fingerprint, previous: previous.fingerprint, validTo: next.validTo },
          'TLS certificate reloaded: new connections use it',
        );
        return true;
      } finally {
        reading = undefined;
      }
    })();
    return reading;
  };

  const folders = [...new Set([files.certFile, files.keyFile, files.caFile].filter(isString).map((f) => dirname(f)))];
  const watchers: FSWatcher[] = folders.map((folder) => {
    const watcher = watch(folder, { persistent: false }, () => {
      lastChangeAt = Date.now();
      schedule(debounceMs);
    });
    watcher.on('error', (error) => {
      logger.warn({ folder, err: error }, 'watching TLS files failed: certificate changes are no longer picked up');
    });
    return watcher;
  });

  return {
    get current() {
      return current;
    },
    reload,
    close() {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
    },
  };
}

function isString(value: string | undefined): value is string {
  return value !== undefined;
}
