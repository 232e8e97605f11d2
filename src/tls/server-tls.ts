/**
 * TLS for `stratum serve`, from the `tls` settings: the pair is read and checked before anything
 * listens (a bad file stops the start with CONFIG_INVALID naming it), then both servers (HTTPS and
 * gRPC, both Node TLS servers) are kept on the current pair by one watch of the files.
 */
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { Server as TlsServer } from 'node:tls';
import type { TlsConfig } from '../config/index.ts';
import type { Logger } from '../logging/logger.ts';
import { readTlsMaterial, tlsFilesOf, type TlsFiles } from './tls-material.ts';
import { type TlsReloader, watchTlsFiles } from './tls-reloader.ts';
import { httpsOptionsOf, secureContextOf, type ServerTls } from './tls-server-options.ts';

/** TLS ready for both servers. */
export interface ServerTlsSetup extends ServerTls {
  /** The TLS options of both servers (Fastify's `https`, and `http2.createSecureServer` for gRPC). */
  readonly https: HttpsServerOptions;
  /**
   * Starts watching the files: each new valid pair goes to every server in `servers`
   * (`setSecureContext`: new handshakes use it, open connections keep theirs). The caller closes
   * the reloader.
   */
  watch(options: { servers: readonly TlsServer[] }): TlsReloader;
}

/**
 * Reads the pair of the `tls` settings; undefined when TLS is off.
 * @throws StratumError CONFIG_INVALID naming a missing, unreadable or mismatched file.
 */
export async function prepareServerTls(options: {
  settings: TlsConfig;
  logger: Logger;
}): Promise<ServerTlsSetup | undefined> {
  const { settings, logger } = options;
  const files: TlsFiles | undefined = tlsFilesOf(settings);
  if (files === undefined) return undefined;
  const material = await readTlsMaterial(files);
  logger.info(
    { fingerprint: material.fingerprint, validTo: material.validTo, clientAuth: settings.clientAuth },
    'TLS on for HTTP and gRPC',
  );
  const tls: ServerTls = { material, clientAuth: settings.clientAuth };
  return {
    ...tls,
    https: httpsOptionsOf(tls),
    watch: ({ servers }) =>
      watchTlsFiles({
        files,
        initial: material,
        logger,
        onChange: (next) => {
          const context = secureContextOf(next);
          for (const server of servers) server.setSecureContext(context);
        },
      }),
  };
}
