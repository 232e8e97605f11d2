/**
 * Probe: the serving thread's CPU per inference-log record for packing a batch and posting it to
 * the log thread (`packLogBatch` + `postMessage`, whose structured clone runs on the sender), for
 * the packing modules of several checkouts, alternated over rounds (medians). Records are mlp
 * requests as the server logs them: a 784-element FP32 input viewing a request body, a 10-element
 * FP32 output viewing a batch's outputs; 200 batches of 500 (the default batch size) per round.
 * The message goes through a MessageChannel to this thread, whose receiving (outside the measure)
 * hands the buffers back for the next batch, as the log thread does (packers that take no buffer
 * ignore it). A packer of this checkout's kind (records as text in a second buffer) is given both
 * buffers back; one of the kind before it (records as a string), the tensors' buffer alone.
 *
 *   node --import tsx bench/probes/log-pack-cost.ts [--root /path/to/before --root .] [--rounds 7]
 */
import { MessageChannel } from 'node:worker_threads';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { LogRecordData } from '../../src/deploy/log-batch-packing.ts';

const { values } = parseArgs({
  options: { root: { type: 'string', multiple: true }, rounds: { type: 'string', default: '7' } },
  strict: true,
});
const roots = (values.root ?? ['.']).map((r) => resolve(r));
const BATCH = 500;
const BATCHES = 200;

/** Both kinds of packer: `reuse` is what the previous batch came back with. */
type Pack = (batch: readonly LogRecordData[], reuse?: unknown) => { bytes: ArrayBuffer; text?: ArrayBuffer };
const packers: { root: string; pack: Pack }[] = [];
for (const root of roots) {
  const module = (await import(`${root}/src/deploy/log-batch-packing.ts`)) as { packLogBatch: Pack };
  packers.push({ root, pack: module.packLogBatch });
}

const redact = {};
function batch(): LogRecordData[] {
  const outputs = new Float32Array(10 * BATCH);
  return Array.from({ length: BATCH }, (_, i) => ({
    requestId: crypto.randomUUID(),
    deployment: 'mlp',
    model: 'mlp',
    version: '1',
    at: Date.now(),
    latencyMs: 1.25,
    inputs: [
      { name: 'input', datatype: 'FP32', shape: [1, 784], data: new Float32Array(new ArrayBuffer(4096), 64, 784) },
    ],
    outputs: [{ name: 'output', datatype: 'FP32', shape: [1, 10], data: outputs.subarray(10 * i, 10 * i + 10) }],
    redact,
  }));
}

const batches = Array.from({ length: 8 }, batch);
const results = new Map<string, number[]>(roots.map((r) => [r, []]));
for (let round = 0; round < Number(values.rounds); round++) {
  for (const { root, pack } of packers) {
    const { port1, port2 } = new MessageChannel();
    let spare: unknown;
    let micros = 0;
    for (let b = 0; b < BATCHES; b++) {
      const received = new Promise<{ batch: { bytes: ArrayBuffer; text?: ArrayBuffer } }>((done) =>
        port2.once('message', done),
      );
      const before = process.cpuUsage();
      const packed = pack(batches[b % batches.length] as LogRecordData[], spare);
      const { text } = packed;
      port1.postMessage(
        { id: b, type: 'write', batch: packed },
        text === undefined ? [packed.bytes] : [packed.bytes, text],
      );
      const used = process.cpuUsage(before);
      micros += used.user + used.system;
      const back = (await received).batch;
      spare = back.text === undefined ? back.bytes : { bytes: back.bytes, text: back.text };
    }
    port1.close();
    results.get(root)?.push(micros / (BATCH * BATCHES));
  }
}
console.log('| packing of | CPU µs per record (median) | min–max |');
console.log('| --- | ---: | --- |');
for (const [root, xs] of results) {
  const sorted = [...xs].sort((a, b) => a - b);
  console.log(
    `| ${root} | ${sorted[sorted.length >> 1]?.toFixed(2)} | ${sorted[0]?.toFixed(2)}–${sorted.at(-1)?.toFixed(2)} |`,
  );
}
