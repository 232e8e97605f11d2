#!/usr/bin/env bash
# Installs what the tests need from Debian packages when it is missing. Idempotent: nothing runs
# when present. A test whose tool is still missing after this fails with a clear message.
# - libonnx-testdata: the ONNX backend test corpus (one folder per operator test with model.onnx
#   and TensorProto inputs and outputs), served by test/api/onnx-backend-corpus.test.ts;
# - nginx: the load balancer in front of two replicas in the cluster test (test/cluster/);
# - chromium: the browser the dashboard test drives (test/dashboard/);
# - prometheus (with promtool): the real monitoring stack test (test/monitor/prometheus.test.ts).
set -u

install_packages() {
  echo "test-data: installing $*" >&2
  if [ "$(id -u)" -eq 0 ]; then
    { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; }; } >&2
  elif command -v sudo >/dev/null 2>&1; then
    { sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" ||
      { sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; }; } >&2
  else
    echo "test-data: not root and no sudo: install $* yourself (apt-get install $*)" >&2
  fi
}

missing=()
CORPUS=/usr/share/libonnx-testdata/data/node
[ -d "$CORPUS" ] || missing+=(libonnx-testdata)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/prometheus ] && [ -x /usr/bin/promtool ] || missing+=(prometheus)
if [ "${#missing[@]}" -gt 0 ]; then
  install_packages "${missing[@]}"
  [ -d "$CORPUS" ] || echo "test-data: $CORPUS is still missing; the ONNX backend corpus test will fail" >&2
  [ -x /usr/sbin/nginx ] || echo "test-data: nginx is still missing; the cluster test will fail" >&2
  [ -x /usr/bin/chromium ] || echo "test-data: chromium is still missing; the dashboard test will fail" >&2
  [ -x /usr/bin/prometheus ] || echo "test-data: prometheus is still missing; the Prometheus test will fail" >&2
fi
exit 0
