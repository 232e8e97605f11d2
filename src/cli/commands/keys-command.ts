/**
 * `stratum keys create|list|revoke` over `/api/v1/keys` (admin), and `stratum login`, which keeps
 * a credential for the CLI's other commands (`~/.config/stratum/credentials.json`, mode 0600).
 */
import type { ApiKeyReply } from '../../client/api-client.ts';
import { credentialsPath, storeCredential } from '../credentials-file.ts';
import { API_OPTIONS, type CommandGroup, defineCommand } from './command-spec.ts';
import { formatTime } from './format-values.ts';
import { formatTable } from './table.ts';

const ROLE_NAMES = ['viewer', 'predictor', 'trainer', 'deployer', 'admin'] as const;
const DURATION = /^(\d+)(m|h|d)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

function grantsText(key: ApiKeyReply): string {
  return key.grants.map((g) => (g.model === undefined ? g.role : `${g.role}:${g.model}`)).join(', ');
}

function status(key: ApiKeyReply): string {
  if (key.revokedAt !== undefined) return `revoked ${formatTime(key.revokedAt)}`;
  if (key.expiresAt !== undefined && key.expiresAt <= Date.now()) return `expired ${formatTime(key.expiresAt)}`;
  return key.expiresAt === undefined ? 'active' : `active until ${formatTime(key.expiresAt)}`;
}

const create = defineCommand({
  name: 'create',
  summary: 'Create an API key and print its secret (shown this once)',
  args: [],
  options: {
    name: { type: 'string', value: 'name', required: true, description: 'what the key is for' },
    role: {
      type: 'string',
      multiple: true,
      value: 'role',
      choices: ROLE_NAMES,
      required: true,
      description: 'a role to grant; repeat for more',
    },
    model: { type: 'string', value: 'model', description: 'limit the roles to this model (default: every model)' },
    expires: { type: 'string', value: 'when', description: 'expiry: a duration (30m, 12h, 90d) or an ISO date' },
    rate: { type: 'string', value: 'n', number: { min: 0.001 }, description: 'requests per second allowed' },
    burst: { type: 'string', value: 'n', number: { integer: true, min: 1 }, description: 'requests in a burst' },
    concurrency: {
      type: 'string',
      value: 'n',
      number: { integer: true, min: 1 },
      description: 'requests in flight at once',
    },
    ...API_OPTIONS,
  },
  examples: [
    'stratum keys create --name ci --role deployer --model iris --expires 90d',
    'stratum keys create --name app --role predictor --rate 100 --concurrency 16',
  ],
  async run(cmd) {
    const { name, role, model, expires } = cmd.values;
    let expiresAt: string | undefined;
    if (expires !== undefined) {
      const duration = DURATION.exec(expires);
      const at =
        duration === null ? Date.parse(expires) : Date.now() + Number(duration[1]) * UNIT_MS[duration[2] as 'm'];
      if (Number.isNaN(at))
        throw cmd.usageError(`--expires must be a duration like 90d or an ISO date, got "${expires}"`);
      expiresAt = new Date(at).toISOString();
    }
    const rate = cmd.number('rate');
    const burst = cmd.number('burst');
    const concurrency = cmd.number('concurrency');
    const limits = {
      ...(rate !== undefined && { requestsPerSecond: rate }),
      ...(burst !== undefined && { burst }),
      ...(concurrency !== undefined && { maxConcurrent: concurrency }),
    };
    const created = await cmd.api.createKey({
      name,
      grants: role.map((r) => (model === undefined ? r : `${r}:${model}`)),
      ...(expiresAt !== undefined && { expiresAt }),
      ...(Object.keys(limits).length > 0 && { limits }),
    });
    cmd.print(
      created,
      () =>
        `${created.key}\n` +
        `key ${created.id} (${grantsText(created)}), ${status(created)}.\n` +
        'This is the only time the secret is shown: store it now (stratum login --token … keeps it for this CLI).\n',
    );
    return 0;
  },
});

const list = defineCommand({
  name: 'list',
  summary: 'List API keys (never their secrets)',
  args: [],
  options: { ...API_OPTIONS },
  examples: ['stratum keys list', 'stratum keys list --json'],
  async run(cmd) {
    const reply = await cmd.api.listKeys();
    cmd.print(reply, () =>
      formatTable({
        columns: ['id', 'name', 'roles', 'status', 'created', 'by'],
        rows: reply.items.map((k) => [k.id, k.name, grantsText(k), status(k), formatTime(k.createdAt), k.createdBy]),
        maxCellWidth: 48,
        empty: '(no keys)',
      }),
    );
    return 0;
  },
});

const revoke = defineCommand({
  name: 'revoke',
  summary: 'Revoke an API key (at once on the server asked, within the cache TTL on other replicas)',
  args: [{ name: 'id', description: 'the key id (16 hex digits, as keys list shows it)' }],
  options: { ...API_OPTIONS },
  examples: ['stratum keys revoke 3f9a0c1d2b4e5f60'],
  async run(cmd) {
    const key = await cmd.api.revokeKey(cmd.args.id);
    cmd.print(key, () => `key ${key.id} (${key.name}) ${status(key)}\n`);
    return 0;
  },
});

/** `stratum keys …` */
export const KEYS_GROUP: CommandGroup = {
  name: 'keys',
  summary: 'API keys: create, list, revoke',
  commands: [create, list, revoke],
};

/** `stratum login` */
export const loginCommand = defineCommand({
  name: 'login',
  summary: 'Keep an API key or token for the CLI’s commands to a server',
  description:
    'Store a credential (an API key stk_… or a JWT) for the server at --url in ~/.config/stratum/credentials.json (readable by you only); the CLI then sends it as Authorization: Bearer on every request to that server. Without --token the credential is read from standard input, so it stays out of the shell history. --logout forgets it.',
  args: [],
  options: {
    token: { type: 'string', value: 'credential', description: 'the API key or JWT (default: read from stdin)' },
    logout: { type: 'boolean', description: 'forget the credential of this server' },
    ...API_OPTIONS,
  },
  examples: ['stratum login --url https://stratum.example.com < key.txt', 'stratum login --logout'],
  async run(cmd) {
    const url = cmd.serverUrl;
    if (cmd.values.logout === true) {
      storeCredential(url, undefined);
      cmd.note(`forgot the credential of ${new URL(url).origin}`);
      return 0;
    }
    const credential = (cmd.values.token ?? (await readStdin())).trim();
    if (credential === '' || /\s/.test(credential)) {
      throw cmd.usageError(
        'the credential must be one word (an API key stk_… or a JWT), given with --token or on stdin',
      );
    }
    storeCredential(url, credential);
    cmd.note(`stored a credential for ${new URL(url).origin} in ${credentialsPath()}`);
    return 0;
  },
});

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
