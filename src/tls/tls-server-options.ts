/**
 * The TLS options of Stratum's servers, from a checked pair and the `tls.clientAuth` setting. The
 * HTTP and gRPC servers take them at creation and a new context on reload.
 */
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import type { TlsConfig } from '../config/index.ts';
import type { TlsMaterial } from './tls-material.ts';

/** How client certificates are treated (`tls.clientAuth`). */
export type ClientAuth = TlsConfig['clientAuth'];

/** What a server needs to speak TLS: the pair being served and the client-certificate policy. */
export interface ServerTls {
  readonly material: TlsMaterial;
  readonly clientAuth: ClientAuth;
}

/** The parts of a TLS setup that a reload replaces (certificate, key, CA bundle). */
export function secureContextOf(material: TlsMaterial): SecureContextOptions {
  return { cert: material.cert, key: material.key, ...(material.ca !== undefined && { ca: material.ca }) };
}

/**
 * Whether to ask for a client certificate and whether to refuse a connection without a valid one.
 * These belong to the server, not the context, so they stay as they were across reloads.
 */
export function clientCertificateOptions(clientAuth: ClientAuth): {
  requestCert: boolean;
  rejectUnauthorized: boolean;
} {
  return { requestCert: clientAuth !== 'none', rejectUnauthorized: clientAuth === 'require' };
}

/** Options of `https.createServer` (Fastify's `https`). */
export function httpsOptionsOf(tls: ServerTls): HttpsServerOptions {
  return { ...secureContextOf(tls.material), ...clientCertificateOptions(tls.clientAuth) };
}
