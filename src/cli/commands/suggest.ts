/**
 * "Did you mean …?" for a mistyped command, subcommand, flag or choice: the closest known word by
 * edit distance (a swap of two neighbouring letters counts as one edit, the commonest typo), when
 * it is close enough to be what the user meant rather than a guess.
 */

/** Edits (insert, delete, substitute, swap neighbours) that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  // Optimal string alignment: three rows of the dynamic-programming table are enough.
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, (before[j - 2] ?? 0) + 1);
      current.push(best);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The known word closest to `word`, or undefined when none is within a third of its length (at
 * least one edit) and none starts with it.
 * @example closest('modles', ['models', 'alias']) // 'models'
 */
export function closest(word: string, known: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: { word: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { word: candidate, distance };
  }
  if (best !== undefined) return best.word;
  const extended = known.filter((candidate) => word.length >= 2 && candidate.startsWith(word));
  return extended.length === 1 ? extended[0] : undefined;
}

/** `; did you mean "models"?` when a known word is close, else the empty string. */
export function didYouMean(word: string, known: readonly string[], quote = '"'): string {
  const match = closest(word, known);
  return match === undefined ? '' : `; did you mean ${quote}${match}${quote}?`;
}
