/**
 * Messages between a front-end process and the server, over one Unix socket. A frame is a JSON
 * head and a list of byte blobs (tensor data, raw):
 *
 *     u32 frame length · u32 head length · u32 blob count · u32 length per blob · head · blobs
 *
 * all lengths little-endian. Tensors cross as their bytes, never as text, and the head is small,
 * so encoding a message costs one short `JSON.stringify` (V8's structured serializer, tried first,
 * cost 30–40 µs for one 784-float request on this machine: more than the HTTP parsing it saves).
 *
 * Frames written in one turn of the event loop go out in one write (the socket is corked until the
 * turn's I/O callbacks are done): under load one system call carries many requests or replies.
 */
import type { Socket } from 'node:net';

const U32 = 4;

/** One end of the channel. */
export interface FrameChannel<Out, In> {
  /** Queues a message; it is written with the others of this turn of the event loop. */
  send(head: Out, blobs: readonly Uint8Array[]): void;
  /** Ends the channel (the peer sees the socket close). */
  close(): void;
  /** Resolves when the socket has closed, from either side. */
  readonly closed: Promise<void>;
  /** The handler of incoming messages (the blobs are views of the received bytes); set once. */
  onMessage(handler: (head: In, blobs: Uint8Array[]) => void): void;
}

/** Wraps a connected socket. A frame that cannot be decoded ends the channel with `onError`. */
export function frameChannel<Out, In>(socket: Socket, onError: (error: unknown) => void): FrameChannel<Out, In> {
  let handler: ((head: In, blobs: Uint8Array[]) => void) | undefined;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let corked = false;
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.setNoDelay(true);

  socket.on('data', (chunk: Buffer) => {
    pending.push(chunk);
    pendingBytes += chunk.length;
    try {
      drain();
    } catch (error) {
      onError(error);
      socket.destroy();
    }
  });
  socket.on('error', onError);

  // Takes every complete frame off the front of what has arrived; the rest waits for more bytes.
  function drain(): void {
    while (pendingBytes >= U32) {
      const first = pending[0]!.length >= U32 ? pending[0]! : Buffer.concat(pending);
      const length = first.readUInt32LE(0);
      if (pendingBytes < length) return;
      const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      const rest = all.subarray(length);
      pending = rest.length === 0 ? [] : [rest];
      pendingBytes = rest.length;
      const [head, blobs] = readFrame(all.subarray(0, length));
      handler?.(head as In, blobs);
    }
  }

  return {
    send(head, blobs) {
      if (socket.destroyed) return;
      const json = Buffer.from(JSON.stringify(head), 'utf8');
      const prefix = Buffer.allocUnsafe(U32 * (3 + blobs.length));
      let length = prefix.length + json.length;
      for (const blob of blobs) length += blob.byteLength;
      prefix.writeUInt32LE(length, 0);
      prefix.writeUInt32LE(json.length, U32);
      prefix.writeUInt32LE(blobs.length, 2 * U32);
      blobs.forEach((blob, i) => prefix.writeUInt32LE(blob.byteLength, (3 + i) * U32));
      if (!corked) {
        corked = true;
        socket.cork();
        // Not nextTick: it runs after each socket's callback, so the frames of requests read from
        // different connections in one turn of the event loop would each take a system call;
        // setImmediate runs once the turn's I/O callbacks are done, with all of them queued.
        setImmediate(() => {
          corked = false;
          socket.uncork();
        });
      }
      socket.write(prefix);
      socket.write(json);
      for (const blob of blobs) if (blob.byteLength > 0) socket.write(blob);
    },
    close() {
      socket.end();
    },
    closed,
    onMessage(next) {
      handler = next;
    },
  };
}

function readFrame(frame: Buffer): [unknown, Uint8Array[]] {
  const headLength = frame.readUInt32LE(U32);
  const count = frame.readUInt32LE(2 * U32);
  let offset = U32 * (3 + count);
  const head: unknown = JSON.parse(frame.toString('utf8', offset, offset + headLength));
  offset += headLength;
  const blobs: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const size = frame.readUInt32LE((3 + i) * U32);
    blobs.push(frame.subarray(offset, offset + size));
    offset += size;
  }
  if (offset !== frame.length) throw new Error(`a frame of ${frame.length} bytes declared ${offset}`);
  return [head, blobs];
}
