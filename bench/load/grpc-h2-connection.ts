/**
 * A minimal HTTP/2 client connection for the gRPC load generator, on a raw TCP socket (as
 * rest-load.ts is for HTTP/1.1): it sends one constant request — a HEADERS frame encoded once
 * (HPACK literals, no dynamic table, so the block never changes) and the framed message as one
 * DATA frame — and reads frame headers only. Node's own `http2` client costs more CPU per call
 * than the server it loads (~290 µs against ~160 µs in a canned c=1 run), which would put the
 * generator, not the server, in the measured latency.
 *
 * A call succeeds when its stream carried DATA and ended with a HEADERS frame (the trailers): gRPC
 * servers send no message with a failed unary call, so a failure is a trailers-only response or a
 * RST_STREAM. The load generator's first call on each connection goes through `node:http2` and
 * checks `grpc-status` and the decoded reply properly.
 */
import { connect, type Socket } from 'node:net';

const FRAME_HEADER = 9;
const DATA = 0;
const HEADERS = 1;
const RST_STREAM = 3;
const SETTINGS = 4;
const PING = 6;
const GOAWAY = 7;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const ACK = 0x1;
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const MAX_WINDOW = 2 ** 31 - 1;
// The default SETTINGS_MAX_FRAME_SIZE, which every server accepts.
const MAX_FRAME = 16_384;

/** HPACK (RFC 7541) integer with an `prefixBits`-bit prefix, first byte OR-ed with `flags`. */
function hpackInt(value: number, prefixBits: number, flags: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [flags | value];
  const out = [flags | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
}

function hpackString(text: string): number[] {
  const bytes = Buffer.from(text, 'latin1');
  return [...hpackInt(bytes.length, 7, 0), ...bytes];
}

/** Literal without indexing, name from the static table (index) or literal (name). */
function literal(name: number | string, value: string): number[] {
  const head = typeof name === 'number' ? hpackInt(name, 4, 0) : [0, ...hpackString(name)];
  return [...head, ...hpackString(value)];
}

function frameHeader(input: { length: number; type: number; flags: number; stream: number }): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER);
  out.writeUIntBE(input.length, 0, 3);
  out[3] = input.type;
  out[4] = input.flags;
  out.writeUInt32BE(input.stream, 5);
  return out;
}

/** One connection. */
export interface GrpcH2Connection {
  /** Sends the request; resolves when the call ends, true when it carried a reply message. */
  call(): Promise<boolean>;
  close(): void;
}

