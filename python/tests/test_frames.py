"""Data frames (pandas, polars, pyarrow) through the Arrow PyCapsule
interface: the metafor goldens again, results in the caller's library, and
errors that name the frame's row."""

import json
import os
import sys

import pytest

import cochran

sys.path.insert(0, os.path.dirname(__file__))  # the helpers beside the tests
from helpers import ROOT, close, library, read_csv
from test_metafor import fit_failures, goldens

LIBRARIES = ["pandas", "polars", "pyarrow"]


@pytest.mark.parametrize("name", LIBRARIES)
def test_every_golden_fit_agrees_with_metafor_from_a_data_frame(name):
    failures = []
    for golden_name, golden in goldens():
        frame = read_csv(name, os.path.join(ROOT, golden["csv"]))
        failures += [f"{golden_name}: {f}" for f in fit_failures(golden, frame)]
    assert not failures, "\n".join(failures[:20])


@pytest.mark.parametrize("name", LIBRARIES)
def test_rows_come_back_in_the_callers_library(name):
    frame = read_csv(name, os.path.join(ROOT, "datasets", "bcg.csv"))
    result = cochran.analyze(frame, measure="RR", mods=["ablat"])
    studies, coefficients = result.studies(), result.coefficients()
    module = type(studies).__module__.split(".")[0]
    assert module == name and type(coefficients).__module__.split(".")[0] == name
    assert len(studies) == 13 and len(coefficients) == 2
    assert result.studies("records")[0]["row"] == 0  # the frame's position, from 0
    refits = cochran.analyze(frame, measure="RR").leave_one_out().rows()
    assert refits.__class__ is studies.__class__ and len(refits) == 13


def test_a_frames_error_names_its_row_from_zero_and_the_column():
    pandas = library("pandas")
    frame = pandas.DataFrame({"study": ["A", "B", "C"], "yi": [0.1, 0.2, 0.3],
                              "vi": [0.01, 0.02, -1.0]})
    with pytest.raises(cochran.CochranError) as error:
        cochran.analyze(frame)
    assert (error.value.row, error.value.column) == (2, "vi")
    assert str(error.value).startswith("data frame row 2 (from 0), column `vi`")


def test_a_column_of_another_type_is_refused_by_name():
    pandas = library("pandas")
    frame = pandas.DataFrame({"yi": [0.1, 0.2], "vi": [0.01, 0.02],
                              "when": pandas.to_datetime(["2020-01-01", "2021-01-01"])})
    with pytest.raises(cochran.CochranError, match="the column `when` holds Timestamp"):
        cochran.analyze(frame)
    cochran.analyze(frame.drop(columns="when"))


def test_categories_booleans_and_missing_values_are_read():
    pandas = library("pandas")
    frame = pandas.DataFrame({
        "study": pandas.Categorical(["A", "B", "C", "D"]),
        "yi": [0.1, None, 0.3, 0.5], "vi": [0.01, 0.02, 0.03, 0.04],
        "blinded": [True, False, True, False],
    })
    result = cochran.analyze(frame, mods="blinded")
    assert result.k == 3
    assert result.excluded == [{"study": "B", "row": 1, "missing": ["yi"]}]
    assert [c["name"] for c in result.coefficients("records")] == ["intrcpt", "blindedtrue"]


def test_a_mapping_of_columns_gives_the_files_numbers():
    path = os.path.join(ROOT, "datasets", "bcg.csv")
    import csv
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    columns = {name: [row[name] for row in rows] for name in rows[0]}
    for name in ("events1", "n1", "events2", "n2", "ablat", "year"):
        columns[name] = [float(v) for v in columns[name]]
    from_mapping = cochran.analyze(columns, measure="RR", mods="ablat")
    from_file = cochran.analyze(path, measure="RR", mods="ablat")
    assert from_mapping.to_dict()["coefficients"] == from_file.to_dict()["coefficients"]
    assert from_mapping.tau2 == from_file.tau2


def test_one_analysis_per_instrument():
    frame = read_csv("pandas", os.path.join(ROOT, "datasets", "hip_oa_msc.csv"))
    outcomes = cochran.analyze(frame, measure="MC", r=0.5, impute_sd="max", by="outcome")
    from_file = cochran.analyze(os.path.join(ROOT, "datasets", "hip_oa_msc.csv"), measure="MC",
                                r=0.5, impute_sd="max", by="outcome")
    assert set(outcomes) == set(from_file) and "HHS" in outcomes
    assert outcomes["HHS"].estimate == from_file["HHS"].estimate
    assert set(outcomes.errors) == set(from_file.errors)
    assert outcomes.summary().count("Random-effects model") == len(outcomes)


def test_an_unknown_setting_is_a_type_error():
    with pytest.raises(TypeError, match="metod"):
        cochran.analyze(os.path.join(ROOT, "datasets", "bcg.csv"), measure="RR", metod="DL")


def test_pandas_without_pyarrow_is_read_column_by_column(monkeypatch):
    pandas = library("pandas")
    frame = read_csv("pandas", os.path.join(ROOT, "datasets", "bcg.csv"))
    through_arrow = cochran.analyze(frame, measure="RR", mods="ablat")

    def no_pyarrow(self, requested_schema=None):
        raise ImportError("pyarrow is not installed")

    monkeypatch.setattr(pandas.DataFrame, "__arrow_c_stream__", no_pyarrow)
    by_columns = cochran.analyze(frame, measure="RR", mods="ablat")
    assert by_columns.to_dict() == through_arrow.to_dict()
    assert type(by_columns.studies()) is pandas.DataFrame
