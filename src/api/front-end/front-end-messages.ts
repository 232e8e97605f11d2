/**
 * What a front-end process and the server say to each other: over the frame channel, inference
 * calls and their answers; over the process's IPC channel, its settings' acknowledgement and the
 * order to stop.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { InferRequest, InferResponse } from '../../serving/types.ts';

/** An inference request a front end has read and decoded. */
export interface InferCall {
  /** Unique per front-end connection; the answer carries it back. */
  readonly id: number;
  readonly model: string;
  readonly version?: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** The client's address, for the audit log of refused requests. */
  readonly source?: string;
  readonly requestId: string;
  readonly request: InferRequest;
}

/** The server's answer: the response to encode, or the error reply to send as it is. */
export type InferAnswer =
  | {
      readonly id: number;
      readonly ok: true;
      readonly response: InferResponse;
      readonly headers: Readonly<Record<string, string>>;
    }
  | {
      readonly id: number;
      readonly ok: false;
      readonly status: number;
      readonly headers: Readonly<Record<string, string>>;
      readonly body: string;
    };

/** How a front-end process is configured (its command-line argument, JSON). */
export interface FrontEndSettings {
  readonly host: string;
  readonly port: number;
  /** The server's own HTTP listener, for every request the front end does not answer itself. */
  readonly httpSocket: string;
  /** The server's frame channel, for inference calls. */
  readonly frameSocket: string;
  readonly bodyLimitBytes: number;
  readonly maxBytesElementBytes: number;
  readonly keepAliveTimeoutMs: number;
}

/** The IPC messages of a front-end process's life. */
export type FrontEndLifecycle =
  | { readonly type: 'listening'; readonly port: number }
  | { readonly type: 'failed'; readonly message: string; readonly code?: string }
  | { readonly type: 'stop' };
