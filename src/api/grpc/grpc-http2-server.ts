/**
 * A unary-only gRPC server on `node:http2`: the request's one length-prefixed message in, one
 * message and `grpc-status` trailers out (grpc/grpc, doc/PROTOCOL-HTTP2.md). It knows nothing of
 * protobuf or of the inference service: handlers take and return message bytes. It replaced
 * @grpc/grpc-js on the server side, whose own per-call machinery cost several times a plain HTTP/2
 * round trip (docs/BENCHMARKS.md, "gRPC on node:http2").
 */
import {
  createSecureServer,
  createServer,
  type Http2SecureServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type SecureServerOptions,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import { gunzip, inflate } from 'node:zlib';
import { GrpcStatus } from '../../errors/index.ts';
import {
  declaredLength,
  encodeGrpcMessage,
  FRAME_HEADER_BYTES,
  frameMessage,
  parseGrpcTimeout,
  readUnaryFrame,
} from './grpc-wire.ts';

/** One call as a handler sees it. */
export interface GrpcUnaryCall {
  /** The request message (decompressed), a view of the received bytes. */
  readonly message: Buffer;
  /** The request headers: the call's metadata (`-bin` keys still base64), pseudo-headers included. */
  readonly metadata: IncomingHttpHeaders;
  /** The client's address, `host:port`. */
  readonly peer: string;
  /** Time left before the client's deadline (`grpc-timeout`) in ms, when it set one. */
  readonly timeoutMs: number | undefined;
}

/** A handler's answer: a message, or a status other than OK with its message. */
export type GrpcReply =
  | { readonly status: 0; readonly message: Uint8Array; readonly metadata?: Readonly<Record<string, string>> }
  | { readonly status: number; readonly details: string; readonly metadata?: Readonly<Record<string, string>> };

/** Answers one unary call. A throw answers INTERNAL (and is reported to `onError`). */
export type GrpcUnaryHandler = (call: GrpcUnaryCall) => GrpcReply | Promise<GrpcReply>;

/** Options of {@link createGrpcHttp2Server}. */
export interface GrpcHttp2ServerOptions {
  /** The methods, by path (`/inference.GRPCInferenceService/ModelInfer`). */
  readonly handlers: ReadonlyMap<string, GrpcUnaryHandler>;
  /** Largest request message accepted (bytes, after decompression); larger: RESOURCE_EXHAUSTED. */
  readonly maxMessageBytes: number;
  /** TLS options of `http2.createSecureServer` (ALPN `h2`). Absent: plaintext (h2c). */
  readonly tls?: SecureServerOptions;
  /** Told of each handler that threw. @default ignored */
  readonly onError?: (error: unknown) => void;
}

/** The running server. */
export interface GrpcHttp2Server {
  /** Binds and starts; resolves with the bound port. */
  listen(host: string, port: number): Promise<number>;
  /** The TLS server, for a certificate reload (`setSecureContext`); undefined in plaintext. */
  readonly tlsServer: TlsServer | undefined;
  /**
   * Stops accepting connections, sends GOAWAY on the open ones so their calls finish, and after
   * `graceMs` destroys what is still open. Idempotent.
   */
  close(graceMs?: number): Promise<void>;
}

const ACCEPT_ENCODING = 'identity,gzip,deflate';
// Per-stream and per-connection receive windows: the defaults (64 KiB) make a large tensor wait
// for WINDOW_UPDATE round trips.
const STREAM_WINDOW_BYTES = 1 << 20;
const SESSION_WINDOW_BYTES = 16 << 20;

/** Builds the server (not yet listening). */
export function createGrpcHttp2Server(options: GrpcHttp2ServerOptions): GrpcHttp2Server {
  const { handlers, maxMessageBytes } = options;
  const onError = options.onError ?? (() => undefined);
  const settings = {
    // nghttp2 counts buffered frames against this (MiB); a full batch of large requests must fit.
    maxSessionMemory: Math.max(10, Math.ceil((4 * maxMessageBytes) / 2 ** 20)),
    settings: { initialWindowSize: STREAM_WINDOW_BYTES, maxHeaderListSize: 64 * 1024 },
  };
  const server: Http2Server | Http2SecureServer =
    options.tls === undefined
      ? createServer(settings)
      : createSecureServer({ ...options.tls, ...settings, allowHTTP1: false });
  const sessions = new Set<ServerHttp2Session>();

  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    // A client resetting its connection is its business; it must not reach the process.
    session.on('error', () => undefined);
    session.setLocalWindowSize(SESSION_WINDOW_BYTES);
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    serveStream({ stream, headers, options: { handlers, maxMessageBytes, onError } });
  });

  let closing: Promise<void> | undefined;
  return {
    tlsServer: options.tls === undefined ? undefined : (server as Http2SecureServer),
    listen(host, port) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    close(graceMs = 10_000) {
      closing ??= new Promise<void>((resolve) => {
        if (!server.listening) {
          resolve();
          return;
        }
        // Resolves once every session has ended: close() waits for them.
        server.close(() => resolve());
        for (const session of sessions) session.close();
        const timer = setTimeout(() => {
          for (const session of sessions) session.destroy();
        }, graceMs);
        timer.unref();
      });
      return closing;
    },
  };
}

