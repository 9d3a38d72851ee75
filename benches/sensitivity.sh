#!/usr/bin/env bash
# Times the sensitivity subcommands end to end on generated data: GOSH on
# k = 20 (1,048,575 REML fits) and leave-one-out and influence on k = 10,000
# (REML). Usage: benches/sensitivity.sh   (needs awk; writes into target/)
set -euo pipefail
cd "$(dirname "$0")/.."
generate() {  # rows, seed, file
  awk -v n="$1" -v seed="$2" 'BEGIN {
    srand(seed); print "study,yi,vi";
    for (i = 1; i <= n; i++) { v = 0.005 + 0.2 * rand(); printf "S%d,%.6f,%.6f\n", i, 0.3 + 1.2 * (rand() - 0.5) + (rand() - 0.5) * sqrt(v), v }
  }' > "$3"
}
gosh=target/gosh_k20.csv
large=target/refits_k10000.csv
[ -f "$gosh" ] || generate 20 7 "$gosh"
[ -f "$large" ] || generate 10000 11 "$large"
cargo build --release --quiet
time_it() {  # label, command...
  local label=$1
  shift
  for run in 1 2 3; do
    /usr/bin/time -f "$label, run $run: %e s wall, %M KiB max RSS" "$@" > /dev/null
  done
}
time_it "gosh k=20 REML" target/release/cochran gosh "$gosh" --measure GEN --format json
time_it "leave-one-out k=10000 REML" target/release/cochran leave-one-out "$large" --measure GEN --format json
time_it "influence k=10000 REML" target/release/cochran influence "$large" --measure GEN --format json
