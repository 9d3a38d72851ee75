#!/usr/bin/env bash
# Times `cochran analyze --cluster` (three-level model, REML) end to end on a
# generated CSV of CLUSTERS clusters of four effects (default 250,000: k = 10^6).
# Usage: benches/clustered_csv.sh [CLUSTERS]   (needs awk; writes into target/)
set -euo pipefail
cd "$(dirname "$0")/.."
clusters=${1:-250000}
file=target/clustered_${clusters}x4.csv
if [ ! -f "$file" ]; then
  awk -v n="$clusters" 'BEGIN {
    srand(42); print "study,cluster,yi,vi";
    for (c = 1; c <= n; c++) { u = 0.3 * (rand() - 0.5);
      for (e = 1; e <= 4; e++) { v = 0.01 + 0.2 * rand();
        printf "C%d-%d,C%d,%.6f,%.6f\n", c, e, c, 0.3 + u + 0.5 * (rand() - 0.5) + (rand() - 0.5) * sqrt(v), v } }
  }' > "$file"
fi
cargo build --release --quiet
for run in 1 2 3; do
  /usr/bin/time -f "run $run: %e s wall, %M KiB max RSS" target/release/cochran analyze "$file" --measure GEN --cluster cluster --format json > /dev/null
done
