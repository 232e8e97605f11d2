/**
 * `stratum card <model>[:version|@alias]`: a version's model card (`GET …/versions/{v}/card`) as
 * Markdown, or as the API's JSON with `--json`. Without a version, the newest ready one.
 */
import { StratumError } from '../../errors/index.ts';
import { parseModelRef } from '../../jobs/batch/batch-model.ts';
import { cardMarkdown } from './card-markdown.ts';
import { API_OPTIONS, defineCommand } from './command-spec.ts';

/** `stratum card`. */
export const cardCommand = defineCommand({
  name: 'card',
  summary: "Show a model version's card: data, metrics, intended use, fairness, importance, privacy",
  description:
    'Print the model card of a registered version as Markdown: what it was trained on (dataset version and column summary), its held-out metrics, the intended use declared in the training spec, fairness per group of each sensitive column, permutation importance of each input column, and the privacy spent by DP-SGD training. name:3 names a version, name@alias the version an alias points at, a bare name the newest ready version. --json prints the card as the API returns it.',
  args: [{ name: 'model', description: 'name, name:version or name@alias' }],
  options: API_OPTIONS,
  examples: [
    'stratum card credit@production',
    'stratum card credit:3 > CARD.md',
    'stratum card credit --json | jq .fairness',
  ],
  async run(cmd) {
    const ref = parseModelRef(cmd.args.model);
    if (ref.kind !== 'registry')
      throw cmd.usageError(`expected a registered model (name, name:3 or name@alias), got "${cmd.args.model}"`);
    let version = ref.version;
    if (ref.alias !== undefined) version = (await cmd.api.getAlias(ref.model, ref.alias)).version;
    if (version === undefined) {
      const newest = await cmd.api.listVersions(ref.model, { status: 'ready', limit: '1' });
      version = newest.items[0]?.version;
      if (version === undefined) {
        throw new StratumError('VERSION_NOT_FOUND', `model "${ref.model}" has no ready version`, {
          details: { model: ref.model },
        });
      }
    }
    const card = await cmd.api.getCard(ref.model, version);
    cmd.print(card, () => cardMarkdown(card));
    return 0;
  },
});
