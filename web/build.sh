#!/usr/bin/env bash
# Builds the page into web/dist: the engine compiled to WebAssembly (embedded
# in engine.js, so that the page also works opened from file://), the page
# itself and the bundled example files. Prints the page's size.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true
cargo build -q --release -p cochran-web --target wasm32-unknown-unknown
dist=web/dist
rm -rf "$dist" && mkdir -p "$dist"
wasm=target/wasm32-unknown-unknown/release/cochran_web.wasm
cp web/page/index.html web/page/app.js web/page/style.css "$dist/"
python3 - "$wasm" "$dist" <<'PY'
import base64, json, sys
wasm, dist = sys.argv[1], sys.argv[2]
with open(wasm, "rb") as fh:
    encoded = base64.b64encode(fh.read()).decode()
with open(f"{dist}/engine.js", "w") as fh:
    fh.write(f'window.COCHRAN_WASM = "{encoded}";\n')
examples = {
    "hip_oa_msc.csv": open("datasets/hip_oa_msc.csv").read(),
    "bcg.csv": open("datasets/bcg.csv").read(),
}
with open(f"{dist}/examples.js", "w") as fh:
    fh.write("window.COCHRAN_EXAMPLES = " + json.dumps(examples) + ";\n")
PY
total=$(cat "$dist"/* | wc -c)
compressed=$(cat "$dist"/* | gzip -9 | wc -c)
echo "web/dist: $total bytes, $compressed gzipped"
