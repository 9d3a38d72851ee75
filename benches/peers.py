"""cochran beside its peers on the same data: metafor (R, when Rscript and
metafor are installed) and PyMARE (when importable), REML at k = 100,000,
intercept-only and with two moderators. Prints each one's best time and the
ratios to cochran.

    python benches/peers.py [k]      (needs the cochran Python package)

metafor is run only for k <= 5000 (it forms k x k matrices). cochran is timed
through its Python package from a pyarrow table (the
analysis and its pooled numbers: the work a script asks for); PyMARE's and
metafor's fits are timed in their own processes, data already in memory."""

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

import cochran

k = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
random.seed(7)
x1 = [random.gauss(0, 1) for _ in range(k)]
x2 = [random.random() for _ in range(k)]
vi = [random.uniform(0.01, 0.2) for _ in range(k)]
yi = [0.2 + 0.1 * a - 0.3 * b + random.gauss(0, 0.3) + random.gauss(0, v ** 0.5)
      for a, b, v in zip(x1, x2, vi)]


def best(runs, work):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


results = {}
try:
    import pyarrow
    frame = pyarrow.table({"yi": yi, "vi": vi, "x1": x1, "x2": x2})
except ImportError:
    frame = {"yi": yi, "vi": vi, "x1": x1, "x2": x2}
results[("cochran", "intercept")] = best(5, lambda: cochran.analyze(frame).tau2)
results[("cochran", "2 moderators")] = best(5, lambda: cochran.analyze(frame, mods=["x1", "x2"]).tau2)

try:
    import numpy
    from pymare.estimators import VarianceBasedLikelihoodEstimator
    y, v = numpy.array(yi)[:, None], numpy.array(vi)[:, None]
    ones = numpy.ones((k, 1))
    design = numpy.column_stack([ones, numpy.array(x1), numpy.array(x2)])
    fit = lambda X: VarianceBasedLikelihoodEstimator(method="REML").fit(y=y, v=v, X=X)
    results[("PyMARE", "intercept")] = best(3, lambda: fit(ones))
    results[("PyMARE", "2 moderators")] = best(3, lambda: fit(design))
except ImportError as missing:
    print(f"PyMARE skipped: {missing}")

if k > 5000:
    # metafor builds k x k matrices: 100,000 studies need 80 GB.
    print(f"metafor skipped: k = {k} (its k x k matrices; run with k <= 5000)")
elif shutil.which("Rscript"):
    with tempfile.TemporaryDirectory() as folder:
        data = os.path.join(folder, "d.csv")
        with open(data, "w") as out:
            out.write("yi,vi,x1,x2\n")
            for row in zip(yi, vi, x1, x2):
                out.write(",".join(repr(x) for x in row) + "\n")
        script = f"""
suppressMessages(library(metafor))
d <- read.csv("{data}")
best <- function(f) min(sapply(1:3, function(i) system.time(f())[["elapsed"]]))
ctl <- list(maxiter = 1000)
cat(best(function() rma(yi, vi, data = d, method = "REML", control = ctl)), "\\n")
cat(best(function() rma(yi, vi, mods = ~ x1 + x2, data = d, method = "REML", control = ctl)), "\\n")
"""
        out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True)
        if out.returncode == 0:
            one, two = (float(x) for x in out.stdout.split())
            results[("metafor", "intercept")] = one
            results[("metafor", "2 moderators")] = two
        else:
            print(f"metafor skipped: {out.stderr.strip()[:200]}")

print(f"REML, k = {k}")
for model in ("intercept", "2 moderators"):
    ours = results[("cochran", model)]
    line = f"  {model:13} cochran {ours * 1000:9.1f} ms"
    for peer in ("PyMARE", "metafor"):
        if (peer, model) in results:
            theirs = results[(peer, model)]
            line += f" | {peer} {theirs * 1000:9.1f} ms ({theirs / ours:6.1f}x)"
    print(line)
