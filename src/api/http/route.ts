/**
 * One HTTP route, declared once: method, path, permission, the zod schemas of its path
 * parameters, query and body, what the documentation says about it, and its handler. The Fastify
 * registration ({@link registerRoutes}), the permission table and the OpenAPI document are all
 * derived from these declarations (the way tRPC procedures or Fastify route `schema`s work), so
 * adding a route is adding one entry to a route list.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ErrorCode } from '../../errors/index.ts';
import { StratumError } from '../../errors/index.ts';
import type { Permission } from '../permissions.ts';
import { jsonBody, validate } from './request-helpers.ts';
import { type AuditRecorder, type RouteAudit, runAudited } from './route-audit.ts';

/** The methods routes use (Fastify adds HEAD to every GET). */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The groups the OpenAPI document files operations under (each described in `openapi.ts`). */
export type RouteTag =
  | 'health'
  | 'inference'
  | 'repository'
  | 'statistics'
  | 'metrics'
  | 'reference'
  | 'models'
  | 'versions'
  | 'aliases'
  | 'deployments'
  | 'runs'
  | 'experiments'
  | 'datasets'
  | 'jobs'
  | 'pipelines'
  | 'keys'
  | 'meta'
  | 'audit';

/** A body read as bytes and handed to the handler as they came (the handler parses it). */
export interface RawBody {
  /** The media type, for the documentation. */
  readonly raw: string;
  readonly description?: string;
  /**
   * What the bytes hold, for the documentation only: the handler's own reader checks them (the
   * inference path parses its body once, with its own messages), so nothing is validated here.
   */
  readonly schema?: z.ZodType;
  /** The body may be left out. @default false */
  readonly optional?: boolean;
}

type BodySpec = z.ZodType | RawBody;
type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;
type BodyOf<B> = B extends z.ZodType ? z.output<B> : B extends RawBody ? Buffer | undefined : undefined;

/** What a handler receives: the validated parts of the request, and the request and reply themselves. */
export interface RouteInput<P, Q, B> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
}

/** What a route declares about itself beyond its handler: enough to register, guard and document it. */
export interface RouteInfo {
  readonly method: HttpMethod;
  /** Fastify syntax (`/api/v1/models/:model`); the OpenAPI document writes `{model}`. */
  readonly path: string;
  readonly permission: Permission;
  readonly summary: string;
  readonly tags: readonly RouteTag[];
  /** Path parameters; its keys must be the path's `:names`. Their issues are reported by message alone. */
  readonly params?: z.ZodObject;
  /** The query string, validated (BAD_REQUEST `invalid query: …`); unchecked when absent. */
  readonly query?: z.ZodObject;
  /** A JSON body validated by a zod schema (an empty body reads as `{}`), or raw bytes. */
  readonly body?: BodySpec;
  /** The reply body, for the documentation (not checked at run time). */
  readonly reply?: z.ZodType;
  /** The success status. @default 200 */
  readonly status?: number;
  /** Takes If-Match (optimistic concurrency) and returns an ETag. @default false */
  readonly etag?: boolean;
  /** The error codes the route answers with, for the documentation. @default [] */
  readonly errors?: readonly ErrorCode[];
  /**
   * The route speaks the Open Inference Protocol's binary tensor data extension: the request and
   * the reply may be a JSON header followed by raw tensor bytes, the header's length in
   * `Inference-Header-Content-Length`. For the documentation. @default false
   */
  readonly binaryTensors?: boolean;
  /**
   * How a change through this route is recorded in the audit log (`route-audit.ts`); `false` for a
   * route that changes nothing. Every route but GET declares it (a test walks the route table).
   */
  readonly audit?: RouteAudit | false;
}

/** A declared route whose handler needs a context `Ctx` (the services it calls). */
export interface HttpRoute<Ctx> extends RouteInfo {
  readonly handler: (input: RouteInput<never, never, never>, context: Ctx) => unknown;
}

/** The declaration {@link routeFactory}'s function takes: the handler's input is typed by the schemas. */
export type RouteSpec<
  Ctx,
  P extends z.ZodObject | undefined,
  Q extends z.ZodObject | undefined,
  B extends BodySpec | undefined,
> = Omit<RouteInfo, 'params' | 'query' | 'body' | 'audit'> & {
  readonly params?: P;
  readonly query?: Q;
  readonly body?: B;
  readonly audit?: RouteAudit<Ctx, Parsed<P>, Parsed<Q>, BodyOf<B>> | false;
  readonly handler: (input: RouteInput<Parsed<P>, Parsed<Q>, BodyOf<B>>, context: Ctx) => unknown;
};

