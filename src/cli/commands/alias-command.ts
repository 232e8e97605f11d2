/**
 * `stratum alias set|list|history`: moves a model's aliases (the pointers deployments follow)
 * and shows where they pointed and who moved them, over `/api/v1/models/{model}/aliases`.
 */
import { isStratumError, StratumError } from '../../errors/index.ts';
import type { AliasEvent } from '../../store/metadata-store.ts';
import { COMMON_USAGE, type CommandRun, groupHelp, ioOf, parseCommand, versionNumber } from './command-context.ts';
import { DEFAULT_URL } from './command-context.ts';
import { formatTime } from './format-values.ts';
import { aliasesTable } from './models-command.ts';
import { formatTable } from './table.ts';

const SET_USAGE = 'stratum alias set <model> <alias> <version> [--reason <text>] [--force] [--if-match <etag>]';
const LIST_USAGE = 'stratum alias list <model>';
const HISTORY_USAGE = 'stratum alias history <model> [alias] [--limit <n>] [--cursor <c>]';

/** Help of `stratum alias`. */
export const ALIAS_HELP = `Usage:
  ${SET_USAGE}
      Point the alias at the version (creating it if needed). Every deployment routing through
      the alias follows it, so the move is refused when a deployment's clients could not use the
      version (an input they send or an output they read would be missing or change); a version
      that served the deployment before is always allowed. --force moves it anyway (needs
      --reason, recorded in the alias history and the deployment's events). --if-match refuses
      the move unless the alias is still at that ETag.
  ${LIST_USAGE}
      The model's aliases with their versions and ETags.
  ${HISTORY_USAGE}
      Every move of the model's aliases (or of one alias), newest first.
${COMMON_USAGE}
`;

/** Runs `stratum alias …`; resolves with the exit code. */
export async function runAliasCommand(run: CommandRun): Promise<number> {
  const [subcommand, ...argv] = run.argv;
  const io = ioOf(run);
  if (subcommand === 'set') return set({ argv, io, defaultUrl: run.defaultUrl ?? DEFAULT_URL });
  if (subcommand === 'list') return list({ argv, io, defaultUrl: run.defaultUrl ?? DEFAULT_URL });
  if (subcommand === 'history') return history({ argv, io, defaultUrl: run.defaultUrl ?? DEFAULT_URL });
  return groupHelp({ run, help: ALIAS_HELP, subcommand });
}

async function set(run: Required<CommandRun>): Promise<number> {
  const cmd = parseCommand({
    ...run,
    usage: SET_USAGE,
    flags: { reason: { type: 'string' }, force: { type: 'boolean' }, 'if-match': { type: 'string' } },
    required: ['model', 'alias', 'version'],
  });
  const { model, alias } = cmd.args;
  const version = versionNumber(cmd, { what: '<version>', raw: cmd.args.version });
  const { reason, force } = cmd.values;
  if (force === true && (reason ?? '').trim() === '') throw cmd.usageError('--force needs --reason <why>');
  const ifMatch = cmd.values['if-match'];
  let record;
  try {
    record = await cmd.api.setAlias({
      model,
      alias,
      version,
      ...(reason !== undefined && { reason }),
      ...(force === true && { force }),
      ...(ifMatch !== undefined && { ifMatch }),
    });
  } catch (error) {
    // The server says which revision the alias is at; the flag the user typed is what to fix.
    if (isStratumError(error) && error.code === 'PRECONDITION_FAILED' && ifMatch !== undefined) {
      throw new StratumError(
        'PRECONDITION_FAILED',
        `the --if-match ETag ${ifMatch} is stale: ${error.message} (see \`stratum alias list ${model}\`)`,
        { cause: error },
      );
    }
    throw error;
  }
  cmd.print(
    record,
    () => `alias ${record.alias} of ${record.model} → version ${record.version} (etag ${record.etag})\n`,
  );
  return 0;
}

async function list(run: Required<CommandRun>): Promise<number> {
  const cmd = parseCommand({ ...run, usage: LIST_USAGE, flags: {}, required: ['model'] });
  const reply = await cmd.api.listAliases(cmd.args.model);
  cmd.print(reply, () => aliasesTable(reply.items));
  return 0;
}

async function history(run: Required<CommandRun>): Promise<number> {
  const cmd = parseCommand({
    ...run,
    usage: HISTORY_USAGE,
    flags: { limit: { type: 'string' }, cursor: { type: 'string' } },
    required: ['model'],
    optional: ['alias'],
  });
  const limit = cmd.number('limit', { integer: true, min: 1 });
  const { cursor } = cmd.values;
  const page = await cmd.api.aliasHistory(cmd.args.model, cmd.args.alias, {
    ...(limit !== undefined && { limit: String(limit) }),
    ...(cursor !== undefined && { cursor }),
  });
  cmd.print(page, () => {
    const table = historyTable(page.items);
    return page.nextCursor === undefined ? table : `${table}(more: --cursor ${page.nextCursor})\n`;
  });
  return 0;
}

function historyTable(events: readonly AliasEvent[]): string {
  const v = (version: number | null): string => (version === null ? '–' : String(version));
  return formatTable({
    columns: ['when', 'alias', 'from → to', 'by', 'reason'],
    rows: events.map((e) => [formatTime(e.at), e.alias, `${v(e.from)} → ${v(e.to)}`, e.by, e.reason]),
    empty: '(no alias changes)',
  });
}
