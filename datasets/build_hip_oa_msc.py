#!/usr/bin/env python3
"""Builds datasets/hip_oa_msc.csv from ../shared/hip_oa/studies.csv (published figures
of single-arm cell-therapy studies for hip osteoarthritis) in cochran's long
clinical format. Values the source does not report stay empty; nothing is
filled in here. Run from the repository root: python3 datasets/build_hip_oa_msc.py
"""
import csv
import pathlib
import sys

SOURCE = pathlib.Path(__file__).resolve().parent.parent.parent / "shared" / "hip_oa" / "studies.csv"
TARGET = pathlib.Path(__file__).resolve().parent / "hip_oa_msc.csv"

# The source's instrument names, mapped to cochran's registry (`cochran scales`).
INSTRUMENTS = {
    "HHS": "HHS",
    "mHHS": "mHHS",
    "WOMAC": "WOMAC",
    "pain NRS": "NRS pain",
    "NRS pain": "NRS pain",
    "NRS pain with activity": "NRS pain",
    "VAS pain": "VAS pain",
    "Oxford Hip Score": "OHS",
}

COLUMNS = ["study", "year", "outcome", "scale_max", "time", "n", "mean_pre", "sd_pre", "mean_post", "sd_post",
           "mean_change", "median_pre", "median_post", "stat", "cell_source", "design", "source", "note"]


def convert(row):
    instrument = INSTRUMENTS.get(row["outcome"])
    if instrument is None:
        return None
    medians = row["stat"] == "median"
    scale_max = "10" if instrument == "VAS pain" and row["scale_range"] == "0-10" else ""
    note = row["note"]
    if row["outcome"] == "NRS pain with activity":
        note = "; ".join(filter(None, ["pain with activity", note]))
    if instrument == "WOMAC" and row["scale_range"] == "version not stated":
        note = "; ".join(filter(None, ["WOMAC version not stated (Likert 0-96 assumed)", note]))
    return {
        "study": f"{row['study']} {row['year']}", "year": row["year"], "outcome": instrument, "scale_max": scale_max,
        "time": row["time_months"], "n": row["n"],
        "mean_pre": "" if medians else row["mean_pre"], "sd_pre": row["sd_pre"],
        "mean_post": "" if medians else row["mean_post"], "sd_post": row["sd_post"],
        "mean_change": row["mean_change"],
        "median_pre": row["mean_pre"] if medians else "", "median_post": row["mean_post"] if medians else "",
        "stat": row["stat"], "cell_source": row["cell_source"], "design": row["design"],
        "source": row["source"], "note": note,
    }


def main():
    with open(SOURCE, newline="") as f:
        rows = list(csv.DictReader(f))
    kept, left_out = [], []
    for row in rows:
        converted = convert(row)
        (kept if converted else left_out).append(converted or row)
    with open(TARGET, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(kept)
    for row in left_out:
        print(f"left out (instrument not registered): {row['study']} {row['outcome']}", file=sys.stderr)
    print(f"wrote {len(kept)} rows to {TARGET}", file=sys.stderr)


if __name__ == "__main__":
    main()
