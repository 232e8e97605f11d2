/**
 * `stratum alias set|list|history`: moves a model's aliases (the pointers deployments follow)
 * and shows where they pointed and who moved them, over `/api/v1/models/{model}/aliases`.
 */
import { isStratumError, StratumError } from '../../errors/index.ts';
import type { AliasEvent } from '../../store/metadata-store.ts';
import { versionNumber } from './command-context.ts';
import { API_OPTIONS, PAGE_OPTIONS, type CommandGroup, defineCommand } from './command-spec.ts';
import { formatTime } from './format-values.ts';
import { aliasesTable } from './models-command.ts';
import { formatTable } from './table.ts';

const set = defineCommand({
  name: 'set',
  summary: 'Point an alias at a version',
  description:
    "Point the alias at the version (creating it if needed). Every deployment routing through the alias follows it. --if-match refuses the move unless the alias is still at that ETag; The move is refused when a deployment's clients could not use the version (an input they send or an output they read would be missing or change); a version that served the deployment before is always allowed; --force moves it anyway (needs --reason, recorded in the alias history and the deployments' events).",
  args: [
    { name: 'model', description: 'the model' },
    { name: 'alias', description: 'the alias (production, candidate, any name)' },
    { name: 'version', description: 'the version number to point it at' },
  ],
  options: {
    reason: { type: 'string', value: 'text', description: 'why, recorded in the alias history' },
    'if-match': { type: 'string', value: 'etag', description: 'move only if the alias is still at this ETag' },
    force: {
      type: 'boolean',
      description: "move it even if the version's inputs or outputs differ from the version the alias served",
    },
    ...API_OPTIONS,
  },
  examples: [
    'stratum alias set digits production 2 --reason "canary passed"',
    'stratum alias set digits production 3 --if-match \'"4"\'',
  ],
  async run(cmd) {
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
        ...(ifMatch !== undefined && { ifMatch }),
        ...(force === true && { force: true }),
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
  },
});

const list = defineCommand({
  name: 'list',
  summary: "A model's aliases with their versions and ETags",
  args: [{ name: 'model', description: 'the model' }],
  options: API_OPTIONS,
  examples: ['stratum alias list digits'],
  async run(cmd) {
    const reply = await cmd.api.listAliases(cmd.args.model);
    cmd.print(reply, () => aliasesTable(reply.items));
    return 0;
  },
});

const history = defineCommand({
  name: 'history',
  summary: "Every move of a model's aliases (or of one alias), newest first",
  args: [
    { name: 'model', description: 'the model' },
    { name: 'alias', description: 'only this alias', optional: true },
  ],
  options: {
    ...PAGE_OPTIONS,
    ...API_OPTIONS,
  },
  examples: ['stratum alias history digits production'],
  async run(cmd) {
    const limit = cmd.number('limit');
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
  },
});

/** `stratum alias`. */
export const ALIAS_GROUP: CommandGroup = {
  name: 'alias',
  summary: "Move a model's aliases, the pointers deployments follow, and see their history",
  commands: [set, list, history],
};

function historyTable(events: readonly AliasEvent[]): string {
  const v = (version: number | null): string => (version === null ? '–' : String(version));
  return formatTable({
    columns: ['when', 'alias', 'from → to', 'by', 'reason'],
    rows: events.map((e) => [formatTime(e.at), e.alias, `${v(e.from)} → ${v(e.to)}`, e.by, e.reason]),
    empty: '(no alias changes)',
  });
}
