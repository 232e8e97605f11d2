#!/usr/bin/env node
// The CLI runs the compiled JavaScript in dist/ (`npm run build`; `npm ci` builds it through the
// `prepare` script). The TypeScript sources run through tsx only in tests, benchmarks and scripts.
try {
  await import('../dist/cli/main.js');
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/cli/main.js')) {
    console.error('stratum: dist/ is missing; run `npm run build` in the checkout first.');
    process.exit(1);
  }
  throw error;
}
