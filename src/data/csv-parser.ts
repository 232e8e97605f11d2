/**
 * An incremental RFC 4180 parser: text arrives in chunks of any size (a record, a quoted field or a
 * CRLF may span chunks) and complete records come out. Quoted fields may hold delimiters, newlines
 * and doubled quotes (`""` → `"`). Lenient where RFC 4180 is silent in practice: LF and lone CR
 * also end records, a quote inside an unquoted field is kept as text, and empty lines are skipped.
 */
import { StratumError } from '../errors/index.ts';

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
   * Names a record in error messages from its 0-based index.
   * @default (index) => `record ${index + 1}`
   */
  readonly describeRecord?: (index: number) => string;
}

/** Parses CSV text pushed in chunks into records (arrays of raw field strings). */
export class CsvParser {
  readonly #delimiter: number;
  readonly #label: string;
  readonly #describeRecord: (index: number) => string;
  #state = FIELD_START;
  #field = '';
  #record: string[] = [];
  #quoted = false;
  #skipLf = false;
  #records = 0;

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
    this.#describeRecord = options.describeRecord ?? ((index) => `record ${index + 1}`);
  }

  /** How many records have been completed so far (empty lines not counted). */
  get recordCount(): number {
    return this.#records;
  }

  /** Consumes `chunk` and returns the records it completed. */
  push(chunk: string): string[][] {
    const out: string[][] = [];
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
        if (close === -1) {
          this.#field += chunk.slice(i);
          return out;
        }
        this.#field += chunk.slice(i, close);
        this.#state = QUOTE_IN_QUOTED;
        i = close + 1;
        continue;
      }
      let c = chunk.charCodeAt(i);
      if (this.#state === QUOTE_IN_QUOTED) {
        if (c === QUOTE) {
          this.#field += '"';
          this.#state = QUOTED;
          i++;
          continue;
        }
        if (c !== delimiter && c !== LF && c !== CR) {
          throw new StratumError(
            'BAD_REQUEST',
            `${this.#label}: ${this.#describeRecord(this.#records)}: unexpected ${JSON.stringify(chunk[i])} after a closing quote (a quote inside a quoted field is written "")`,
          );
        }
      } else {
        if (this.#state === FIELD_START && c === QUOTE) {
          this.#state = QUOTED;
          this.#quoted = true;
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
    }
    return out;
  }

  /** Signals the end of input and returns the last record, if the text did not end with a newline. */
  end(): string[][] {
    const out: string[][] = [];
    if (this.#state === QUOTED) {
      throw new StratumError(
        'BAD_REQUEST',
        `${this.#label}: ${this.#describeRecord(this.#records)}: a quoted field is not closed before the end of the file`,
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

  #endRecord(out: string[][]): void {
    const record = this.#record;
    this.#record = [];
    const blank = record.length === 1 && record[0] === '' && !this.#quoted;
    this.#quoted = false;
    if (blank) return;
    this.#records++;
    out.push(record);
  }
}
