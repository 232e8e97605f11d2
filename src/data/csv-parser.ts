/**
 * An incremental RFC 4180 parser: text arrives in chunks of any size (a record, a quoted field or a
 * CRLF may span chunks) and complete records come out, each with the line of the file it starts
 * on. Quoted fields may hold delimiters, newlines and doubled quotes (`""` → `"`). Lenient where
 * RFC 4180 is silent in practice: LF and lone CR also end records, a quote inside an unquoted field
 * is kept as text, and empty lines are skipped.
 *
 * Lines are counted as an editor numbers them: from 1, every LF, CRLF or lone CR ends one, inside
 * quoted fields and on blank lines too, so an error's line is the line a person opens the file at.
 */
import { StratumError } from '../errors/index.ts';
import { describeColumn } from './column-schema.ts';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_IN_QUOTED = 3;

/** Options of {@link CsvParser}. */
export interface CsvParserOptions {
  /**
   * The field separator, one character.
   * @default ','
   */
  readonly delimiter?: string;
  /** Names the input in error messages (the file path). */
  readonly label: string;
  /**
   * The column names error messages give beside a field's number: `'first-record'` takes them from
   * the first record (the header), as soon as it is read.
   * @default none: fields are named by their number alone
   */
  readonly columnNames?: readonly string[] | 'first-record';
  /**
   * The line of the file the first chunk starts on, when the text given is not the whole file.
   * @default 1
   */
  readonly firstLine?: number;
}

/** Parses CSV text pushed in chunks into records (arrays of raw field strings). */
export class CsvParser {
  readonly #delimiter: number;
  readonly #label: string;
  #columnNames: readonly string[] | 'first-record';
  #state = FIELD_START;
  #field = '';
  #record: string[] = [];
  #quoted = false;
  #skipLf = false;
  #records = 0;
  /** The line the parser is on. */
  #line = 1;
  /** The line the record being read starts on. */
  #recordLine = 1;
  /** The line the quoted field being read opens on. */
  #quoteLine = 1;
  /** Whether the last character read inside a quoted field was a CR (a CRLF there is one line break). */
  #afterCr = false;
  /** Start lines of the records the last `push` or `end` returned. */
  #lines: number[] = [];

