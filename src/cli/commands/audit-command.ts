/**
 * `stratum audit verify|export`: checks the hash chain of the audit log and exports it as JSON
 * Lines, in this process, on the metadata database (`--database-url`, or the configured one): an
 * auditor needs no running server, and a server cannot vouch for its own database.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { AUDIT_OUTCOMES } from '../../audit/audit-record.ts';
import { AUDIT_TIME_FORMS, parseAuditTime } from '../../audit/audit-time.ts';
import type { AuditQuery } from '../../audit/audit-log.ts';
import { StratumError } from '../../errors/index.ts';
import type { MetadataStore } from '../../store/metadata-store.ts';
import { type CommandGroup, defineCommand, GLOBAL_OPTIONS, type OptionsSpec } from './command-spec.ts';
import { STORE_OPTIONS } from './server-commands.ts';
import { settingOverrides } from './setting-overrides.ts';

const DATABASE_OPTIONS = {
  'database-url': STORE_OPTIONS['database-url'],
  ...GLOBAL_OPTIONS,
} as const satisfies OptionsSpec;

/** Opens the configured metadata store for one command and closes it after. */
async function withStore<T>(values: Record<string, unknown>, use: (store: MetadataStore) => Promise<T>): Promise<T> {
  const [{ loadConfig }, { openMetadataStore }] = await Promise.all([
    import('../../config/index.ts'),
    import('../../store/open-metadata-store.ts'),
  ]);
  const config = loadConfig({ overrides: settingOverrides(DATABASE_OPTIONS, values) });
  const store = await openMetadataStore({ url: config.databaseUrl });
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

const verify = defineCommand({
  name: 'verify',
  summary: 'Check the hash chain of the audit log',
  description:
    "Walk the audit log from its first record: recompute each record's hash, check that it holds the previous record's hash and that no position is missing or added past the log's head. Exits 0 when the chain is whole; otherwise exits 1 naming the first broken record and why (hash mismatch: the record was edited; prev-hash mismatch: a record before it was replaced, or it was moved; gap: a record was deleted; beyond-head: a record was added outside the log).",
  args: [],
  options: { ...DATABASE_OPTIONS, json: { type: 'boolean', description: 'print the result as JSON on stdout' } },
  examples: ['stratum audit verify', 'stratum audit verify --database-url postgres://stratum@db/stratum --json'],
  async run(cmd) {
    const { verifyAuditChain } = await import('../../audit/verify-chain.ts');
    const result = await withStore(cmd.values, (store) => verifyAuditChain({ source: store.audit }));
    const { broken } = result;
    if (broken !== undefined) {
      throw new StratumError(
        'AUDIT_CHAIN_BROKEN',
        `audit log broken at record ${broken.seq} (${broken.reason}): ${broken.message}`,
        {
          details: { seq: broken.seq, reason: broken.reason, checked: result.checked, head: result.head },
        },
      );
    }
    cmd.print(
      result,
      () =>
        `audit log verified: ${result.checked} record${result.checked === 1 ? '' : 's'}, last hash ${result.lastHash}\n`,
    );
    return 0;
  },
});

const EXPORT_OPTIONS = {
  ...DATABASE_OPTIONS,
  output: { type: 'string', value: 'file', file: true, description: 'write to this file instead of standard output' },
  actor: { type: 'string', value: 'id', description: 'only records of this actor (key:ci, jwt:alice, cli:bob)' },
  action: { type: 'string', value: 'action', description: 'only this action (alias.set, job.cancel, …)' },
  resource: { type: 'string', value: 'prefix', description: 'only resources starting with this (models/iris/)' },
  outcome: { type: 'string', value: 'outcome', choices: AUDIT_OUTCOMES, description: 'only this outcome' },
  since: { type: 'string', value: 'time', description: `appended at or after this time: ${AUDIT_TIME_FORMS}` },
  until: { type: 'string', value: 'time', description: 'appended before this time' },
} as const satisfies OptionsSpec;

const exportCommand = defineCommand({
  name: 'export',
  summary: 'Write the audit log as JSON Lines',
  description:
    'Write every record of the audit log (or those the filters keep), oldest first, one JSON object per line: exactly the fields the hash covers and the hash, so the export of the whole log can be verified by any tool.',
  args: [],
  options: EXPORT_OPTIONS,
  examples: [
    'stratum audit export > audit.jsonl',
    'stratum audit export --actor jwt:alice --since 2026-12-01 --output alice.jsonl',
  ],
  async run(cmd) {
    const query = exportQuery(cmd.values, (message) => cmd.usageError(message));
    const { auditJsonLines } = await import('../../audit/audit-export.ts');
    const path = cmd.values.output;
    const out = path === undefined ? cmd.io.stdout : createWriteStream(path);
    await withStore(cmd.values, async (store) => {
      for await (const chunk of auditJsonLines(store.audit, query)) {
        if (!out.write(chunk)) await once(out, 'drain');
      }
    });
    if (path !== undefined) {
      out.end();
      await finished(out);
    }
    return 0;
  },
});

function exportQuery(
  values: { actor?: string; action?: string; resource?: string; outcome?: string; since?: string; until?: string },
  usageError: (message: string) => Error,
): AuditQuery {
  const time = (flag: 'since' | 'until'): number | undefined => {
    const raw = values[flag];
    if (raw === undefined) return undefined;
    const ms = parseAuditTime(raw);
    if (ms === undefined) throw usageError(`--${flag} must be ${AUDIT_TIME_FORMS}, got "${raw}"`);
    return ms;
  };
  const since = time('since');
  const until = time('until');
  return {
    ...(values.actor !== undefined && { actor: values.actor }),
    ...(values.action !== undefined && { action: values.action }),
    ...(values.resource !== undefined && { resourcePrefix: values.resource }),
    ...(values.outcome !== undefined && { outcome: values.outcome as AuditQuery['outcome'] & string }),
    ...(since !== undefined && { since }),
    ...(until !== undefined && { until }),
  };
}

/** `stratum audit`. */
export const AUDIT_GROUP: CommandGroup = {
  name: 'audit',
  summary: 'Verify and export the hash-chained audit log (on the metadata database)',
  commands: [verify, exportCommand],
};
