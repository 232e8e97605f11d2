/** The messages between the `infer_async` body decoder and its thread. */

/** A JSON body to convert. */
export interface BodyRequest {
  readonly id: number;
  readonly body: Uint8Array;
  readonly maxBytesElement: number;
}

/** The binary form, or the error the REST decoder threw. */
export type BodyReply =
  | { readonly id: number; readonly ok: true; readonly body: Uint8Array; readonly headerLength: number }
  | {
      readonly id: number;
      readonly ok: false;
      readonly code: string;
      readonly message: string;
      readonly details?: unknown;
    };
