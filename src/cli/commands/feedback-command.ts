/**
 * `stratum feedback <file>`: labels for logged requests from a large JSON Lines or CSV file,
 * submitted as a `feedback` job to the server at `--url` (its worker joins them with the inference
 * log in chunks; the file must be readable where the worker runs). `--wait` follows the job and
 * prints what it accepted and every kind of problem (`../feedback-queue.ts`).
 */
import { API_OPTIONS, defineCommand, type OptionsSpec } from './command-spec.ts';

const FEEDBACK_OPTIONS = {
  deployment: {
    type: 'string',
    value: 'name',
    description: 'join only with requests this deployment logged (default: any deployment)',
  },
  problems: {
    type: 'string',
    value: 'file',
    file: true,
    description: 'write every rejected row there as JSON Lines (default: the first 1,000, in the result)',
  },
  'chunk-rows': {
    type: 'string',
    value: 'n',
    number: { integer: true, min: 1 },
    default: '1000',
    description: 'rows joined per store round trip (at most 10000)',
  },
  wait: { type: 'boolean', description: 'follow the job to its end, with its progress, and print the summary' },
  ...API_OPTIONS,
} as const satisfies OptionsSpec;

/** `stratum feedback`. */
export const feedbackCommand = defineCommand({
  name: 'feedback',
  summary: 'Submit a file of labels for logged requests as a feedback job',
  description:
    'Submit a JSON Lines ({"requestId": "…", "label": …} per line) or CSV (a header with requestId and label columns) file of ground-truth labels as a feedback job to the server at --url. Its worker joins them with the inference log in chunks, as POST /api/v1/feedback does, and reports every row it rejects (unknown request id, wrong label type, a line that is not an item) with its line; none is dropped. The path is made absolute: the worker must see the same file. Prints the job id, or with --wait follows the job and prints the counts and the first problems (exit 1 when the job failed).',
  args: [{ name: 'file', description: 'a .jsonl, .ndjson or .csv file of {requestId, label} rows', file: true }],
  options: FEEDBACK_OPTIONS,
  examples: [
    'stratum feedback labels.jsonl --wait',
    'stratum feedback chargebacks.csv --deployment fraud --problems rejected.jsonl --wait',
  ],
  async run(cmd) {
    const { values } = cmd;
    const chunkRows = cmd.number('chunk-rows');
    const { submitFeedbackJob } = await import('../feedback-queue.ts');
    return submitFeedbackJob({
      file: cmd.args.file,
      ...(values.deployment !== undefined && { deployment: values.deployment }),
      ...(values.problems !== undefined && { problems: values.problems }),
      ...(chunkRows !== undefined && { chunkRows }),
      api: cmd.api,
      wait: values.wait === true,
      json: cmd.json,
      stdout: cmd.io.stdout,
      stderr: cmd.io.stderr,
    });
  },
});
