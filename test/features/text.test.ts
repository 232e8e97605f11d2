/**
 * The text transform (lowercase → tokenize → hashed n-grams → TF-IDF → L2): the TypeScript
 * reference and onnxruntime agree, the StringNormalizer locale works on a machine without
 * en_US.UTF-8, and the per-code-point lowercasing matches onnxruntime's C.UTF-8 lowercasing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { exportFeaturesModel, TEXT_LOCALE } from '../../src/features/export-onnx.ts';
import { fitFeatures } from '../../src/features/fit.ts';
import { featureNamesOf, parseFittedFeatures } from '../../src/features/fitted-features.ts';
import { lowerCodePoints, murmurHash3, tokenize } from '../../src/features/text-hash.ts';
import { transformBatch } from '../../src/features/transform.ts';
import { attr } from '../../src/onnx/attribute.ts';
import { GraphBuilder } from '../../src/onnx/graph-builder.ts';
import { seededRandom } from '../../src/onnx/fixtures/seeded-random.ts';
import { runFeatures } from './run-features.ts';

const TOLERANCE = 1e-5;
const WORDS = [
  'Cat',
  'DOG',
  'bird',
  'Fish',
  'naïve',
  'Café',
  'ÉCOLE',
  'Straße',
  'ΣΟΦΊΑ',
  'Ελλάδα',
  'İstanbul',
  'Москва',
  '東京',
  'x2',
  '42',
  'ÆØÅ',
  'Łódź',
];
const SEPARATORS = [' ', ', ', '! ', '  ', ' — ', '\t', '. ', '?', ' (', ') '];

function texts(options: { count: number; seed: number }): (string | null)[] {
  const random = seededRandom(options.seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random.next() * values.length)] as T;
  return Array.from({ length: options.count }, () => {
    const r = random.next();
    if (r < 0.04) return null;
    if (r < 0.07) return '';
    if (r < 0.09) return ' ?! ';
    let text = '';
    const words = 1 + Math.floor(random.next() * 12);
    for (let i = 0; i < words; i++) text += pick(WORDS) + pick(SEPARATORS);
    return random.next() < 0.1 ? `${text}unseen${Math.floor(random.next() * 1000)}` : text;
  });
}

test('hashed n-gram TF-IDF: onnxruntime and transformBatch agree within 1e-5', async (t) => {
  const spec = {
    transforms: [
      { column: 'review', transform: 'text', ngramRange: [1, 2], buckets: 64 },
      {
        column: 'review',
        transform: 'text',
        name: 'review_tf',
        lowercase: false,
        weighting: 'tf',
        norm: 'none',
        buckets: 32,
      },
      { column: 'title', transform: 'text', ngramRange: [1, 3], buckets: 16 },
      { column: 'score', transform: 'standardize' },
    ],
  };
  const rowsOf = (seed: number, count: number): Record<string, unknown>[] => {
    const reviews = texts({ count, seed });
    const titles = texts({ count, seed: seed + 100 });
    return reviews.map((review, i) => ({ review, title: titles[i], score: i % 7 }));
  };
  const fitted = await fitFeatures(spec, rowsOf(1, 3000));
  const session = await ort.InferenceSession.create(exportFeaturesModel(fitted));
  t.after(() => session.release());
  const rows = rowsOf(2, 3000);
  const reference = transformBatch(fitted, rows);
  const onnx = await runFeatures({ session, fitted, rows });
  const width = fitted.featureNames.length;
  assert.deepEqual(onnx.dims, [rows.length, width]);
  let offset = 0;
  for (const transform of fitted.transforms) {
    const span = featureNamesOf(transform).length;
    let maxDiff = 0;
    let nonZero = 0;
    for (let row = 0; row < rows.length; row++) {
      for (let j = offset; j < offset + span; j++) {
        const a = reference.data[row * width + j] ?? Number.NaN;
        const b = onnx.data[row * width + j] ?? Number.NaN;
        maxDiff = Math.max(maxDiff, Math.abs(a - b));
        if (a !== 0) nonZero++;
      }
    }
    t.diagnostic(
      `${transform.transform} ${transform.name}: ${span} features, ${rows.length} rows, max |diff| ${maxDiff}`,
    );
    assert.ok(maxDiff <= TOLERANCE, `${transform.name}: max |diff| ${maxDiff}`);
    if (transform.transform === 'text') assert.ok(nonZero > rows.length, `${transform.name}: features are mostly zero`);
    offset += span;
  }
  // batch of one, including a batch whose only text has no tokens
  for (const row of [rows[0] ?? {}, { review: ' ?! ', title: '', score: 1 }, { review: null, score: 2 }]) {
    const single = await runFeatures({ session, fitted, rows: [row] });
    const expected = transformBatch(fitted, [row]).data;
    for (let j = 0; j < width; j++) assert.ok(Math.abs((single.data[j] ?? 0) - (expected[j] ?? 0)) <= TOLERANCE);
  }
  const restored = parseFittedFeatures(JSON.parse(JSON.stringify(fitted)));
  assert.deepEqual(transformBatch(restored, rows).data, reference.data);
});

test(`StringNormalizer lowercases with locale ${TEXT_LOCALE} like lowerCodePoints (up to letters newer than the C library)`, async (t) => {
  const letters: string[] = [];
  for (let cp = 0x20; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const char = String.fromCodePoint(cp);
    if (/\p{L}/u.test(char)) letters.push(char);
  }
  const g = new GraphBuilder({ name: 'lower' });
  g.addInput({ name: 'x', type: 'STRING', shape: ['n'] });
  g.addNode({
    op: 'StringNormalizer',
    inputs: ['x'],
    outputs: ['y'],
    attributes: { case_change_action: attr.string('LOWER'), locale: attr.string(TEXT_LOCALE) },
  });
  g.addOutput({ name: 'y', type: 'STRING', shape: ['n'] });
  const session = await ort.InferenceSession.create(g.toBytes());
  t.after(() => session.release());
  const result = await session.run({ x: new ort.Tensor('string', letters, [letters.length]) });
  const lowered = result.y?.data as string[];
  const mismatches = letters.filter((char, i) => lowered[i] !== lowerCodePoints(char));
  t.diagnostic(`${letters.length} letters in Unicode, ${mismatches.length} differ: ${mismatches.join(' ')}`);
  // V8 knows Unicode 17; glibc 2.36 (Debian 12) predates Unicode 16's new case pairs (e.g. U+1C89, U+A7CC,
  // Garay, Kirat Rai) and leaves them unchanged. That is the only kind of difference allowed.
  const unchanged = mismatches.filter((char) => lowered[letters.indexOf(char)] === char);
  assert.deepEqual(unchanged, mismatches, 'onnxruntime lowercased a letter differently from V8');
  assert.ok(mismatches.length < 100, `${mismatches.length} letters lowercase differently`);
  assert.equal(lowerCodePoints('İSTANBUL ΣΑΣ'), 'istanbul σασ');
});

test('the default StringNormalizer locale (en_US.UTF-8) fails where it is not installed', async (t) => {
  const g = new GraphBuilder({ name: 'lower_default' });
  g.addInput({ name: 'x', type: 'STRING', shape: ['n'] });
  g.addNode({
    op: 'StringNormalizer',
    inputs: ['x'],
    outputs: ['y'],
    attributes: { case_change_action: attr.string('LOWER') },
  });
  g.addOutput({ name: 'y', type: 'STRING', shape: ['n'] });
  try {
    // logSeverityLevel 4 (fatal only): the expected failure need not print an error log
    const session = await ort.InferenceSession.create(g.toBytes(), { logSeverityLevel: 4 });
    await session.release();
    t.diagnostic('en_US.UTF-8 is installed on this machine: the default locale works here');
  } catch (error) {
    assert.match(String(error), /en_US\.UTF-8/);
    t.diagnostic('default locale en_US.UTF-8 missing, as on CI: exported graphs set C.UTF-8 instead');
  }
});

test('murmurHash3 and tokenize match the reference values and com.microsoft ops', async (t) => {
  assert.equal(murmurHash3(''), 0);
  assert.equal(murmurHash3('hello'), 613153351);
  assert.equal(murmurHash3('The quick brown fox jumps over the lazy dog'), 0x2e4ff723);
  assert.deepEqual(tokenize('naïve café—école, x2!'), ['naïve', 'café', 'école', 'x2']);
  const tokens = ['a', 'ab', 'abc', 'abcd', 'abcde', 'ünïcode', '東京', 'σοφία', 'x'.repeat(101)];
  const g = new GraphBuilder({ name: 'hash', opsets: { '': 17, 'com.microsoft': 1 } });
  g.addInput({ name: 'x', type: 'STRING', shape: ['n'] });
  g.addNode({
    op: 'MurmurHash3',
    domain: 'com.microsoft',
    inputs: ['x'],
    outputs: ['h'],
    attributes: { seed: attr.int(0), positive: attr.int(1) },
  });
  g.addOutput({ name: 'h', type: 'UINT32', shape: ['n'] });
  const session = await ort.InferenceSession.create(g.toBytes());
  t.after(() => session.release());
  const result = await session.run({ x: new ort.Tensor('string', tokens, [tokens.length]) });
  assert.deepEqual(
    Array.from(result.h?.data as Uint32Array),
    tokens.map((token) => murmurHash3(token)),
  );
});
