/**
 * Encodes an inference response for REST: plain JSON, or (when any output asks for binary) the
 * binary extension's JSON header followed by the raw output bytes.
 */
import type { InferResponse } from '../types.ts';
import { encodeBinaryTensor } from './tensor-binary.ts';
import { encodeJsonData } from './tensor-json.ts';

/** An encoded response body. */
export interface EncodedRestResponse {
  readonly body: string | Buffer;
  readonly contentType: string;
  /** Set when the body uses the binary extension. */
  readonly headerLength?: number;
}

/** Encodes a response. */
export function encodeRestInferResponse(response: InferResponse): EncodedRestResponse {
  let json = `{"model_name":${JSON.stringify(response.modelName)},"model_version":${JSON.stringify(response.modelVersion)}`;
  if (response.id !== undefined) json += `,"id":${JSON.stringify(response.id)}`;
  if (response.parameters !== undefined) json += `,"parameters":${JSON.stringify(response.parameters)}`;
  json += ',"outputs":[';
  const blobs: Uint8Array[] = [];
  response.outputs.forEach((o, i) => {
    json += `${i ? ',' : ''}{"name":${JSON.stringify(o.name)},"datatype":"${o.datatype}","shape":[${o.shape.join(',')}]`;
    if (o.binary) {
      const bytes = encodeBinaryTensor(o.data);
      blobs.push(bytes);
      json += `,"parameters":{"binary_data_size":${bytes.byteLength}}}`;
    } else {
      json += `,"data":${encodeJsonData(o.data, o.datatype)}}`;
    }
  });
  json += ']}';
  if (blobs.length === 0) return { body: json, contentType: 'application/json' };
  const header = Buffer.from(json, 'utf8');
  return {
    body: Buffer.concat([header, ...blobs]),
    contentType: 'application/octet-stream',
    headerLength: header.byteLength,
  };
}
