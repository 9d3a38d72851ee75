"""The metafor goldens (tests/reference/*.json, metafor 3.8.1) through the
Python API: every fit of every dataset, to the Rust tests' tolerance."""

import glob
import json
import os
import sys

import pytest

import cochran

sys.path.insert(0, os.path.dirname(__file__))  # the helpers beside the tests

from helpers import ROOT, close
KEYS = ["k", "estimate", "se", "statistic", "p_value", "ci_lower", "ci_upper", "pi_lower",
        "pi_upper", "tau2", "se_tau2", "q", "q_df", "q_p_value", "i2", "h2"]


def goldens():
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "reference", "*.json"))):
        with open(path) as fh:
            golden = json.load(fh)
        if golden.get("fits"):
            yield os.path.basename(path)[:-5], golden


def fit_failures(golden, data):
    """The fits of a golden whose numbers differ from metafor's, for data
    that are the golden's file or that file read into a data frame."""
    failures = []
    for case in golden["fits"]:
        result = cochran.analyze(data, measure=case["measure"], method=case["method"],
                                 test=case["test"], level=case["level"])
        pooled = result.to_dict()
        label = f"{case['measure']} {case['method']} {case['test']} {case['level']}"
        for key in KEYS:
            if key in case and not close(pooled.get(key), case[key]):
                failures.append(f"{label} {key}: cochran {pooled.get(key)}, metafor {case[key]}")
        weights = [s["weight"] for s in result.studies("records")]
        if not all(close(w, e) for w, e in zip(weights, case["weights"])) or len(weights) != len(case["weights"]):
            failures.append(f"{label}: weights")
    return failures


@pytest.mark.parametrize("name,golden", list(goldens()), ids=lambda x: x if isinstance(x, str) else "")
def test_every_fit_agrees_with_metafor(name, golden):
    failures = fit_failures(golden, os.path.join(ROOT, golden["csv"]))
    assert not failures, "\n".join(failures[:20])


def test_effect_sizes_in_code_and_errors_with_their_position():
    golden = json.load(open(os.path.join(ROOT, "tests", "reference", "bcg.json")))
    rr = golden["effects"]["RR"]
    result = cochran.analyze(yi=rr["yi"], vi=rr["vi"])
    expected = [f for f in golden["fits"] if f["measure"] == "RR" and f["method"] == "REML"
                and f["test"] == "z" and f["level"] == 95][0]
    assert close(result.estimate, expected["estimate"])
    assert close(result.tau2, expected["tau2"])
    assert result.ci == (result.ci_lower, result.ci_upper)
    with pytest.raises(cochran.CochranError) as error:
        cochran.analyze(yi=[0.1, 0.2], vi=[0.01, -1.0])
    assert error.value.row == 2 and error.value.column == "vi"
    with pytest.raises(cochran.CochranError) as error:
        cochran.analyze(os.path.join(ROOT, "tests", "data", "bad_cell.xlsx"), measure="GEN")
    assert error.value.sheet == "Data" and error.value.column == "yi"


def test_reports_and_figures_are_the_command_lines():
    result = cochran.analyze(os.path.join(ROOT, "datasets", "bcg.csv"), measure="RR")
    assert result.summary().startswith("Random-effects model (tau^2 estimator: REML)")
    forest = result.forest()
    assert forest._repr_svg_().startswith("<svg")
    assert "Aronson 1948" in forest.svg
    assert result.csv().splitlines()[0].startswith("study,")


def test_the_readme_example_prints_what_the_readme_shows(tmp_path):
    import re
    import subprocess
    import sys
    script = os.path.join(ROOT, "python", "examples", "quickstart.py")
    out = subprocess.run([sys.executable, script], cwd=tmp_path, capture_output=True,
                         text=True, env={**os.environ, "COCHRAN_ROOT": ROOT})
    assert out.returncode == 0, out.stderr
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    block = re.search(r"```text\n(RR [^`]*?)```", readme)
    assert block and block.group(1) == out.stdout, out.stdout


def test_glmms_agree_with_rma_glmm():
    with open(os.path.join(ROOT, "tests", "reference", "glmm", "glmm.json")) as fh:
        cases = json.load(fh)["cases"]
    # One case per model; bcg's UM.FS is the default model of odds ratios.
    chosen = {
        ("pritz1997", "PLO", "UM.RS"): {},
        ("hahn2001", "OR", "CM.AL"): {"glmm_model": "CM.AL"},
        ("bcg", "OR", "UM.FS"): {},
        ("nielweise2007", "OR", "CM.EL"): {"glmm_model": "CM.EL"},
    }
    checked = 0
    for case in cases:
        extra = chosen.get((case["dataset"], case["measure"], case["model"]))
        if extra is None:
            continue
        result = cochran.analyze(os.path.join(ROOT, case["csv"]), measure=case["measure"],
                                 method="GLMM", **extra)
        reference = case["random"]
        for key, field in [("estimate", "beta"), ("se", "se"), ("ci_lower", "ci_lb"),
                           ("ci_upper", "ci_ub"), ("tau2", "tau2"), ("i2", "i2")]:
            assert close(getattr(result, key), reference[field]), (case["dataset"], key)
        assert result.summary().startswith("Random-effects GLMM")
        checked += 1
    assert checked == 4
