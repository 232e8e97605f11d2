/**
 * Walks the audit log from its first record and checks every link: positions without gaps, each
 * record's hash recomputed from its fields, each `prevHash` equal to the hash before it, and the
 * last record where the log's head counter says the chain ends. The first failure is the answer:
 * after it, every later record is suspect anyway.
 */
import { auditHash, type AuditRecord, GENESIS_HASH } from './audit-record.ts';

/** What the verifier reads: the head counter and the records in order. */
export interface AuditChainSource {
  /** `seq` of the last record appended (0 when none), from the counter appends advance. */
  head(): Promise<number>;
  /** Up to `limit` records with `seq > afterSeq`, in `seq` order. */
  read(options: { readonly afterSeq: number; readonly limit: number }): Promise<readonly AuditRecord[]>;
}

/**
 * Why a record breaks the chain:
 * - `hash-mismatch`: its fields do not hash to its `hash` (it was edited);
 * - `prev-hash-mismatch`: its `prevHash` is not the previous record's hash (a record before it was
 *   replaced, or it was moved);
 * - `gap`: a position is missing (a record was deleted), at the end too (the head counter is past
 *   the last record);
 * - `beyond-head`: a record sits past the head counter (it was added outside the log).
 */
export type AuditChainBreakReason = 'hash-mismatch' | 'prev-hash-mismatch' | 'gap' | 'beyond-head';

/** The first broken record. */
export interface AuditChainBreak {
  /** The position that is wrong (for a gap: the first missing one). */
  readonly seq: number;
  readonly reason: AuditChainBreakReason;
  /** One line for people, naming the record. */
  readonly message: string;
}

/** What a verification found. */
export interface AuditChainVerification {
  readonly ok: boolean;
  /** Records checked before the verdict. */
  readonly checked: number;
  /** The head counter when the walk started. */
  readonly head: number;
  /** Hash of the last good record ({@link GENESIS_HASH} when none). */
  readonly lastHash: string;
  /** Present when `ok` is false. */
  readonly broken?: AuditChainBreak;
}

/** Options of {@link verifyAuditChain}. */
export interface VerifyAuditChainOptions {
  readonly source: AuditChainSource;
  /** Records read at a time. @default 500 */
  readonly pageSize?: number;
}

/**
 * Verifies the whole chain. Appends may run meanwhile: the head is read before the walk (records up
 * to it must all be there) and again when a record past it turns up (it must not lie beyond the
 * head, which only grows).
 *
 * @example
 * const result = await verifyAuditChain({ source: store.audit });
 * if (!result.ok) console.error(result.broken?.message);
 */
export async function verifyAuditChain(options: VerifyAuditChainOptions): Promise<AuditChainVerification> {
  const { source } = options;
  const pageSize = options.pageSize ?? 500;
  const head = await source.head();
  let headNow = head;
  let expected = 1;
  let prevHash = GENESIS_HASH;
  let checked = 0;
  const verdict = (broken?: AuditChainBreak): AuditChainVerification => ({
    ok: broken === undefined,
    checked,
    head,
    lastHash: prevHash,
    ...(broken !== undefined && { broken }),
  });
  for (;;) {
    const records = await source.read({ afterSeq: expected - 1, limit: pageSize });
    for (const record of records) {
      // Past the head read at the start: appended since, or put there behind the log's back.
      if (record.seq > headNow) headNow = await source.head();
      if (record.seq > headNow) {
        return verdict({
          seq: record.seq,
          reason: 'beyond-head',
          message: `record ${record.seq} lies beyond the log's head (${headNow}): it was not appended through the audit log`,
        });
      }
      const broken = checkRecord(record, { expected, prevHash });
      if (broken !== undefined) return verdict(broken);
      prevHash = record.hash;
      expected += 1;
      checked += 1;
    }
    if (records.length < pageSize) break;
  }
  const last = expected - 1;
  if (last < head) {
    return verdict({
      seq: expected,
      reason: 'gap',
      message: `record ${expected} is missing: the log's head is at ${head} but its last record is ${last} (records were deleted from the end)`,
    });
  }
  return verdict();
}

function checkRecord(record: AuditRecord, link: { expected: number; prevHash: string }): AuditChainBreak | undefined {
  const { expected, prevHash } = link;
  if (record.seq !== expected) {
    return {
      seq: expected,
      reason: 'gap',
      message: `record ${expected} is missing: record ${record.seq} follows record ${expected - 1}`,
    };
  }
  const computed = auditHash(record);
  if (computed !== record.hash) {
    return {
      seq: record.seq,
      reason: 'hash-mismatch',
      message: `record ${record.seq}: hash mismatch, its fields hash to ${computed} but it holds ${record.hash} (the record was changed)`,
    };
  }
  if (record.prevHash !== prevHash) {
    return {
      seq: record.seq,
      reason: 'prev-hash-mismatch',
      message: `record ${record.seq}: prev-hash mismatch, it holds ${record.prevHash} but record ${expected - 1} hashes to ${prevHash} (a record before it was replaced or it was moved)`,
    };
  }
  return undefined;
}
