/**
 * What the API reference shows for the Open Inference Protocol's REST bodies (KServe v2: health,
 * metadata, inference; Triton's repository and statistics extensions). Documentation only: the
 * inference path reads its body once with its own decoder, and replies are written by the
 * encoders, so none of these runs on a request. The request is the decoder's own envelope with
 * the datatype and the tensor data spelled out; the replies are typed against the interfaces the
 * service returns, so a field renamed there fails to compile here.
 */
import { z } from 'zod';
import { InputHeader, OutputHeader, RequestHeader } from '../../serving/protocol/request-header.ts';
import type { ModelMetadata, ServerMetadata } from '../../serving/inference-service.ts';
import type { SourceIndexEntry } from '../../serving/model-source.ts';
import type { ModelStatistics } from '../../serving/model-stats.ts';
import { DATATYPE_NAMES, type Datatype as DatatypeName } from '../../tensor/datatypes.ts';

const Datatype = z.enum(DATATYPE_NAMES as readonly DatatypeName[] as [DatatypeName, ...DatatypeName[]]).meta({
  description: 'The tensor datatype (FP16 only in the binary tensor extension)',
});

const Shape = z.array(z.number().int().min(0)).meta({ description: 'The dimensions' });

const TensorData = z.array(z.unknown()).meta({
  description:
    'The elements in row-major order, flat or nested to the shape: numbers, true/false for BOOL, UTF-8 strings for BYTES',
});

const TensorMetadata = z.object({
  name: z.string(),
  datatype: Datatype,
  shape: z.array(z.number().int().min(-1)).meta({ description: 'The dimensions; -1: any size' }),
});

const Parameters = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
  .meta({ description: 'Free-form parameters' });

/** The body of `POST …/infer`: the decoder's envelope, with what `datatype` and `data` may hold. */
export const InferRequestBody = RequestHeader.extend({
  parameters: Parameters.optional().meta({
    description:
      'Request parameters: priority (1 is the highest), timeout (microseconds in the queue), binary_data_output (every output as binary)',
  }),
  inputs: z
    .array(
      InputHeader.extend({
        datatype: Datatype,
        data: TensorData.optional().meta({ description: 'The values; left out when binary_data_size is set' }),
        parameters: Parameters.optional().meta({
          description: 'binary_data_size: the bytes of this input after the JSON header (binary tensor extension)',
        }),
      }),
    )
    .default([])
    .meta({ description: 'The input tensors; empty or left out for a model without inputs' }),
  outputs: z
    .array(
      OutputHeader.extend({
        parameters: Parameters.optional().meta({ description: 'binary_data: send this output as binary' }),
      }),
    )
    .optional()
    .meta({ description: 'The outputs wanted; every output when left out' }),
});

/** The reply of `POST …/infer` (its JSON, or the binary extension's header). */
export const InferReply = z.object({
  model_name: z.string(),
  model_version: z.string(),
  id: z.string().optional().meta({ description: "The request's id, echoed" }),
  parameters: Parameters.optional(),
  outputs: z.array(
    TensorMetadata.extend({
      shape: Shape,
      data: TensorData.optional().meta({ description: 'The values; left out when the output is binary' }),
      parameters: Parameters.optional().meta({ description: 'binary_data_size: its bytes after the JSON header' }),
    }),
  ),
});

/** `GET /v2`. */
export const ServerMetadataReply = z.object({
  name: z.string(),
  version: z.string(),
  extensions: z.array(z.string()),
}) satisfies z.ZodType<ServerMetadata>;

/** `GET /v2/models/{model}[/versions/{version}]`. */
export const ModelMetadataReply = z.object({
  name: z.string(),
  versions: z.array(z.string()).meta({ description: 'The ready versions' }),
  platform: z.string(),
  inputs: z.array(TensorMetadata),
  outputs: z.array(TensorMetadata),
}) satisfies z.ZodType<ModelMetadata>;

/** `GET /v2/health/live`. */
export const LiveReply = z.object({ live: z.boolean() });
/** `GET /v2/health/ready`. */
export const ReadyReply = z.object({ ready: z.boolean() });
/** `GET /v2/models/{model}[/versions/{version}]/ready` (status 400 when not ready). */
export const ModelReadyReply = z.object({ name: z.string(), ready: z.boolean() });

/** `POST /v2/repository/index`: an optional body. */
export const RepositoryIndexBody = z.object({
  ready: z.boolean().optional().meta({ description: 'Only the ready versions' }),
});

/** `POST /v2/repository/index`: one row per model version. */
export const RepositoryIndexReply = z.array(
  z.object({
    name: z.string(),
    version: z.string().exactOptional(),
    state: z.enum(['LOADING', 'READY', 'UNLOADING', 'UNAVAILABLE']),
    reason: z.string().exactOptional().meta({ description: 'Why it is unavailable, or how its warm-up failed' }),
    warmup: z
      .object({
        source: z.enum(['zeros', 'random', 'requests', 'samples', 'none']),
        runs: z.number().int(),
        failures: z.number().int(),
        error: z.string().exactOptional(),
      })
      .exactOptional()
      .meta({ description: 'The warm-up of a ready version, when it failed' }),
  }) satisfies z.ZodType<SourceIndexEntry>,
);

const Duration = z.object({ count: z.number().int(), ns: z.number().int() });

/** `GET /v2/models[/{model}[/versions/{version}]]/stats` (Triton's statistics extension). */
export const StatisticsReply = z.object({
  model_stats: z.array(
    z.object({
      name: z.string(),
      version: z.string(),
      last_inference: z.number().int().meta({ description: 'Milliseconds since the epoch; 0 before the first' }),
      inference_count: z.number().int(),
      execution_count: z.number().int(),
      inference_stats: z.object({
        success: Duration,
        fail: Duration,
        queue: Duration,
        compute_input: Duration,
        compute_infer: Duration,
        compute_output: Duration,
      }),
      batch_stats: z.array(
        z.object({
          batch_size: z.number().int(),
          compute_input: Duration,
          compute_infer: Duration,
          compute_output: Duration,
        }),
      ),
    }) satisfies z.ZodType<ModelStatistics>,
  ),
});
