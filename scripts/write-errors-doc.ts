/** Regenerates docs/errors.md from the error catalogue (`npm run docs:errors`). */
import { writeFileSync } from 'node:fs';
import { renderErrorsMarkdown } from '../src/errors/index.ts';

writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorsMarkdown());
process.stdout.write('wrote docs/errors.md\n');