/**
 * Returns the function that declares routes needing context `Ctx`; the handler's `params`, `query`
 * and `body` are inferred from the schemas.
 * @example
 * const route = routeFactory<ManagementContext>();
 * export const MODEL_ROUTES = [
 *   route({ method: 'GET', path: '/api/v1/models/:model', permission: 'registry:read', summary: 'Show a model',
 *     tags: ['models'], params: ModelParams, handler: ({ params }, { registry }) => registry.getModel(params.model) }),
 * ];
 */
export function routeFactory<Ctx>() {
  return function route<
    P extends z.ZodObject | undefined = undefined,
    Q extends z.ZodObject | undefined = undefined,
    B extends BodySpec | undefined = undefined,
  >(spec: RouteSpec<Ctx, P, Q, B>): HttpRoute<Ctx> {
    const declared = new Set(Object.keys(spec.params?.shape ?? {}));
    const inPath = new Set([...spec.path.matchAll(/:(\w+)/g)].map((m) => m[1] as string));
    if (declared.size !== inPath.size || [...inPath].some((name) => !declared.has(name))) {
      throw new Error(`route ${spec.method} ${spec.path}: params must declare exactly the path's parameters`);
    }
    return Object.freeze(spec) as unknown as HttpRoute<Ctx>;
  };
}

/** Options of {@link registerRoutes}. */
export interface RegisterRoutesOptions<Ctx> {
  readonly routes: readonly HttpRoute<Ctx>[];
  /** What the handlers call. */
  readonly context: Ctx;
  /** Where the changes of routes that declare an `audit` are recorded. @default not recorded */
  readonly recorder?: AuditRecorder;
}

/**
 * Registers routes on the app; each carries its permission in its Fastify `config`, where the
 * server's `onRequest` hook finds it.
 */
export function registerRoutes<Ctx>(app: FastifyInstance, options: RegisterRoutesOptions<Ctx>): void {
  const { context, recorder } = options;
  for (const route of options.routes) {
    const audit = route.audit === false ? undefined : route.audit;
    app.route({
      method: route.method,
      url: route.path,
      config: { permission: route.permission },
      handler: async (request, reply) => {
        const input = parseInput(route, { request, reply });
        if (route.status !== undefined) reply.code(route.status);
        const handle = async () => route.handler(input as RouteInput<never, never, never>, context);
        const result =
          audit === undefined || recorder === undefined
            ? await handle()
            : await runAudited(
                { audit: audit as RouteAudit<Ctx, unknown, unknown, unknown>, input, context, recorder },
                handle,
              );
        return result === reply || reply.sent ? reply : reply.send(result);
      },
    });
  }
}

function parseInput(
  route: RouteInfo,
  http: { request: FastifyRequest; reply: FastifyReply },
): RouteInput<unknown, unknown, unknown> {
  const { request } = http;
  const params = route.params === undefined ? undefined : parseParams(route.params, request.params);
  const query = route.query === undefined ? undefined : validate(route.query, request.query, 'query');
  let body: unknown;
  if (route.body !== undefined) {
    body = isRaw(route.body)
      ? Buffer.isBuffer(request.body)
        ? request.body
        : undefined
      : jsonBody(request, route.body);
  }
  return { params, query, body, ...http };
}

/** Path parameters carry their own messages (`alias "7up" must be …`): the first issue is the answer. */
function parseParams(schema: z.ZodObject, value: unknown): unknown {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new StratumError('BAD_REQUEST', issue?.message ?? 'invalid path parameters', {
    details: { issues: parsed.error.issues },
  });
}

/** Whether a body declaration is raw bytes. */
export function isRaw(body: BodySpec): body is RawBody {
  return !(body instanceof z.ZodType);
}

const DOCUMENTED_AS = new WeakMap<z.ZodType, z.ZodType>();

/**
 * Marks a schema checked loosely at the route because a deeper layer parses the value with
 * messages of its own (the registry names the deployment in its) as documented by `documented`,
 * what that layer accepts. Returns `schema`.
 */
export function documentedAs<S extends z.ZodType>(schema: S, documented: z.ZodType): S {
  DOCUMENTED_AS.set(schema, documented);
  return schema;
}

/** The schema the documentation shows for `schema`. */
export function documentationOf(schema: z.ZodType): z.ZodType {
  return DOCUMENTED_AS.get(schema) ?? schema;
}
