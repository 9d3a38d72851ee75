#!/usr/bin/env bash
# The whole test suite: the Rust tests (library, command line, web engine),
# the Python package's tests, then the page built for the browser and tested in Debian's chromium
# (web/tests/page.test.mjs; needs node, npm and /usr/bin/chromium, which
# .ci/run installs). COCHRAN_SKIP_BROWSER=1 runs the Rust tests alone.
set -euo pipefail
cd "$(dirname "$0")"
cargo test
# The Python package, built into a virtual environment, and its tests (the
# metafor goldens through the Python API, from files and from pandas, polars
# and pyarrow frames). COCHRAN_SKIP_PYTHON=1 skips them.
if [ "${COCHRAN_SKIP_PYTHON:-0}" != 1 ]; then
  python3 -m venv target/python-venv
  target/python-venv/bin/pip install -q --disable-pip-version-check ./python pytest pandas polars pyarrow
  (cd target && COCHRAN_REQUIRE_FRAMES=1 python-venv/bin/python -m pytest -q --import-mode=importlib ../python/tests)
fi
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
