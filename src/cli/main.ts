/**
 * The `stratum` command line: a thin shell over the library. `serve` and `demo` parse their flags,
 * load the configuration once, and call the same functions the tests call; the registry groups
 * (`models`, `alias`, `deploy`, `artifacts`, under ./commands) call a running server's
 * management API, so they share its error codes and messages.
 */
import { parseArgs } from 'node:util';
import type { ConfigInput } from '../config/index.ts';
import { isStratumError } from '../errors/index.ts';
import type { LogLevel } from '../logging/logger.ts';
import { runAliasCommand } from './commands/alias-command.ts';
import { runArtifactsCommand } from './commands/artifacts-command.ts';
import type { CommandRun } from './commands/command-context.ts';
import { runDeployCommand } from './commands/deploy-command.ts';
import { runModelsCommand } from './commands/models-command.ts';
import { CliUsageError, USAGE_EXIT_CODE } from './commands/usage-error.ts';

const HELP = `stratum — train, register, serve and monitor models

Usage:
  stratum serve [--database-url sqlite:.stratum/stratum.db | postgres://…]
                [--artifacts-url file:.stratum/artifacts] [--no-registry] [--models <dir>]
                [--host 127.0.0.1] [--http-port 8000] [--grpc-port 8001]
                [--workers N] [--intra-op-threads N] [--no-watch] [--log-level info]
      Serve the registry's deployments (and the management API under /api/v1) and, with
      --models, a model folder (<dir>/<model>/<version>/model.onnx), over the Open Inference
      Protocol v2: REST on --http-port, gRPC on --grpc-port. Replicas sharing one PostgreSQL
      database and artifact folder serve the same deployments.
  stratum demo [--http-port 8000] [--grpc-port 8001] [--once] [--quick]
      Train the bundled examples (spam filter, flight delays) as tracked runs, register and
      deploy them, answer raw rows over REST and gRPC, switch the spam filter blue-green under
      traffic, print curl commands, and serve until Ctrl-C (--once: exit after the checks;
      --quick: 50,000 flights and 20 trees, a smoke test).
  stratum train <spec.yaml|spec.json> [--database-url …] [--artifacts-url …] [--json] [--actor name]
                [--force --reason …]
      Run a training spec in this process: read and check the data, record a run (params,
      metrics by step, dataset version and profile, code version, artifacts), train, evaluate on
      the held-out split and, when the spec says so, register the model (features and model as
      one ONNX graph) with its lineage. Progress on stderr, a summary table on stdout. A spec
      whose alias its deployments could not follow is refused before training; --force moves it
      anyway (the reason is recorded).
  stratum models push <file.onnx> --name <model> [--description …] [--tag t]… [--metric k=v]… [--alias a]
  stratum models list [--name substr] [--tag t] [--limit n] | stratum models show <model>
  stratum alias set <model> <alias> <version> [--reason …] [--force] [--if-match <etag>]
  stratum alias list <model> | stratum alias history <model> [alias]
  stratum deploy create <name> [--model m] (--version v | --alias a) [--weight w]… [--spec file.json] [--wait]
  stratum deploy list | show <name> | status <name> | events <name> | delete <name>
  stratum deploy rollout <name> --strategy blue-green|canary (--version v | --alias a) [--steps 10,50,100]
                 [--step-seconds s] [--min-requests n] [--reason …] [--force] [--wait]
  stratum deploy abort <name> [--reason …]
  stratum artifacts gc [--dry-run] [--grace-seconds n]
      Manage a running server's registry over its management API. Every one takes
      --url <http://host:port> (default http://127.0.0.1:8000), --json (the server's reply as
      JSON on stdout) and --actor <name> (recorded as the author, default cli). A rollout --wait
      exits 0 when switched or promoted, 3 when rolled back. \`stratum <group> help\` for details.
  stratum help
`;

/** The registry command groups: each a thin shell over the management API. */
const GROUPS: ReadonlyMap<string, (run: CommandRun) => Promise<number>> = new Map([
  ['models', runModelsCommand],
  ['alias', runAliasCommand],
  ['deploy', runDeployCommand],
  ['artifacts', runArtifactsCommand],
]);

const SERVER_FLAGS = {
  models: { type: 'string' },
  host: { type: 'string' },
  'http-port': { type: 'string' },
  'grpc-port': { type: 'string' },
  workers: { type: 'string' },
  'intra-op-threads': { type: 'string' },
  'no-watch': { type: 'boolean' },
  'database-url': { type: 'string' },
  'artifacts-url': { type: 'string' },
  'no-registry': { type: 'boolean' },
  'log-level': { type: 'string' },
  once: { type: 'boolean' },
  quick: { type: 'boolean' },
} as const;

