/**
 * Random hex digits cut from a pool refilled 4 KB at a time: one `randomFillSync` and one hex
 * conversion serve hundreds of ids (trace and span ids, request ids), where a call per id would
 * pay both each time.
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;

/** A source of random hex: `draw(n)` returns the next `n` digits (n ≤ 8,192). */
export function createRandomHex(): (chars: number) => string {
  let hex = '';
  let at = 0;
  return (chars) => {
    if (at + chars > hex.length) {
      hex = randomFillSync(Buffer.allocUnsafe(POOL_BYTES)).toString('hex');
      at = 0;
    }
    return hex.slice(at, (at += chars));
  };
}
