#!/usr/bin/env bash
# Installs the data the tests read from Debian packages when it is missing: the ONNX backend test
# corpus (libonnx-testdata: one folder per operator test with model.onnx and TensorProto inputs and
# outputs), served by test/api/onnx-backend-corpus.test.ts. Idempotent: nothing runs when present.
# The test itself fails with a clear message if the data is still missing after this.
set -u

CORPUS=/usr/share/libonnx-testdata/data/node

if [ ! -d "$CORPUS" ]; then
  echo "test-data: installing libonnx-testdata (the ONNX backend test models)" >&2
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libonnx-testdata >&2
  elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libonnx-testdata >&2
  else
    echo "test-data: not root and no sudo: install libonnx-testdata yourself (apt-get install libonnx-testdata)" >&2
  fi
  [ -d "$CORPUS" ] || echo "test-data: $CORPUS is still missing; the ONNX backend corpus test will fail" >&2
fi
exit 0
