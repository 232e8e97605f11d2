/** The file format the transport-ceiling server reads its canned responses from. */

/** A canned REST response. */
export interface CannedRest {
  readonly contentType: string;
  /** Inference-Header-Content-Length of a binary-extension response. */
  readonly headerLength?: number;
  readonly bodyBase64: string;
}

/** model → format → response for REST; model → serialized ModelInferResponse (base64) for gRPC. */
export interface CannedResponses {
  readonly rest: Readonly<Record<string, { readonly json: CannedRest; readonly binary: CannedRest }>>;
  readonly grpc: Readonly<Record<string, string>>;
}
