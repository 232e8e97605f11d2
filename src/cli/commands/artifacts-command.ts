/**
 * `stratum artifacts gc`: removes stored ONNX files no version refers to any more, over
 * `POST /api/v1/artifacts/gc`. The server keeps recent uploads (the grace period), which may
 * belong to a push whose version is not written yet.
 */
import { API_OPTIONS, type CommandGroup, defineCommand } from './command-spec.ts';
import { formatBytes, formatTime, shortDigest } from './format-values.ts';
import { formatTable } from './table.ts';

const gc = defineCommand({
  name: 'gc',
  summary: 'Remove artifacts no version refers to',
  description:
    'Remove stored ONNX files no version refers to and older than the grace period; --dry-run lists them without removing anything.',
  args: [],
  options: {
    'dry-run': { type: 'boolean', description: 'list what would be removed, remove nothing' },
    'grace-seconds': {
      type: 'string',
      value: 'n',
      number: { integer: true, min: 0 },
      default: "600 (the server's)",
      description: 'keep artifacts stored less than this long ago (a push may not have written its version yet)',
    },
    ...API_OPTIONS,
  },
  examples: ['stratum artifacts gc --dry-run', 'stratum artifacts gc --grace-seconds 0 --json'],
  async run(cmd) {
    const graceSeconds = cmd.number('grace-seconds');
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
  },
});

/** `stratum artifacts`. */
export const ARTIFACTS_GROUP: CommandGroup = {
  name: 'artifacts',
  summary: 'Housekeeping of the stored model files',
  commands: [gc],
};
