/** Formats zod issues for people: one `path: message` per issue, paths written as in JavaScript. */
import type { z } from 'zod';

/** `inputs[0].shape[1]: expected number, received string; id: …` */
export function formatIssues(error: Pick<z.ZodError, 'issues'>): string {
  return error.issues
    .map((issue) => {
      const path = issue.path
        .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
        .join('');
      return `${path || '(body)'}: ${issue.message}`;
    })
    .join('; ');
}
