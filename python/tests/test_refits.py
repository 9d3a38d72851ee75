"""Refits and bias tests through the Python API against metafor's leave1out,
cumul, influence, regtest, ranktest, trimfill and fsn (the goldens the Rust
tests read: tests/reference/sensitivity, tests/reference/bias)."""

import json
import os
import sys

import pytest

import cochran

sys.path.insert(0, os.path.dirname(__file__))  # the helpers beside the tests
from helpers import ROOT, close


def cases(name):
    with open(os.path.join(ROOT, "tests", "reference", name)) as fh:
        return json.load(fh)["cases"]


def analysis(case):
    return cochran.analyze(os.path.join(ROOT, case["csv"]), measure=case["measure"],
                           method=case["method"], test=case.get("test", "z"))


def differences(label, ours, theirs, keys):
    return [f"{label} {key}: cochran {ours.get(key)}, metafor {theirs[key]}"
            for key in keys if key in theirs and not close(ours.get(key), theirs[key])]


REFIT_KEYS = ["estimate", "se", "statistic", "p_value", "ci_lower", "ci_upper", "q", "q_p_value",
              "tau2", "i2", "h2"]


def test_leave_one_out_agrees_with_leave1out():
    failures = []
    for case in cases("sensitivity/leave_one_out.json"):
        rows = analysis(case).leave_one_out().rows("records")
        assert len(rows) == len(case["rows"])
        for ours, theirs in zip(rows, case["rows"]):
            failures += differences(f"{case['csv']} {case['method']}", ours, theirs, REFIT_KEYS)
    assert not failures, "\n".join(failures[:20])


def test_cumulative_agrees_with_cumul():
    failures = []
    for case in cases("sensitivity/cumulative.json"):
        report = analysis(case).cumulative(case["order"])
        rows = report.rows("records")
        assert [r["study"] for r in rows] == [analysis(case).studies("records")[i - 1]["study"]
                                              for i in case["added"]]
        # One study has no heterogeneity: null here, 0 and 1 in metafor (as
        # tests/it/sensitivity.rs asserts).
        one = ["q", "q_p_value", "i2", "h2"]
        assert all(rows[0][key] is None for key in one)
        failures += differences(f"{case['method']} step 1", rows[0], case["rows"][0],
                                [k for k in REFIT_KEYS if k not in one])
        for ours, theirs in zip(rows[1:], case["rows"][1:]):
            failures += differences(f"{case['method']}", ours, theirs, REFIT_KEYS)
        assert report.forest().svg.startswith("<svg")
    assert not failures, "\n".join(failures[:20])


def test_influence_agrees_with_influence():
    keys = ["rstudent", "dffits", "cooks_distance", "cov_ratio", "tau2_deleted", "q_deleted", "hat",
            "dfbetas"]
    failures = []
    for case in cases("sensitivity/influence.json"):
        report = analysis(case).influence()
        for ours, theirs in zip(report.rows("records"), case["rows"]):
            failures += differences(f"{case['csv']} {case['method']}", ours, theirs, keys)
        assert set(report.figures()) == {"influence", "baujat"}
    assert not failures, "\n".join(failures[:20])


def test_small_study_tests_agree_with_regtest_ranktest_trimfill_and_fsn():
    failures = []
    for case in cases("bias/bias.json"):
        label = f"{case['csv']} {case['measure']} {case['method']}"
        result = analysis(case)
        for estimator in ("L0", "R0"):
            report = result.bias(estimator=estimator)
            failures += differences(f"{label} egger", report.egger, case["egger"],
                                    ["statistic", "p_value", "limit_estimate"])
            failures += differences(f"{label} rank", report.rank_test, case["rank_test"],
                                    ["tau", "p_value"])
            failures += differences(f"{label} {estimator}", report.trim_and_fill,
                                    case["trim_and_fill"][estimator],
                                    ["k0", "estimate", "se", "ci_lower", "ci_upper", "tau2"])
            failures += differences(f"{label} fsn", report.fail_safe_n, case["fail_safe_n"],
                                    ["rosenthal", "rosenberg"])
        assert "<svg" in result.bias().funnel().svg
    assert not failures, "\n".join(failures[:20])


def test_gosh_fits_every_subset():
    case = cases("sensitivity/gosh.json")[0]
    report = analysis(case).gosh()
    assert report.plot().svg.startswith("<svg")
    assert "subsets" in report.summary().lower()
