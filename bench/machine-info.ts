/** Facts about the machine a bench ran on, printed beside its tables. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, release, type } from 'node:os';
import type { MachineInfo } from './bench-results.ts';
import { cpuSnapshot } from './process/proc-stats.ts';

function ortVersion(): string {
  const require = createRequire(import.meta.url);
  try {
    return (require('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function cpuModel(): string {
  const fromOs = cpus()[0]?.model?.trim();
  if (fromOs) return fromOs;
  const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
  return match?.[1]?.trim() ?? 'unknown';
}

/** The commit under test, `+dirty` when src/ has uncommitted changes. */
function sourceRevision(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

/** Reads the machine facts, sampling other load on the box for `sampleMs`. */
export async function machineInfo(sampleMs = 1000): Promise<MachineInfo> {
  const before = cpuSnapshot(process.pid);
  await new Promise((resolve) => setTimeout(resolve, sampleMs));
  const after = cpuSnapshot(process.pid);
  const seconds = (after.at - before.at) / 1000;
  return {
    cpu: cpuModel(),
    cores: availableParallelism(),
    node: process.version,
    ort: ortVersion(),
    os: `${type()} ${release()}`,
    revision: sourceRevision(),
    backgroundCpuPercent: ((after.machineBusy - before.machineBusy) / seconds) * 100,
  };
}
