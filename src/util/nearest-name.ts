/**
 * The known name nearest a misspelt one, for "did you mean" hints: edit distance with adjacent
 * transpositions (`lable` → `label` is one edit), case ignored, and a hint only when the names
 * are close enough that the guess is likely right.
 */

/**
 * Edits (insert, delete, substitute, swap two adjacent characters) that turn `a` into `b`: the
 * optimal string alignment distance.
 *
 * @example editDistance('lable', 'label') // 1
 */
export function editDistance(a: string, b: string): number {
  // Three rows of the dynamic-programming table: two back, for transpositions.
  let previous2: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (previous2[j - 2] as number) + 1);
      }
      current.push(best);
    }
    previous2 = previous;
    previous = current;
  }
  return previous[b.length] as number;
}

/**
 * The candidate nearest `name`, or undefined when none is close: at most one edit for names of up
 * to four characters, two up to eight, three beyond (case differences are free). Ties go to the
 * earlier candidate.
 *
 * @example nearestName('lable', ['name', 'label', 'limit']) // 'label'
 */
export function nearestName(name: string, candidates: Iterable<string>): string | undefined {
  const wanted = name.toLowerCase();
  const allowed = wanted.length <= 4 ? 1 : wanted.length <= 8 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = allowed + 1;
  for (const candidate of candidates) {
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