/** Opens a connection to `127.0.0.1:port` for unary calls to `path` with `framed` as the body. */
export function openGrpcH2Connection(options: {
  port: number;
  path: string;
  framed: Buffer;
}): Promise<GrpcH2Connection> {
  const { port, path, framed } = options;
  const block = Buffer.from([
    0x83, // :method POST (static 3)
    0x86, // :scheme http (static 6)
    ...literal(4, path), // :path
    ...literal(1, `127.0.0.1:${port}`), // :authority
    ...literal(31, 'application/grpc'), // content-type
    ...literal('te', 'trailers'),
  ]);
  // The body as DATA frames of at most MAX_FRAME bytes, the last one ending the stream.
  const pieces: Buffer[] = [];
  for (let at = 0; at < framed.length; at += MAX_FRAME) pieces.push(framed.subarray(at, at + MAX_FRAME));
  const dataHeaders = pieces.map((piece, i) =>
    frameHeader({ length: piece.length, type: DATA, flags: i === pieces.length - 1 ? END_STREAM : 0, stream: 0 }),
  );

  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ port, host: '127.0.0.1', noDelay: true });
    socket.once('error', reject);
    const pending = new Map<number, { data: boolean; done: (ok: boolean) => void }>();
    let nextStream = 1;
    let received = 0;
    let buffered: Buffer = Buffer.alloc(0);
    let failed: Error | undefined;

    const fail = (error: Error): void => {
      failed ??= error;
      for (const p of pending.values()) p.done(false);
      pending.clear();
      socket.destroy();
    };
    socket.on('close', () => fail(new Error('connection closed')));
    socket.on('error', (error) => fail(error));

    const onFrame = (frame: { type: number; flags: number; stream: number; payload: Buffer }): void => {
      const { type, flags, stream, payload } = frame;
      if (type === SETTINGS && (flags & ACK) === 0) {
        socket.write(frameHeader({ length: 0, type: SETTINGS, flags: ACK, stream: 0 }));
        // The server's settings (and the window it opens with them) have arrived: ready for calls.
        ready();
      } else if (type === PING && (flags & ACK) === 0) {
        socket.write(Buffer.concat([frameHeader({ length: 8, type: PING, flags: ACK, stream: 0 }), payload]));
      } else if (type === GOAWAY) {
        fail(new Error('GOAWAY from the server'));
      } else if (type === DATA) {
        const p = pending.get(stream);
        if (p !== undefined) p.data = true;
        // Give the connection's window back long before it runs out (streams start at 2^31-1).
        received += payload.length;
        if (received > 2 ** 30) {
          const update = Buffer.allocUnsafe(4);
          update.writeUInt32BE(received, 0);
          socket.write(Buffer.concat([frameHeader({ length: 4, type: 8, flags: 0, stream: 0 }), update]));
          received = 0;
        }
      } else if ((type === HEADERS && (flags & END_STREAM) !== 0) || type === RST_STREAM) {
        const p = pending.get(stream);
        if (p === undefined) return;
        pending.delete(stream);
        p.done(type === HEADERS && p.data);
      }
    };

    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      let offset = 0;
      while (buffered.length - offset >= FRAME_HEADER) {
        const length = buffered.readUIntBE(offset, 3);
        if (buffered.length - offset < FRAME_HEADER + length) break;
        const type = buffered[offset + 3] as number;
        const flags = buffered[offset + 4] as number;
        const stream = buffered.readUInt32BE(offset + 5) & 0x7fffffff;
        onFrame({
          type,
          flags,
          stream,
          payload: buffered.subarray(offset + FRAME_HEADER, offset + FRAME_HEADER + length),
        });
        offset += FRAME_HEADER + length;
      }
      buffered = offset === buffered.length ? Buffer.alloc(0) : buffered.subarray(offset);
    });

    let ready: () => void = () => undefined;
    socket.once('connect', () => {
      socket.off('error', reject);
      // Preface, then SETTINGS: push off, the largest stream window; then the connection window.
      const settings = Buffer.alloc(12);
      settings.writeUInt16BE(0x2, 0);
      settings.writeUInt32BE(0, 2);
      settings.writeUInt16BE(0x4, 6);
      settings.writeUInt32BE(MAX_WINDOW, 8);
      const update = Buffer.allocUnsafe(4);
      update.writeUInt32BE(MAX_WINDOW - 65_535, 0);
      socket.write(
        Buffer.concat([
          PREFACE,
          frameHeader({ length: settings.length, type: SETTINGS, flags: 0, stream: 0 }),
          settings,
          frameHeader({ length: 4, type: 8, flags: 0, stream: 0 }),
          update,
        ]),
      );
      const connection: GrpcH2Connection = {
        call() {
          if (failed !== undefined) return Promise.reject(failed);
          const stream = nextStream;
          nextStream += 2;
          const headers = frameHeader({ length: block.length, type: HEADERS, flags: END_HEADERS, stream });
          return new Promise((done) => {
            pending.set(stream, { data: false, done });
            socket.cork();
            socket.write(headers);
            socket.write(block);
            for (let i = 0; i < pieces.length; i++) {
              const data = Buffer.from(dataHeaders[i] as Buffer);
              data.writeUInt32BE(stream, 5);
              socket.write(data);
              socket.write(pieces[i] as Buffer);
            }
            socket.uncork();
          });
        },
        close() {
          socket.end();
        },
      };
      ready = () => {
        ready = () => undefined;
        resolve(connection);
      };
    });
  });
}
