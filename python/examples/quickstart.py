"""The BCG vaccine trials as risk ratios, from Python (run from the repository)."""

import math
import os

import cochran

root = os.environ.get("COCHRAN_ROOT", ".")
result = cochran.analyze(os.path.join(root, "datasets", "bcg.csv"), measure="RR", method="REML", test="knha")
low, high = result.ci
print(f"RR {math.exp(result.estimate):.3f} [{math.exp(low):.3f}, {math.exp(high):.3f}]")
print(f"tau^2 = {result.tau2:.4f}, I^2 = {result.i2:.1f}%, k = {result.k}")
result.forest().save("bcg_forest.svg")
