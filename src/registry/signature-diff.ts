/**
 * Compares two signatures the way a deployment needs: every input the serving version takes must
 * be fed by what callers already send, and every output they read must still be there.
 */
import type { Signature, TensorSpec } from '../tensor/signature.ts';

/**
 * The differences that stop `candidate` from replacing `current` behind one endpoint, as
 * human-readable lines (empty when it fits). A dimension of -1 on either side fits any size.
 */
export function signatureDifferences(current: Signature, candidate: Signature): string[] {
  const out: string[] = [];
  compare({ kind: 'input', current: current.inputs, candidate: candidate.inputs, out });
  compare({ kind: 'output', current: current.outputs, candidate: candidate.outputs, out });
  return out;
}

function compare(options: {
  kind: 'input' | 'output';
  current: readonly TensorSpec[];
  candidate: readonly TensorSpec[];
  out: string[];
}): void {
  const { kind, out } = options;
  const before = new Map(options.current.map((t) => [t.name, t]));
  const after = new Map(options.candidate.map((t) => [t.name, t]));
  for (const [name, spec] of before) {
    const next = after.get(name);
    if (next === undefined) {
      out.push(`${kind} "${name}" is missing (the candidate has ${describeNames(after)})`);
      continue;
    }
    if (next.datatype !== spec.datatype) {
      out.push(`${kind} "${name}": datatype ${spec.datatype} → ${next.datatype}`);
    }
    if (!shapesFit(spec.shape, next.shape)) {
      out.push(`${kind} "${name}": shape [${spec.shape.join(',')}] → [${next.shape.join(',')}]`);
    }
  }
  for (const name of after.keys()) {
    if (!before.has(name)) {
      // An extra output is harmless; an extra input is one callers do not send.
      if (kind === 'input') out.push(`input "${name}" is new: callers do not send it`);
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
