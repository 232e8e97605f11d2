/**
 * The transport-neutral shapes of an inference: what REST and gRPC decode into and encode from.
 */
import type { RequestTrace } from '../monitor/request-trace.ts';
import type { Datatype, TensorValues } from '../tensor/datatypes.ts';

/** Request or tensor parameters (the protocol's `parameters` object). */
export type Parameters = Record<string, string | number | boolean | bigint>;

/** A decoded input tensor. */
export interface InferInput {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  readonly data: TensorValues;
  readonly parameters?: Parameters;
}

/** An output the client asked for. */
export interface RequestedOutput {
  readonly name: string;
  /** Send this output in the binary extension. */
  readonly binary: boolean;
}

/** A decoded inference request. */
export interface InferRequest {
  readonly id?: string;
  readonly parameters?: Parameters;
  readonly inputs: readonly InferInput[];
  /** Requested outputs; undefined means every output. */
  readonly outputs?: readonly RequestedOutput[];
  /** Whether outputs not listed individually are sent as binary (`binary_data_output`). */
  readonly binaryOutputs: boolean;
  /** 1 is the highest priority. */
  readonly priority?: number;
  /** Queue timeout in microseconds. */
  readonly timeoutMicroseconds?: number;
  /**
   * Asynchronous inference: queued in the batcher's background class, behind every online
   * request; `priority` and `timeoutMicroseconds` are ignored. Never set from a request body.
   */
  readonly background?: boolean;
  /** Withdraws a background request still queued when it aborts (the job was cancelled). */
  readonly signal?: AbortSignal;
  /** The request's inference span, when it is traced and sampled: the batcher and runtime stages are its children. */
  readonly trace?: RequestTrace;
}

/** An output tensor. */
export interface InferOutput {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  readonly data: TensorValues;
  readonly binary: boolean;
}

/** A finished inference. */
export interface InferResponse {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly id?: string;
  readonly parameters?: Parameters;
  readonly outputs: readonly InferOutput[];
}
