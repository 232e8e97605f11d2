/**
 * A small typed builder for ONNX graphs: declare inputs, constants and nodes in topological
 * order, declare outputs, then take the model or its bytes. Used for test fixtures and for
 * exporting trained models (linear models, MLPs, ai.onnx.ml tree ensembles, preprocessing).
 */
import { toAttributeProto, type AttributeValue } from './attribute.ts';
import {
  DATA_TYPE,
  encodeModel,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type TensorShapeDimension,
  type TypeProtoTensor,
  type ValueInfoProto,
} from './onnx-proto.ts';
import { createTensorProto, type TensorElementType, type TensorSpec } from './tensor-proto.ts';

/** Operator-set versions used unless {@link GraphBuilderOptions.opsets} overrides them. */
export const DEFAULT_OPSETS = Object.freeze({ '': 17, 'ai.onnx.ml': 3 });

/** IR version written unless {@link GraphBuilderOptions.irVersion} overrides it. */
export const DEFAULT_IR_VERSION = 8;

/** A dimension: a fixed size, a symbol such as `'batch'`, or `-1` for an unnamed unknown size. */
export type Dim = number | string;

/** A graph input or output. */
export interface ValueSpec {
  /** Value name, unique in the graph. */
  readonly name: string;
  /** Element type. */
  readonly type: TensorElementType;
  /** Shape; omit when even the rank is unknown. */
  readonly shape?: readonly Dim[];
  /** Human-readable documentation. */
  readonly docString?: string;
}

/** A node to add. */
export interface NodeSpec {
  /** Operator type, e.g. `'Gemm'`. */
  readonly op: string;
  /** Input value names in the operator's order; `''` skips an optional input. */
  readonly inputs: readonly string[];
  /**
   * Output value names.
   * @default one fresh name derived from `op`
   */
  readonly outputs?: readonly string[];
  /** Attributes, made with `attr.*`. @default none */
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
  /** Operator domain, e.g. `'ai.onnx.ml'`. @default '' (the ONNX domain) */
  readonly domain?: string;
  /** Node name. @default the name of its first output */
  readonly name?: string;
}

/** Options for {@link GraphBuilder}. */
export interface GraphBuilderOptions {
  /** Graph name. @default 'graph' */
  readonly name?: string;
  /** Operator-set version per domain; only domains the nodes use are imported (plus `''`). @default DEFAULT_OPSETS */
  readonly opsets?: Readonly<Record<string, number>>;
  /** ONNX IR version. @default 8 */
  readonly irVersion?: number;
  /** `ModelProto.producer_name`. @default 'stratum' */
  readonly producerName?: string;
  /** `ModelProto.producer_version`. @default omitted */
  readonly producerVersion?: string;
  /** Model documentation. @default omitted */
  readonly docString?: string;
  /** `ModelProto.metadata_props`, written in key order. @default none */
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * Builds one ONNX model. Names are checked as they are added, so a node that reads a value not
 * yet defined fails where it is written rather than when onnxruntime loads the model.
 *
 * @example
 * ```ts
 * const g = new GraphBuilder({ name: 'linear' })
 * g.addInput({ name: 'x', type: 'FLOAT', shape: ['batch', 3] })
 * g.addInitializer({ name: 'w', dims: [3, 1], data: new Float32Array([1, 2, 3]) })
 * g.addNode({ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] })
 * g.addOutput({ name: 'y', type: 'FLOAT', shape: ['batch', 1] })
 * const bytes = g.toBytes()
 * ```
 */
export class GraphBuilder {
  readonly #options: GraphBuilderOptions;
  readonly #opsets: Readonly<Record<string, number>>;
  readonly #inputs: ValueInfoProto[] = [];
  readonly #outputs: ValueInfoProto[] = [];
  readonly #initializers: TensorProto[] = [];
  readonly #nodes: NodeProto[] = [];
  readonly #defined = new Set<string>();
  readonly #domains = new Set<string>(['']);
  #counter = 0;

  constructor(options: GraphBuilderOptions = {}) {
    this.#options = options;
    this.#opsets = { ...DEFAULT_OPSETS, ...options.opsets };
  }

