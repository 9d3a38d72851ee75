"""Helpers the tests share: the repository's root, the Rust tests' tolerance, and the
data frame libraries (test.sh installs them; set COCHRAN_REQUIRE_FRAMES=1 to
fail rather than skip without them)."""

import importlib
import os

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RELATIVE = 1e-6  # tests/it/common.rs: RELATIVE
ABSOLUTE = 1e-10  # tests/it/common.rs: ABSOLUTE


def close(actual, expected):
    if expected is None:
        return actual is None
    return actual is not None and abs(actual - expected) <= RELATIVE * abs(expected) + ABSOLUTE


def library(name):
    """The module, or a skip (a failure with COCHRAN_REQUIRE_FRAMES=1)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        if os.environ.get("COCHRAN_REQUIRE_FRAMES") == "1":
            raise
        pytest.skip(f"{name} is not installed")


def read_csv(name, path):
    """The CSV file as a data frame of the library `name`."""
    if name == "pandas":
        return library("pandas").read_csv(path)
    if name == "polars":
        return library("polars").read_csv(path, infer_schema_length=None)
    library("pyarrow")
    import pyarrow.csv
    return pyarrow.csv.read_csv(path)
