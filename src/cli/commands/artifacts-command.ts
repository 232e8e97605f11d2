/**
 * `stratum artifacts gc`: removes stored ONNX files no version refers to any more, over
 * `POST /api/v1/artifacts/gc`. The server keeps recent uploads (the grace period), which may
 * belong to a push whose version is not written yet.
 *
 * `stratum artifacts rotate-key`: re-wraps the data keys of the encrypted artifact store with a
 * new master key, in this process, on the store's folder (no server needed; servers keep serving
 * if they hold both keys).
 */
import { API_OPTIONS, type CommandGroup, defineCommand, GLOBAL_OPTIONS, type OptionsSpec } from './command-spec.ts';
import { STORE_OPTIONS } from './server-commands.ts';
import { settingOverrides } from './setting-overrides.ts';
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

const ROTATE_OPTIONS = {
  'artifacts-url': STORE_OPTIONS['artifacts-url'],
  'encrypt-plaintext': {
    type: 'boolean',
    description: 'also encrypt the artifacts stored before encryption was turned on (each is verified, then rewritten)',
  },
  json: { type: 'boolean', description: 'print the result as JSON on stdout' },
  ...GLOBAL_OPTIONS,
} as const satisfies OptionsSpec;

const rotateKey = defineCommand({
  name: 'rotate-key',
  summary: 'Re-wrap the encrypted artifacts with a new master key',
  description:
    'Re-wrap the data key of every encrypted artifact with the master key in STRATUM_MASTER_KEY (or STRATUM_MASTER_KEY_FILE), opening them with the old key given in STRATUM_MASTER_KEY_PREVIOUS; the artifacts themselves are not rewritten. Runs in this process on the artifact folder. Give servers both keys before, and only the new one after. Safe to run again after an interruption.',
  args: [],
  options: ROTATE_OPTIONS,
  examples: [
    'STRATUM_MASTER_KEY="$(cat new.key)" STRATUM_MASTER_KEY_PREVIOUS="$(cat old.key)" stratum artifacts rotate-key',
    'STRATUM_MASTER_KEY_FILE=/run/secrets/new.key STRATUM_MASTER_KEY_PREVIOUS="$(cat old.key)" stratum artifacts rotate-key --json',
    'STRATUM_MASTER_KEY_FILE=/run/secrets/master.key stratum artifacts rotate-key --encrypt-plaintext',
  ],
  async run(cmd) {
    const [{ loadConfig }, { rotateArtifactStoreKeys }] = await Promise.all([
      import('../../config/index.ts'),
      import('../../artifacts/open-artifact-store.ts'),
    ]);
    const config = loadConfig({ overrides: settingOverrides(ROTATE_OPTIONS, cmd.values) });
    const result = await rotateArtifactStoreKeys({
      url: config.artifactsUrl,
      encryption: config.artifactEncryption,
      encryptPlaintext: cmd.values['encrypt-plaintext'] === true,
    });
    cmd.print(result, () => {
      const from = result.previousMarkerKeyId === undefined ? '' : ` (was ${result.previousMarkerKeyId})`;
      const head = `artifacts now under master key ${result.masterKeyId}${from}: ${result.rewrapped} data key${result.rewrapped === 1 ? '' : 's'} re-wrapped, ${result.alreadyCurrent} already current; no encrypted artifact was rewritten\n`;
      const sealed =
        cmd.values['encrypt-plaintext'] === true ? `${result.encrypted} plaintext artifact(s) encrypted\n` : '';
      const bad =
        result.corrupt.length === 0
          ? ''
          : `left as they are, no longer matching their digest (restore or upload again): ${result.corrupt.join(', ')}\n`;
      return head + sealed + bad;
    });
    return 0;
  },
});

/** `stratum artifacts`. */
export const ARTIFACTS_GROUP: CommandGroup = {
  name: 'artifacts',
  summary: 'Housekeeping of the stored model files',
  commands: [gc, rotateKey],
};
