#!/usr/bin/env bash
# The whole test suite: the Rust tests (library, command line, web engine),
# then the page built for the browser and tested in Debian's chromium
# (web/tests/page.test.mjs; needs node, npm and /usr/bin/chromium, which
# .ci/run installs). COCHRAN_SKIP_BROWSER=1 runs the Rust tests alone.
set -euo pipefail
cd "$(dirname "$0")"
cargo test
if [ "${COCHRAN_SKIP_BROWSER:-0}" = 1 ]; then
  echo "browser tests skipped (COCHRAN_SKIP_BROWSER=1)"
  exit 0
fi
if ! command -v node >/dev/null || ! [ -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "the browser tests need node and chromium (apt-get install -y --no-install-recommends chromium nodejs npm)," >&2
  echo "or COCHRAN_SKIP_BROWSER=1 to skip them" >&2
  exit 1
fi
bash web/build.sh
(cd web/tests && npm ci --no-audit --no-fund --silent && COCHRAN_BIN="$PWD/../../target/debug/cochran" node page.test.mjs)
