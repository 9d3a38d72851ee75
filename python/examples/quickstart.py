"""The BCG vaccine trials as risk ratios from a pandas data frame (run from
the repository; polars and pyarrow tables are read the same way)."""

import math
import os

import pandas

import cochran

root = os.environ.get("COCHRAN_ROOT", ".")
trials = pandas.read_csv(os.path.join(root, "datasets", "bcg.csv"))
result = cochran.analyze(trials, measure="RR", method="REML", test="knha")
low, high = result.ci
print(f"RR {math.exp(result.estimate):.3f} [{math.exp(low):.3f}, {math.exp(high):.3f}]")
print(f"tau^2 = {result.tau2:.4f}, I^2 = {result.i2:.1f}%, k = {result.k}")
studies = result.studies()  # a pandas DataFrame, one row per trial
print(studies.loc[studies["weight"].idxmax(), ["study", "weight"]].to_string())
loo = result.leave_one_out().rows()
print(f"without any one trial: RR {math.exp(loo['estimate'].min()):.3f} to {math.exp(loo['estimate'].max()):.3f}")
result.forest().save("bcg_forest.svg")
