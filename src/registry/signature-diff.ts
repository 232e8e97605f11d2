/**
 * Compares two signatures the way a deployment's clients need: every input they send must still be
 * accepted (present, same datatype, a shape that fits) and no new input may be required of them;
 * every output they read must still be there with the same datatype and a shape that fits. An
 * output no client reads may come or go.
 */
import type { ClientUsage } from '../store/metadata-store.ts';
import type { Signature, TensorSpec } from '../tensor/signature.ts';

/**
 * The differences that stop `candidate` from replacing `current` for clients that use `needs`, as
 * human-readable lines (empty when it fits). Without `needs`, clients are taken to use every input
 * and output of `current`. A dimension of -1 on either side fits any size; a needed name `current`
 * lacks (a client reads an output the serving version lost) only has to exist in the candidate.
 *
 * @example
 * ```ts
 * signatureDifferences(v2.signature, v3.signature, { inputs: ['text'], outputs: ['probabilities'] }) // []
 * ```
 */
export function signatureDifferences(current: Signature, candidate: Signature, needs?: ClientUsage): string[] {
  const used = needs ?? { inputs: current.inputs.map((t) => t.name), outputs: current.outputs.map((t) => t.name) };
  const who = needs === undefined ? 'the serving version has it' : 'clients use it';
  const out: string[] = [];
  compare({ kind: 'input', used: used.inputs, current: current.inputs, candidate: candidate.inputs, who, out });
  compare({ kind: 'output', used: used.outputs, current: current.outputs, candidate: candidate.outputs, who, out });
  const sent = new Set(used.inputs);
  for (const input of candidate.inputs) {
    if (!sent.has(input.name)) out.push(`input "${input.name}" is new: clients do not send it`);
  }
  return out;
}

function compare(options: {
  kind: 'input' | 'output';
  used: readonly string[];
  current: readonly TensorSpec[];
  candidate: readonly TensorSpec[];
  who: string;
  out: string[];
}): void {
  const { kind, out } = options;
  const before = new Map(options.current.map((t) => [t.name, t]));
  const after = new Map(options.candidate.map((t) => [t.name, t]));
  for (const name of new Set(options.used)) {
    const next = after.get(name);
    if (next === undefined) {
      out.push(`${kind} "${name}" is missing (${options.who}; the candidate has ${describeNames(after)})`);
      continue;
    }
    const spec = before.get(name);
    if (spec === undefined) continue;
    if (next.datatype !== spec.datatype) {
      out.push(`${kind} "${name}": datatype ${spec.datatype} → ${next.datatype}`);
    }
    if (!shapesFit(spec.shape, next.shape)) {
      out.push(`${kind} "${name}": shape [${spec.shape.join(',')}] → [${next.shape.join(',')}]`);
    }
  }
}

function shapesFit(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((dim, i) => dim === -1 || b[i] === -1 || dim === b[i]);
}

function describeNames(specs: ReadonlyMap<string, TensorSpec>): string {
  return specs.size === 0 ? 'none' : [...specs.keys()].map((n) => `"${n}"`).join(', ');
}