/** Flags shared by serve and demo, as configuration overrides. */
function overridesFrom(values: Record<string, string | boolean | undefined>): ConfigInput {
  const num = (flag: string): number | undefined => {
    const raw = values[flag];
    return typeof raw === 'string' ? Number(raw) : undefined;
  };
  const runtime: Record<string, number> = {};
  if (num('workers') !== undefined) runtime['workers'] = num('workers') as number;
  if (num('intra-op-threads') !== undefined) runtime['intraOpThreads'] = num('intra-op-threads') as number;
  const out: Record<string, unknown> = {
    host: values['host'],
    httpPort: num('http-port'),
    grpcPort: num('grpc-port'),
    modelsDir: values['models'],
    logLevel: values['log-level'],
    watch: values['no-watch'] === true ? false : undefined,
    databaseUrl: values['database-url'],
    artifactsUrl: values['artifacts-url'],
    registry: values['no-registry'] === true ? false : undefined,
  };
  if (Object.keys(runtime).length > 0) out['runtime'] = runtime;
  return out as ConfigInput;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(HELP);
    return 0;
  }
  const group = GROUPS.get(command);
  if (group !== undefined) {
    // The configuration module is light (zod and the schema); it supplies STRATUM_URL.
    const { loadConfig } = await import('../config/load-config.ts');
    return group({ argv: rest, defaultUrl: loadConfig().apiUrl });
  }
  if (command === 'train') return train(rest);
  if (command !== 'serve' && command !== 'demo') {
    process.stderr.write(`stratum: unknown command "${command}"\n\n${HELP}`);
    return 2;
  }
  const { values } = parseArgs({ args: rest, options: SERVER_FLAGS, strict: true, allowPositionals: false });
  // Loaded on demand: the server's modules take seconds to load, which a registry command that
  // only talks HTTP should not pay on every run.
  const [{ loadConfig }, { createLogger }] = await Promise.all([
    import('../config/index.ts'),
    import('../logging/logger.ts'),
  ]);
  const config = loadConfig({ overrides: overridesFrom(values) });
  const logger = createLogger({ level: config.logLevel as LogLevel });
  if (command === 'serve') {
    const { serveUntilSignalled } = await import('./serve.ts');
    return serveUntilSignalled({ config, logger });
  }
  const { runDemo } = await import('./demo.ts');
  // The demo narrates what happens; the server's info lines would drown it (ask for debug to see them).
  const quiet = config.logLevel === 'info' ? createLogger({ level: 'warn' }) : logger;
  return runDemo({ config, logger: quiet, once: values.once === true, quick: values.quick === true });
}

const TRAIN_FLAGS = {
  'database-url': { type: 'string' },
  'artifacts-url': { type: 'string' },
  'log-level': { type: 'string' },
  json: { type: 'boolean' },
  actor: { type: 'string' },
  force: { type: 'boolean' },
  reason: { type: 'string' },
} as const;

async function train(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: TRAIN_FLAGS, strict: true, allowPositionals: true });
  const [specPath, ...extra] = positionals;
  if (specPath === undefined || extra.length > 0) {
    throw new CliUsageError('expected exactly one training spec file', 'stratum train <spec.yaml|spec.json> [--json]');
  }
  const force = values.force === true;
  if (force !== (values.reason !== undefined) || (force && (values.reason ?? '').trim() === '')) {
    throw new CliUsageError('--force and --reason <why> go together', 'stratum train <spec> --force --reason <why>');
  }
  const [{ loadConfig }, { createLogger }, { trainFromFile }] = await Promise.all([
    import('../config/index.ts'),
    import('../logging/logger.ts'),
    import('./train.ts'),
  ]);
  const config = loadConfig({ overrides: overridesFrom(values) });
  // Progress and the summary tell the story; the store's info lines would interleave with them.
  const logger = createLogger({ level: values['log-level'] === undefined ? 'warn' : (config.logLevel as LogLevel) });
  return trainFromFile({
    specPath,
    config,
    logger,
    ...(values.json === true && { json: true }),
    ...(values.actor !== undefined && { actor: values.actor }),
    ...(force && { force: { reason: values.reason as string } }),
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof CliUsageError) {
      process.stderr.write(`stratum: ${error.message}\nusage: ${error.usage}\n`);
      process.exitCode = USAGE_EXIT_CODE;
      return;
    }
    if (isStratumError(error)) process.stderr.write(`stratum: ${error.message}\n`);
    else if (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`stratum: ${error.message}\n\n${HELP}`);
    } else
      process.stderr.write(`stratum: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