function serveStream(input: {
  stream: ServerHttp2Stream;
  headers: IncomingHttpHeaders;
  options: Required<Pick<GrpcHttp2ServerOptions, 'handlers' | 'maxMessageBytes' | 'onError'>>;
}): void {
  const { stream, headers, options } = input;
  if (headers[':method'] !== 'POST') {
    stream.respond({ ':status': 405, allow: 'POST' }, { endStream: true });
    return;
  }
  const contentType = headers['content-type'];
  if (typeof contentType !== 'string' || !contentType.startsWith('application/grpc')) {
    // An HTTP status, not a gRPC one: the protocol says so for a non-gRPC content type.
    stream.respond({ ':status': 415 }, { endStream: true });
    return;
  }
  const path = headers[':path'] ?? '';
  const handler = options.handlers.get(path);
  if (handler === undefined) {
    answer(stream, { status: GrpcStatus.UNIMPLEMENTED, details: `method ${path} is not implemented` });
    return;
  }
  const timeoutMs = parseGrpcTimeout(headers['grpc-timeout'] as string | undefined);
  let answered = false;
  let timer: NodeJS.Timeout | undefined;
  const finish = (reply: GrpcReply): void => {
    if (answered) return;
    answered = true;
    clearTimeout(timer);
    answer(stream, reply);
  };
  if (timeoutMs !== undefined) {
    timer = setTimeout(() => finish({ status: GrpcStatus.DEADLINE_EXCEEDED, details: 'deadline exceeded' }), timeoutMs);
  }

  const chunks: Buffer[] = [];
  let received = 0;
  stream.on('data', (chunk: Buffer) => {
    if (answered) return;
    chunks.push(chunk);
    received += chunk.length;
    const declared = declaredLength(chunks.length === 1 ? chunk : Buffer.concat(chunks, received));
    if (
      (declared !== undefined && declared > options.maxMessageBytes) ||
      received > options.maxMessageBytes + FRAME_HEADER_BYTES
    ) {
      finish({
        status: GrpcStatus.RESOURCE_EXHAUSTED,
        details: `request message larger than the limit of ${options.maxMessageBytes} bytes (${declared ?? received} bytes)`,
      });
      chunks.length = 0;
    }
  });
  stream.on('end', () => {
    if (answered) return;
    const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received);
    const frame = readUnaryFrame(body);
    if (typeof frame === 'string') {
      finish({ status: GrpcStatus.INTERNAL, details: `request body is not one gRPC message (${frame})` });
      return;
    }
    const run = (message: Buffer): void => {
      const call: GrpcUnaryCall = { message, metadata: headers, peer: peerOf(stream), timeoutMs };
      let result: GrpcReply | Promise<GrpcReply>;
      try {
        result = handler(call);
      } catch (error) {
        options.onError(error);
        finish({ status: GrpcStatus.INTERNAL, details: 'internal error' });
        return;
      }
      if (!(result instanceof Promise)) {
        finish(result);
        return;
      }
      result.then(finish, (error: unknown) => {
        options.onError(error);
        finish({ status: GrpcStatus.INTERNAL, details: 'internal error' });
      });
    };
    if (!frame.compressed) {
      run(frame.message);
      return;
    }
    decompress({ message: frame.message, encoding: headers['grpc-encoding'], limit: options.maxMessageBytes }).then(
      run,
      (reply: GrpcReply) => finish(reply),
    );
  });
}

/** Sends a reply: message then OK trailers, or a trailers-only response with the status. */
function answer(stream: ServerHttp2Stream, reply: GrpcReply): void {
  // The client reset the call (cancelled, or its deadline passed): nobody to answer.
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  if (reply.status === GrpcStatus.OK && 'message' in reply) {
    const framed = frameMessage(reply.message);
    stream.respond(
      {
        ':status': 200,
        'content-type': 'application/grpc+proto',
        'grpc-accept-encoding': ACCEPT_ENCODING,
        ...reply.metadata,
      },
      { waitForTrailers: true },
    );
    stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(framed);
    return;
  }
  stream.respond(
    {
      ':status': 200,
      'content-type': 'application/grpc+proto',
      'grpc-accept-encoding': ACCEPT_ENCODING,
      ...reply.metadata,
      'grpc-status': String(reply.status),
      'grpc-message': encodeGrpcMessage('details' in reply ? reply.details : ''),
    },
    { endStream: true },
  );
  // The rest of the request, if any is still coming, is not needed.
  stream.resume();
}

function decompress(input: { message: Buffer; encoding: unknown; limit: number }): Promise<Buffer> {
  const { message, encoding, limit } = input;
  const method = encoding === 'gzip' ? gunzip : encoding === 'deflate' ? inflate : undefined;
  if (method === undefined) {
    const reply: GrpcReply = {
      status: GrpcStatus.UNIMPLEMENTED,
      details: `compressed message in grpc-encoding ${JSON.stringify(encoding ?? 'identity')}; this server reads ${ACCEPT_ENCODING}`,
    };
    return Promise.reject(reply);
  }
  return new Promise((resolve, reject) => {
    method(message, { maxOutputLength: limit }, (error, out) => {
      if (error === null) {
        resolve(out);
        return;
      }
      const tooLarge = (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
      const reply: GrpcReply = tooLarge
        ? {
            status: GrpcStatus.RESOURCE_EXHAUSTED,
            details: `decompressed request message larger than the limit of ${limit} bytes`,
          }
        : { status: GrpcStatus.INTERNAL, details: `could not decompress the ${String(encoding)} message` };
      reject(reply);
    });
  });
}

function peerOf(stream: ServerHttp2Stream): string {
  const socket = stream.session?.socket;
  return socket === undefined ? 'unknown' : `${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}`;
}
