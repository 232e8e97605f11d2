#!/usr/bin/env bash
# The one test command (README and .ci/run): engines up, test data installed, type-check, lint,
# then every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
bash scripts/test-data.sh
echo "▸ type-check" >&2
npx --no-install tsc -p tsconfig.json --noEmit
echo "▸ build (the CLI and its workers run the compiled dist/)" >&2
npm run --silent build
echo "▸ lint" >&2
npm run --silent lint
echo "▸ tests" >&2
mapfile -t files < <(find test -name "*.test.ts" | sort)
node --import tsx --test --test-concurrency=1 "${files[@]}"
