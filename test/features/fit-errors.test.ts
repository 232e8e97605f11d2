/**
 * Bad specs, bad data and bad fitted JSON fail with BAD_REQUEST errors that name the spec path
 * and the column.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StratumError } from '../../src/errors/index.ts';
import { parseFeatureSpec } from '../../src/features/feature-spec.ts';
import { fitFeatures } from '../../src/features/fit.ts';
import { parseFittedFeatures } from '../../src/features/fitted-features.ts';
import { transformRow } from '../../src/features/transform.ts';

const ROWS = [
  { age: 30, city: 'paris', empty: null },
  { age: 40, city: 'lyon', empty: null },
  { age: null, city: 'paris', empty: undefined },
];

function badRequest(pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof StratumError, `expected a StratumError, got ${String(error)}`);
    assert.equal(error.code, 'BAD_REQUEST');
    assert.equal(error.status, 400);
    assert.match(error.message, pattern);
    return true;
  };
}

test('a column no training row has is named with its spec path', async () => {
  await assert.rejects(
    fitFeatures(
      {
        transforms: [
          { column: 'age', transform: 'standardize', missing: 'mean' },
          { column: 'agee', transform: 'minmax' },
        ],
      },
      ROWS,
    ),
    badRequest(/transforms\[1\]\.column: column "agee" is not in any of the 3 training rows/),
  );
});

test('an unknown transform is rejected by the schema with its path', async () => {
  await assert.rejects(
    fitFeatures({ transforms: [{ column: 'age', transform: 'log1p' }] }, ROWS),
    badRequest(/invalid feature spec: transforms\[0\]\.transform/),
  );
});

test('a column with no non-missing values cannot be fitted', async () => {
  await assert.rejects(
    fitFeatures({ transforms: [{ column: 'empty', transform: 'standardize', missing: 'mean' }] }, ROWS),
    badRequest(/transforms\[0\]\.column: column "empty" has no non-missing values/),
  );
  await assert.rejects(
    fitFeatures({ transforms: [{ column: 'empty', transform: 'onehot' }] }, ROWS),
    badRequest(/transforms\[0\]\.column: column "empty" has no non-missing values/),
  );
});

test('other spec mistakes: no transforms, constant without value, extra keys, mixed column types, bad boundaries', () => {
  assert.throws(() => parseFeatureSpec({ transforms: [] }), badRequest(/transforms:/));
  assert.throws(
    () => parseFeatureSpec({ transforms: [{ column: 'age', transform: 'impute', strategy: 'constant' }] }),
    badRequest(/transforms\[0\]\.value: strategy 'constant' needs a numeric value/),
  );
  assert.throws(
    () => parseFeatureSpec({ transforms: [{ column: 'age', transform: 'standardize', scale: 2 }] }),
    badRequest(/transforms\[0\]/),
  );
  assert.throws(
    () =>
      parseFeatureSpec({
        transforms: [
          { column: 'age', transform: 'standardize' },
          { column: 'age', transform: 'onehot' },
        ],
      }),
    badRequest(/transforms\[1\]\.column: column "age" is read as a string here but as a number by transforms\[0\]/),
  );
  assert.throws(
    () => parseFeatureSpec({ transforms: [{ column: 'age', transform: 'bucketize', boundaries: [3, 1] }] }),
    badRequest(/transforms\[0\]\.boundaries: must be strictly ascending/),
  );
});

test('empty data, cells of the wrong type, and a too-high minCount', async () => {
  await assert.rejects(
    fitFeatures({ transforms: [{ column: 'age', transform: 'standardize' }] }, []),
    badRequest(/empty data set/),
  );
  await assert.rejects(
    fitFeatures({ transforms: [{ column: 'age', transform: 'standardize' }] }, [{ age: 'forty' }]),
    badRequest(/column "age": expected a number \(or null for missing\), got "forty"/),
  );
  await assert.rejects(
    fitFeatures({ transforms: [{ column: 'city', transform: 'onehot', minCount: 5 }] }, ROWS),
    badRequest(/transforms\[0\]\.minCount: no category of column "city" occurs 5 times/),
  );
  const fitted = await fitFeatures({ transforms: [{ column: 'city', transform: 'onehot' }] }, ROWS);
  assert.throws(
    () => transformRow(fitted, { city: { name: 'paris' } }),
    badRequest(/column "city": expected a string/),
  );
});

test('a missing value is filled only as the spec says: missing: error (the default) names the transform, the column and the row', async () => {
  await assert.rejects(
    fitFeatures({ transforms: [{ column: 'age', transform: 'minmax' }] }, ROWS),
    badRequest(
      /^transforms\[0\]\.missing: column "age" has no value in training row 3, and a missing value is an error \(missing: error, the default\); set missing to mean, median or constant \(with fillValue\) to fill missing values$/,
    ),
  );
  // An impute transform on the same column fills its own feature only: the other still refuses.
  await assert.rejects(
    fitFeatures(
      {
        transforms: [
          { column: 'age', transform: 'impute' },
          { column: 'age', transform: 'bucketize', boundaries: [35] },
        ],
      },
      ROWS,
    ),
    badRequest(/^transforms\[1\]\.missing: column "age" has no value in training row 3/),
  );
  const fills = async (missing: Record<string, unknown>): Promise<unknown> => {
    const fitted = await fitFeatures({ transforms: [{ column: 'age', transform: 'standardize', ...missing }] }, [
      ...ROWS,
      { age: 80 },
    ]);
    return fitted.transforms[0]?.transform === 'standardize' ? fitted.transforms[0].fill : undefined;
  };
  assert.equal(await fills({ missing: 'mean' }), 50);
  assert.equal(await fills({ missing: 'median' }), 40);
  assert.equal(await fills({ missing: 'constant', fillValue: -1 }), -1);
  assert.throws(
    () => parseFeatureSpec({ transforms: [{ column: 'age', transform: 'standardize', missing: 'constant' }] }),
    badRequest(/transforms\[0\]\.fillValue: missing: constant needs a numeric fillValue/),
  );
  assert.throws(
    () => parseFeatureSpec({ transforms: [{ column: 'age', transform: 'minmax', fillValue: 3 }] }),
    badRequest(/transforms\[0\]\.fillValue: fillValue is only used with missing: constant \(missing is error\)/),
  );
  assert.throws(
    () => parseFeatureSpec({ transforms: [{ column: 'age', transform: 'minmax', missing: 'zero' }] }),
    badRequest(/transforms\[0\]\.missing/),
  );
});

test('fitted JSON that was edited inconsistently is rejected', async () => {
  const fitted = await fitFeatures(
    { transforms: [{ column: 'age', transform: 'standardize', missing: 'mean' }] },
    ROWS,
  );
  assert.throws(
    () => parseFittedFeatures({ ...fitted, transforms: [{ ...fitted.transforms[0], mean: 'x' }] }),
    badRequest(/invalid fitted features: transforms\[0\]/),
  );
  assert.throws(
    () => parseFittedFeatures({ ...fitted, featureNames: ['a', 'b'] }),
    badRequest(/featureNames has 2 entries/),
  );
  assert.throws(
    () => parseFittedFeatures({ ...fitted, inputs: [{ column: 'age', type: 'STRING' }] }),
    badRequest(/reads column "age" as FLOAT or DOUBLE, but inputs declare STRING/),
  );
});

test('text: a column of empty strings cannot be fitted, and the n-gram range must be ordered', async () => {
  await assert.rejects(
    fitFeatures({ transforms: [{ column: 'note', transform: 'text' }] }, [{ note: '' }, { note: null }]),
    badRequest(/transforms\[0\]\.column: column "note" has no non-missing values/),
  );
  assert.throws(
    () => parseFeatureSpec({ transforms: [{ column: 'note', transform: 'text', ngramRange: [3, 1] }] }),
    badRequest(/transforms\[0\]\.ngramRange: the first length must not exceed the second/),
  );
  assert.throws(
    () =>
      parseFeatureSpec({
        transforms: [
          { column: 'note', transform: 'text' },
          { column: 'note', transform: 'minmax' },
        ],
      }),
    badRequest(/transforms\[1\]\.column: column "note" is read as a number here but as a string by transforms\[0\]/),
  );
});