  constructor(options: CsvParserOptions) {
    const delimiter = options.delimiter ?? ',';
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
      throw new StratumError(
        'BAD_REQUEST',
        `csv delimiter: expected one character other than a quote or newline, got ${JSON.stringify(delimiter)}`,
      );
    }
    this.#delimiter = delimiter.charCodeAt(0);
    this.#label = options.label;
    this.#columnNames = options.columnNames ?? [];
    this.#line = options.firstLine ?? 1;
    this.#recordLine = this.#line;
  }

  /** How many records have been completed so far (empty lines not counted). */
  get recordCount(): number {
    return this.#records;
  }

  /**
   * The 1-based line of the file each record returned by the last {@link push} or {@link end}
   * starts on, in the same order (the header, when there is one, is usually line 1).
   */
  get lines(): readonly number[] {
    return this.#lines;
  }

  /** Consumes `chunk` and returns the records it completed (their lines in {@link lines}). */
  push(chunk: string): string[][] {
    const out: string[][] = [];
    this.#lines = [];
    const n = chunk.length;
    const delimiter = this.#delimiter;
    let i = 0;
    if (this.#skipLf && n > 0) {
      // The previous chunk ended with the CR of a CRLF.
      this.#skipLf = false;
      if (chunk.charCodeAt(0) === LF) i = 1;
    }
    while (i < n) {
      if (this.#state === QUOTED) {
        const close = chunk.indexOf('"', i);
        const stop = close === -1 ? n : close;
        this.#countLines(chunk, i, stop);
        this.#field += chunk.slice(i, stop);
        if (close === -1) return out;
        this.#state = QUOTE_IN_QUOTED;
        i = close + 1;
        continue;
      }
      let c = chunk.charCodeAt(i);
      if (this.#state === QUOTE_IN_QUOTED) {
        if (c === QUOTE) {
          this.#field += '"';
          this.#state = QUOTED;
          this.#afterCr = false;
          i++;
          continue;
        }
        if (c !== delimiter && c !== LF && c !== CR) {
          throw new StratumError(
            'BAD_REQUEST',
            `${this.#label}: line ${this.#line}, ${this.#describeField()}: unexpected ${JSON.stringify(chunk[i])} after a closing quote (a quote inside a quoted field is written "")`,
            { details: { file: this.#label, line: this.#line, columnNumber: this.#record.length + 1 } },
          );
        }
      } else {
        if (this.#state === FIELD_START && c === QUOTE) {
          this.#state = QUOTED;
          this.#quoted = true;
          this.#quoteLine = this.#line;
          this.#afterCr = false;
          i++;
          continue;
        }
        let j = i;
        while (j < n) {
          c = chunk.charCodeAt(j);
          if (c === delimiter || c === LF || c === CR) break;
          j++;
        }
        if (j > i) this.#field += chunk.slice(i, j);
        if (j === n) {
          this.#state = UNQUOTED;
          return out;
        }
        i = j;
      }
      // chunk[i] ends the field: a delimiter, LF or CR.
      this.#record.push(this.#field);
      this.#field = '';
      this.#state = FIELD_START;
      i++;
      if (c === delimiter) continue;
      if (c === CR) {
        if (i < n) {
          if (chunk.charCodeAt(i) === LF) i++;
        } else {
          this.#skipLf = true;
        }
      }
      this.#endRecord(out);
      this.#line++;
      this.#recordLine = this.#line;
    }
    return out;
  }

  /** Signals the end of input and returns the last record, if the text did not end with a newline. */
  end(): string[][] {
    const out: string[][] = [];
    this.#lines = [];
    if (this.#state === QUOTED) {
      throw new StratumError(
        'BAD_REQUEST',
        `${this.#label}: line ${this.#quoteLine}, ${this.#describeField()}: a quoted field opened on this line is not closed before the end of the file`,
        { details: { file: this.#label, line: this.#quoteLine, columnNumber: this.#record.length + 1 } },
      );
    }
    if (this.#state !== FIELD_START || this.#record.length > 0) {
      this.#record.push(this.#field);
      this.#field = '';
      this.#state = FIELD_START;
      this.#endRecord(out);
    }
    return out;
  }

  /** The field being read, for messages: `column 3 "age"`. */
  #describeField(): string {
    const index = this.#record.length;
    const names = this.#columnNames;
    const name = names === 'first-record' ? undefined : names[index];
    return name === undefined ? `column ${index + 1}` : describeColumn(name, index + 1);
  }

  /** Counts the line breaks in `text[from, to)`, quoted text the parser is consuming. */
  #countLines(text: string, from: number, to: number): void {
    if (to <= from) return;
    const lf = text.indexOf('\n', from);
    const cr = text.indexOf('\r', from);
    const first = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
    if (first === -1 || first >= to) {
      this.#afterCr = false;
      return;
    }
    // Only from the first break on is every character looked at; a CRLF counts once, even across chunks.
    let afterCr = first === from && this.#afterCr;
    let line = this.#line;
    for (let k = first; k < to; k++) {
      const c = text.charCodeAt(k);
      if (c === CR) line++;
      else if (c === LF && !afterCr) line++;
      afterCr = c === CR;
    }
    this.#line = line;
    this.#afterCr = afterCr;
  }

  #endRecord(out: string[][]): void {
    const record = this.#record;
    this.#record = [];
    const blank = record.length === 1 && record[0] === '' && !this.#quoted;
    this.#quoted = false;
    if (blank) return;
    this.#records++;
    if (this.#columnNames === 'first-record') this.#columnNames = record;
    out.push(record);
    this.#lines.push(this.#recordLine);
  }
}
