"""How long a data frame of a million studies takes, from pandas, polars and
pyarrow, beside the command line on the same studies as a CSV file.

    python python/benches/frames.py [rows] [path to the cochran binary]

The frames are read before the clock starts: what is timed is the analysis
of data already in memory (Python's side of the work), and the command
line's reading and analysis of the file (its side)."""

import os
import random
import subprocess
import sys
import tempfile
import time

import cochran

rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
binary = sys.argv[2] if len(sys.argv) > 2 else os.path.join("target", "release", "cochran")


def best_of(runs, work):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


random.seed(1)
with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "studies.csv")
    with open(path, "w") as out:
        out.write("study,yi,vi\n")
        for i in range(rows):
            out.write(f"S{i},{random.gauss(0, 0.5):.4f},{random.uniform(0.01, 0.1):.4f}\n")
    cli = best_of(3, lambda: subprocess.run([binary, "analyze", path, "--measure", "GEN"],
                                            check=True, stdout=subprocess.DEVNULL))
    print(f"command line (reads the CSV, text report): {cli:.3f} s")
    frames = []
    try:
        import pandas
        frames.append(("pandas", pandas.read_csv(path)))
        import polars
        frames.append(("polars", polars.read_csv(path)))
        import pyarrow.csv
        frames.append(("pyarrow", pyarrow.csv.read_csv(path)))
    except ImportError as missing:
        print(f"skipped: {missing}")
    for name, frame in frames:
        seconds = best_of(3, lambda: cochran.analyze(frame).summary())
        print(f"{name:8} data frame, analysis and text report: {seconds:.3f} s ({seconds / cli:.2f}x the command line)")
