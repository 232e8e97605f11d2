/**
 * A model card as Markdown, what `stratum card` prints: headings per section, tables for the
 * data's columns, the fairness groups and the importance ranking, numbers to 3 significant digits
 * (`--json` keeps the card's full precision).
 */
import type { ModelCard } from '../../registry/model-card.ts';
import { formatMetrics, formatNumber, formatShape, formatTime, shortDigest } from './format-values.ts';

const cell = (value: unknown): string =>
  value === undefined || value === null
    ? ''
    : typeof value === 'number'
      ? formatNumber(value)
      : String(value).replaceAll('|', '\\|').replaceAll('\n', ' ');

function table(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const head = `| ${columns.join(' | ')} |\n| ${columns.map(() => '---').join(' | ')} |\n`;
  return head + rows.map((row) => `| ${row.map(cell).join(' | ')} |\n`).join('');
}

/** Renders a card. */
export function cardMarkdown(card: ModelCard): string {
  const out: string[] = [`# Model card: ${card.model} version ${card.version}\n`];
  if (card.description !== '') out.push(`${card.description}\n`);
  out.push(
    `- status: ${card.status}\n- registered: ${formatTime(card.createdAt)} by ${card.createdBy}\n- artifact: sha256 ${shortDigest(card.artifactDigest)}\n` +
      (card.tags.length > 0 ? `- tags: ${card.tags.join(', ')}\n` : ''),
  );
  out.push(`## Intended use\n\n${card.intendedUse ?? '(not declared: set card.intendedUse in the training spec)'}\n`);
  if (card.limitations !== undefined) out.push(`## Limitations\n\n${card.limitations}\n`);
  out.push(
    `## Signature\n\n${table(
      ['', 'tensor', 'datatype', 'shape'],
      [
        ...card.signature.inputs.map((t) => ['input', t.name, t.datatype, formatShape(t.shape)]),
        ...card.signature.outputs.map((t) => ['output', t.name, t.datatype, formatShape(t.shape)]),
      ],
    )}`,
  );
  const training = card.training;
  if (training !== undefined) {
    const lines = [
      `- run: ${training.runId} (${training.runName}), started ${formatTime(training.startedAt)}`,
      training.modelKind === undefined
        ? ''
        : `- model: ${training.modelKind}, ${training.task ?? ''}, label \`${training.label ?? ''}\``,
      training.inputs === undefined ? '' : `- inputs: ${training.inputs.map((c) => `\`${c}\``).join(', ')}`,
      training.split === undefined
        ? ''
        : `- split: ${training.split.trainRows} training rows, ${training.split.validationRows} held out (seed ${training.split.seed})`,
      training.codeVersion === undefined ? '' : `- code: ${training.codeVersion}`,
    ].filter((line) => line !== '');
    out.push(`## Training\n\n${lines.join('\n')}\n`);
  }
  if (card.data !== undefined) {
    const { data } = card;
    out.push(
      `## Data\n\n- dataset: ${data.name} (${data.datasetVersion}), ${data.rows} rows, from ${data.source}\n\n` +
        table(
          ['column', 'kind', 'missing', 'mean', 'std', 'min', 'max', 'distinct'],
          data.columns.map((c) => [c.name, c.kind, c.missing, c.mean, c.std, c.min, c.max, c.distinct]),
        ),
    );
  }
  out.push(
    `## Metrics (held-out split)\n\n${Object.keys(card.metrics).length === 0 ? '(none)' : formatMetrics(card.metrics)}\n`,
  );
  for (const fairness of card.fairness) {
    const gaps = [
      ['demographic parity difference', fairness.demographicParityDifference],
      ['demographic parity ratio', fairness.demographicParityRatio],
      ['equalized odds difference', fairness.equalizedOddsDifference],
      ['accuracy difference', fairness.accuracyDifference],
      ['RMSE difference', fairness.rmseDifference],
      ['MAE difference', fairness.maeDifference],
    ].filter(([, v]) => v !== undefined);
    out.push(
      `## Fairness by \`${fairness.column}\`\n\n${gaps.map(([k, v]) => `- ${String(k)}: ${cell(v)}`).join('\n')}\n\n` +
        (fairness.task === 'regression'
          ? table(
              ['group', 'count', 'RMSE', 'MAE'],
              fairness.groups.map((g) => [g.group, g.count, g.rmse, g.mae]),
            )
          : table(
              ['group', 'count', 'selection rate', 'accuracy', 'TPR', 'FPR'],
              fairness.groups.map((g) => [
                g.group,
                g.count,
                g.selectionRate,
                g.accuracy,
                g.truePositiveRate,
                g.falsePositiveRate,
              ]),
            )),
    );
  }
  if (card.importance !== undefined) {
    const imp = card.importance;
    out.push(
      `## Feature importance (permutation)\n\nDrop of ${imp.metric} (baseline ${cell(imp.baselineScore)}) when a column is shuffled, over ${imp.repeats} repeats on ${imp.rows} held-out rows.\n\n` +
        table(
          ['column', 'importance', '± std'],
          imp.features.map((f) => [f.feature, f.importanceMean, f.importanceStd]),
        ),
    );
  }
  if (card.shapImportance !== undefined) {
    const shap = card.shapImportance;
    out.push(
      `## Feature importance (mean |SHAP|)\n\nMean absolute SHAP value of each column (${shap.method === 'tree_path_dependent' ? 'exact TreeSHAP' : 'exact linear SHAP'}, explaining the ${shap.explained === 'value' ? 'predicted value' : shap.explained.replace('_', '-')}) over ${shap.rows} held-out rows.\n\n${table(
        ['column', 'mean |SHAP|'],
        shap.features.map((f) => [f.feature, f.meanAbsShap]),
      )}`,
    );
  }
  if (card.privacy !== undefined) {
    const p = card.privacy;
    out.push(
      `## Privacy\n\nTrained with DP-SGD (${p.sampling} sampling at rate ${cell(p.samplingRate)}, clipping norm ${cell(p.clipNorm)}, noise multiplier ${cell(p.noiseMultiplier)}, ${p.steps} steps): (ε = ${cell(p.epsilon)}, δ = ${cell(p.delta)})-differentially private for the training rows, by the RDP accountant (order ${cell(p.order)}).\n`,
    );
  }
  if (card.notes.length > 0) out.push(`## Notes\n\n${card.notes.map((n) => `- ${n}`).join('\n')}\n`);
  return out.join('\n');
}
