/**
 * The incremental RFC 4180 parser: quoting, escaped quotes, CRLF, newlines inside quotes, the
 * same records and the same line numbers whatever the chunk boundaries.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CsvParser } from '../../src/data/csv-parser.ts';
import { StratumError } from '../../src/errors/index.ts';

function parse(text: string, chunkSize = text.length || 1, delimiter = ','): string[][] {
  const parser = new CsvParser({ label: 'data.csv', delimiter });
  const out: string[][] = [];
  for (let i = 0; i < text.length; i += chunkSize) out.push(...parser.push(text.slice(i, i + chunkSize)));
  out.push(...parser.end());
  return out;
}

/** Parses `text` whole, then split at every position into two chunks, then one character at a time. */
function parseEveryWay(text: string): string[][] {
  const whole = parse(text);
  assert.deepEqual(parse(text, 1), whole, 'one character per chunk');
  for (let cut = 1; cut < text.length; cut++) {
    const parser = new CsvParser({ label: 'data.csv' });
    const out = [...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut)), ...parser.end()];
    assert.deepEqual(out, whole, `split at ${cut}`);
  }
  return whole;
}

test('plain records with LF, CRLF, lone CR and no final newline', () => {
  assert.deepEqual(parseEveryWay('a,b,c\n1,2,3\n'), [
    ['a', 'b', 'c'],
    ['1', '2', '3'],
  ]);
  assert.deepEqual(parseEveryWay('a,b\r\n1,2\r\n'), [
    ['a', 'b'],
    ['1', '2'],
  ]);
  assert.deepEqual(parseEveryWay('a,b\r1,2'), [
    ['a', 'b'],
    ['1', '2'],
  ]);
  assert.deepEqual(parseEveryWay('a,b\n1,2'), [
    ['a', 'b'],
    ['1', '2'],
  ]);
});

test('quoted fields hold delimiters, escaped quotes, LF and CRLF', () => {
  assert.deepEqual(parseEveryWay('"a,b","say ""hi""","line1\nline2","x\r\ny"\r\n'), [
    ['a,b', 'say "hi"', 'line1\nline2', 'x\r\ny'],
  ]);
  assert.deepEqual(parseEveryWay('"",""""\n'), [['', '"']]);
});

test('empty fields, trailing delimiters and blank lines', () => {
  assert.deepEqual(parseEveryWay('a,,c\n,,\n'), [
    ['a', '', 'c'],
    ['', '', ''],
  ]);
  assert.deepEqual(parseEveryWay('a,b,\n'), [['a', 'b', '']]);
  assert.deepEqual(parseEveryWay('a\n\n\r\nb\n'), [['a'], ['b']]);
  assert.deepEqual(parseEveryWay('""\n'), [['']], 'a quoted empty field is a record, not a blank line');
  assert.deepEqual(parse(''), []);
});

test('a quote inside an unquoted field is kept as text; other delimiters work', () => {
  assert.deepEqual(parseEveryWay('5"9,x\n'), [['5"9', 'x']]);
  assert.deepEqual(parse('a;b\n"1;2";3\n', 4, ';'), [
    ['a', 'b'],
    ['1;2', '3'],
  ]);
  assert.deepEqual(parse('a\tb\n1\t2\n', 3, '\t'), [
    ['a', 'b'],
    ['1', '2'],
  ]);
});

test('each record starts on the line an editor shows, whatever the chunks: quoted line breaks, CRLF, CR and blank lines count', () => {
  const text = 'h1,h2\r\n"a\r\nb",1\n\n\r\n"x\ry\nz",2\r3,"""\n"""\n4,5';
  const expected = [1, 2, 6, 9, 11];
  const linesOf = (chunkSize: number): number[] => {
    const parser = new CsvParser({ label: 'data.csv' });
    const lines: number[] = [];
    for (let i = 0; i < text.length; i += chunkSize) {
      parser.push(text.slice(i, i + chunkSize));
      lines.push(...parser.lines);
    }
    parser.end();
    lines.push(...parser.lines);
    return lines;
  };
  for (const size of [1, 2, 3, 5, text.length]) assert.deepEqual(linesOf(size), expected, `chunks of ${size}`);
  assert.deepEqual(parse(text).length, expected.length);
  const parser = new CsvParser({ label: 'part.csv', firstLine: 40 });
  parser.push('a\n\nb\n');
  assert.deepEqual(parser.lines, [40, 42]);
});

test('malformed quoting fails with the file, the line and the column', () => {
  const bad = (pattern: RegExp) => (error: unknown) =>
    error instanceof StratumError && error.code === 'BAD_REQUEST' && pattern.test(error.message);
  assert.throws(
    () => parse('a,b\n"two\nlines",1\n2,"unclosed\n3\n'),
    bad(/^data\.csv: line 4, column 2: a quoted field opened on this line is not closed before the end of the file$/),
  );
  assert.throws(() => parse('a\n"x\ny"z\n'), bad(/^data\.csv: line 3, column 1: unexpected "z" after a closing quote/));
  const named = new CsvParser({ label: 'named.csv', columnNames: 'first-record' });
  assert.throws(() => named.push('id,note\n1,"ok"!\n'), bad(/^named\.csv: line 2, column 2 "note": unexpected "!"/));
  const given = new CsvParser({ label: 'given.csv', columnNames: ['n'] });
  assert.throws(() => given.push('"1"2\n'), bad(/^given\.csv: line 1, column 1 "n": unexpected "2"/));
  assert.throws(() => new CsvParser({ label: 'x', delimiter: ',,' }), bad(/delimiter/));
  assert.throws(() => new CsvParser({ label: 'x', delimiter: '"' }), bad(/delimiter/));
});
