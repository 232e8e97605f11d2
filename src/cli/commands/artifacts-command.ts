/**
 * `stratum artifacts gc`: removes stored ONNX files no version refers to any more, over
 * `POST /api/v1/artifacts/gc`. The server keeps recent uploads (the grace period), which may
 * belong to a push whose version is not written yet.
 */
import { COMMON_USAGE, type CommandRun, groupHelp, ioOf, parseCommand } from './command-context.ts';
import { DEFAULT_URL } from './command-context.ts';
import { formatBytes, formatTime, shortDigest } from './format-values.ts';
import { formatTable } from './table.ts';

const GC_USAGE = 'stratum artifacts gc [--dry-run] [--grace-seconds <n>]';

/** Help of `stratum artifacts`. */
export const ARTIFACTS_HELP = `Usage:
  ${GC_USAGE}
      Remove artifacts no version refers to and older than the grace period (server default
      600 s); --dry-run lists them without removing anything.
${COMMON_USAGE}
`;

/** Runs `stratum artifacts …`; resolves with the exit code. */
export async function runArtifactsCommand(run: CommandRun): Promise<number> {
  const [subcommand, ...argv] = run.argv;
  if (subcommand === 'gc') return gc({ argv, io: ioOf(run), defaultUrl: run.defaultUrl ?? DEFAULT_URL });
  return groupHelp({ run, help: ARTIFACTS_HELP, subcommand });
}

async function gc(run: Required<CommandRun>): Promise<number> {
  const cmd = parseCommand({
    ...run,
    usage: GC_USAGE,
    flags: { 'dry-run': { type: 'boolean' }, 'grace-seconds': { type: 'string' } },
    required: [],
  });
  const graceSeconds = cmd.number('grace-seconds', { integer: true, min: 0 });
  const dryRun = cmd.values['dry-run'] === true;
  const reply = await cmd.api.collectGarbage({ dryRun, ...(graceSeconds !== undefined && { graceSeconds }) });
  cmd.print(reply, () => {
    const verb = reply.dryRun ? 'would remove' : 'removed';
    const head = `${verb} ${reply.removed.length} artifact${reply.removed.length === 1 ? '' : 's'} (${formatBytes(reply.freedBytes)})\n`;
    if (reply.removed.length === 0) return head;
    const rows = reply.removed.map((a) => [shortDigest(a.digest), formatBytes(a.size), formatTime(a.storedAt)]);
    return head + formatTable({ columns: ['digest', 'size', 'stored'], alignRight: ['size'], rows });
  });
  return 0;
}
