#!/usr/bin/env bash
# Times `cochran analyze` end to end on a generated 1,000,000-row generic CSV.
# Usage: benches/large_csv.sh [ROWS]   (needs awk; writes into target/)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
file=target/large_${rows}.csv
if [ ! -f "$file" ]; then
  awk -v n="$rows" 'BEGIN {
    srand(42); print "study,yi,vi";
    for (i = 1; i <= n; i++) { v = 0.01 + 0.2 * rand(); printf "S%d,%.6f,%.6f\n", i, 0.3 + (rand() - 0.5) + (rand() - 0.5) * sqrt(v), v }
  }' > "$file"
fi
cargo build --release --quiet
for run in 1 2 3; do
  /usr/bin/time -f "run $run: %e s wall, %M KiB max RSS" target/release/cochran analyze "$file" --measure GEN --format json > /dev/null
done