  /** Returns a name not used so far, e.g. `relu_3`. */
  freshName(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.#counter++}`;
    while (this.#defined.has(name));
    return name;
  }

  /** Declares a graph input; returns its name. */
  addInput(spec: ValueSpec): string {
    this.#define(spec.name);
    this.#inputs.push(toValueInfo(spec));
    return spec.name;
  }

  /** Adds a constant tensor (weights, shapes, …); returns its name. */
  addInitializer(spec: TensorSpec & { readonly name: string }): string {
    const tensor = createTensorProto(spec);
    this.#define(spec.name);
    this.#initializers.push(tensor);
    return spec.name;
  }

  /**
   * Adds a node; its inputs must already be defined.
   *
   * @returns the name of the node's first output.
   */
  addNode(spec: NodeSpec): string {
    for (const input of spec.inputs) {
      if (input !== '' && !this.#defined.has(input)) {
        throw new Error(`${spec.op} node: input "${input}" is not defined yet (add it before the node)`);
      }
    }
    const domain = spec.domain ?? '';
    if (this.#opsets[domain] === undefined) {
      throw new Error(`${spec.op} node: no opset version for domain "${domain}" (set it in options.opsets)`);
    }
    const outputs = spec.outputs ?? [this.freshName(spec.op.toLowerCase())];
    const [first] = outputs;
    if (first === undefined) throw new Error(`${spec.op} node: needs at least one output`);
    for (const output of outputs) this.#define(output);
    this.#domains.add(domain);
    const node: NodeProto = {
      input: [...spec.inputs],
      output: [...outputs],
      name: spec.name ?? first,
      op_type: spec.op,
      attribute: Object.entries(spec.attributes ?? {}).map(([name, value]) => toAttributeProto(name, value)),
      metadata_props: [],
    };
    if (domain !== '') node.domain = domain;
    this.#nodes.push(node);
    return first;
  }

  /**
   * Renames `from`, a value a node computes, to `to` (a new name), in that node and in every node
   * that reads it; for a caller that post-processes what another part of the graph computed under
   * its final name (`Where(mask, NaN, y)` written back as `y`). Returns `to`.
   */
  renameValue(from: string, to: string): string {
    const node = this.#nodes.find((candidate) => candidate.output.includes(from));
    if (node === undefined) throw new Error(`renameValue: "${from}" is not computed by any node`);
    if (this.#outputs.some((output) => output.name === from)) {
      throw new Error(`renameValue: "${from}" is already a graph output`);
    }
    this.#define(to);
    this.#defined.delete(from);
    node.output = node.output.map((name) => (name === from ? to : name));
    if (node.name === from) node.name = to;
    for (const reader of this.#nodes) reader.input = reader.input.map((name) => (name === from ? to : name));
    return to;
  }

  /** Declares an already-defined value as a graph output; returns its name. */
  addOutput(spec: ValueSpec): string {
    if (!this.#defined.has(spec.name)) throw new Error(`output "${spec.name}" is not produced by any node or input`);
    if (this.#outputs.some((output) => output.name === spec.name))
      throw new Error(`output "${spec.name}" is declared twice`);
    this.#outputs.push(toValueInfo(spec));
    return spec.name;
  }

  /** Returns the model built so far as a `ModelProto`. */
  toModel(): ModelProto {
    if (this.#outputs.length === 0) throw new Error('graph has no outputs (call addOutput)');
    const options = this.#options;
    const model: ModelProto = {
      ir_version: options.irVersion ?? DEFAULT_IR_VERSION,
      opset_import: [...this.#domains].sort().map((domain) => ({ domain, version: this.#opsets[domain] ?? 0 })),
      producer_name: options.producerName ?? 'stratum',
      graph: {
        node: [...this.#nodes],
        name: options.name ?? 'graph',
        initializer: [...this.#initializers],
        input: [...this.#inputs],
        output: [...this.#outputs],
        value_info: [],
        metadata_props: [],
      },
      metadata_props: Object.entries(options.metadata ?? {})
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, value]) => ({ key, value })),
    };
    if (options.producerVersion !== undefined) model.producer_version = options.producerVersion;
    if (options.docString !== undefined) model.doc_string = options.docString;
    return model;
  }

  /** Returns the bytes of the `.onnx` file; the same graph always gives the same bytes. */
  toBytes(): Uint8Array {
    return encodeModel(this.toModel());
  }

  #define(name: string): void {
    if (name === '') throw new Error('value names must not be empty');
    if (this.#defined.has(name)) throw new Error(`value "${name}" is defined twice`);
    this.#defined.add(name);
  }
}

function toValueInfo(spec: ValueSpec): ValueInfoProto {
  const tensorType: TypeProtoTensor = { elem_type: DATA_TYPE[spec.type] };
  if (spec.shape !== undefined) tensorType.shape = { dim: spec.shape.map(toDimension) };
  const info: ValueInfoProto = { name: spec.name, type: { tensor_type: tensorType }, metadata_props: [] };
  if (spec.docString !== undefined) info.doc_string = spec.docString;
  return info;
}

function toDimension(dim: Dim): TensorShapeDimension {
  if (typeof dim === 'string') return { dim_param: dim };
  if (dim === -1) return {};
  if (!Number.isSafeInteger(dim) || dim < 0)
    throw new RangeError(`dimension must be a size >= 0, -1 or a name, got ${dim}`);
  return { dim_value: dim };
}
