/** Renders the error catalogue as the Markdown of `docs/errors.md` (a test keeps the two equal). */
import { ERROR_CODES, GrpcStatus } from './codes.ts';

/** The full text of `docs/errors.md`. */
export function renderErrorsMarkdown(): string {
  const rows = Object.entries(ERROR_CODES).map(
    ([code, e]) => `| \`${code}\` | ${e.http} | ${e.grpc} (${GrpcStatus[e.grpc]}) | ${e.summary} |`,
  );
  return [
    '# Error codes',
    '',
    'Every error Stratum returns carries one of these codes. Over HTTP the body is',
    '`{"error": "<message>", "code": "<CODE>"}` with the status below; over gRPC the status code',
    'below with the message. Generated from `src/errors/codes.ts` by `npm run docs:errors`;',
    '`test/errors/errors-doc.test.ts` fails when the two differ.',
    '',
    '| code | HTTP | gRPC | meaning |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
