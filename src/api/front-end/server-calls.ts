/**
 * A front end's calls to the server over the frame channel: each call waits for the answer with
 * its id. When the channel ends, every call still waiting fails at once rather than hanging.
 */
import type { Socket } from 'node:net';
import { frameChannel } from './frame-channel.ts';
import { type AnswerHead, answerFromFrame, type CallHead, callToFrame } from './frame-messages.ts';
import type { InferAnswer, InferCall } from './front-end-messages.ts';

/** The calling side. */
export interface ServerCalls {
  /** Sends a call; rejects when the channel has ended before its answer came. */
  infer(call: Omit<InferCall, 'id'>): Promise<InferAnswer>;
  close(): void;
  /** Resolves when the channel has ended. */
  readonly closed: Promise<void>;
}

interface Waiting {
  readonly resolve: (answer: InferAnswer) => void;
  readonly reject: (error: Error) => void;
}

/** Wraps the connected frame socket. */
export function serverCalls(socket: Socket, onError: (error: unknown) => void): ServerCalls {
  const channel = frameChannel<CallHead, AnswerHead>(socket, onError);
  const waiting = new Map<number, Waiting>();
  let nextId = 0;
  let ended = false;
  channel.onMessage((head, blobs) => {
    const call = waiting.get(head.id);
    if (call === undefined) return;
    waiting.delete(head.id);
    try {
      call.resolve(answerFromFrame(head, blobs));
    } catch (error) {
      call.reject(error as Error);
    }
  });
  void channel.closed.then(() => {
    ended = true;
    const error = new Error('the connection to the server ended');
    for (const call of waiting.values()) call.reject(error);
    waiting.clear();
  });
  return {
    infer(call) {
      if (ended) return Promise.reject(new Error('the connection to the server ended'));
      const id = nextId++;
      return new Promise<InferAnswer>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        channel.send(...callToFrame({ ...call, id }));
      });
    },
    close: () => channel.close(),
    closed: channel.closed,
  };
}
