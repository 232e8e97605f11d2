/** Small TLS clients for tests: the certificate a port presents, and HTTPS JSON requests. */
import { request } from 'node:https';
import { connect } from 'node:tls';

/** TLS options of a test client. */
export interface ClientTls {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/**
 * The SHA-256 fingerprint of the certificate 127.0.0.1:`port` presents on a new connection (the
 * chain is not verified: the question is which certificate is served).
 */
export function servedFingerprint(port: number, alpn?: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      rejectUnauthorized: false,
      ...(alpn !== undefined && { ALPNProtocols: [...alpn] }),
    });
    socket.once('secureConnect', () => {
      const fingerprint = socket.getPeerX509Certificate()?.fingerprint256;
      socket.end();
      if (fingerprint === undefined) reject(new Error('no peer certificate'));
      else resolve(fingerprint);
    });
    socket.once('error', reject);
  });
}

/** A JSON request over HTTPS (a new connection each time); resolves with status and parsed body. */
export function httpsJson(
  url: string,
  options: ClientTls & { method?: string; body?: unknown; headers?: Record<string, string> },
): Promise<{ status: number; json: unknown }> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? (payload === undefined ? 'GET' : 'POST'),
        agent: false,
        headers: { ...(payload !== undefined && { 'content-type': 'application/json' }), ...options.headers },
        ...(options.ca !== undefined && { ca: options.ca }),
        ...(options.cert !== undefined && { cert: options.cert }),
        ...(options.key !== undefined && { key: options.key }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = text;
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
