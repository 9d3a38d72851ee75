"""cochran: meta-analysis with metafor's numbers, from Python.

>>> import cochran
>>> result = cochran.analyze("datasets/bcg.csv", measure="RR")      # doctest: +SKIP
>>> result.estimate, result.ci, result.tau2                          # doctest: +SKIP

The engine is Rust (the `cochran` crate); the settings take the command
line's names, and every result carries the command line's text, JSON, CSV and
SVG figures.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

from . import _cochran
from ._cochran import CochranError

__all__ = ["analyze", "Result", "Figure", "CochranError"]


class Figure:
    """An SVG figure: shown inline in Jupyter, saved with `save(path)`."""

    def __init__(self, svg: str) -> None:
        self.svg = svg

    def _repr_svg_(self) -> str:
        return self.svg

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Writes the SVG to `path`."""
        with open(path, "w", encoding="utf-8") as out:
            out.write(self.svg)


class Result:
    """A fitted analysis: attributes for the pooled result, `summary()` for
    the command line's report, `to_dict()` for its JSON, `studies()` for the
    per-study table, `forest()` and `funnel()` for the figures."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        # The pooled numbers only: the per-study rows are read when asked for.
        self._data: Dict[str, Any] = json.loads(inner.pooled_json())
        self._full: Optional[Dict[str, Any]] = None

    def _document(self) -> Dict[str, Any]:
        if self._full is None:
            self._full = json.loads(self._inner.json())
        return self._full

    def __getattr__(self, name: str) -> Any:
        data = self.__dict__.get("_data", {})
        if name in data:
            return data[name]
        if not name.startswith("_") and name in self._document():
            return self._document()[name]
        raise AttributeError(name)

    @property
    def ci(self) -> tuple:
        """The confidence interval of the pooled estimate."""
        return (self._data.get("ci_lower"), self._data.get("ci_upper"))

    @property
    def pi(self) -> tuple:
        """The prediction interval."""
        return (self._data.get("pi_lower"), self._data.get("pi_upper"))

    def summary(self) -> str:
        """The command line's text report."""
        return self._inner.text()

    def to_dict(self) -> Dict[str, Any]:
        """The analysis as the command line's JSON, as a dict."""
        return json.loads(json.dumps(self._document()))

    def to_json(self) -> str:
        """The analysis as the command line's JSON."""
        return self._inner.json()

    def studies(self) -> List[Dict[str, Any]]:
        """One dict per included study (yi, vi, interval, weight, …)."""
        return list(self._document().get("studies", []))

    def coefficients(self) -> List[Dict[str, Any]]:
        """The meta-regression's coefficients (empty without moderators)."""
        return list(self._document().get("coefficients", []))

    def csv(self) -> str:
        """The per-study table as CSV."""
        return self._inner.csv()

    def forest(self) -> Figure:
        """The forest plot."""
        return Figure(self._inner.forest_svg())

    def funnel(self) -> Figure:
        """The funnel plot."""
        return Figure(self._inner.funnel_svg())

    def __repr__(self) -> str:
        return f"<cochran.Result k={self._data.get('k')} estimate={self._data.get('estimate')!r}>"


def _settings(measure: str, **options: Any) -> str:
    # Settings passed on as text, under the same names.
    names = {"method", "test", "r", "impute_sd", "by", "columns", "mods", "sheet", "tau_prior", "mu_prior"}
    request: Dict[str, Any] = {"measure": measure}
    for key, value in options.items():
        if value is None:
            continue
        if key == "level":
            request["level"] = float(value)
        elif key == "bayes":
            request["bayes"] = bool(value)
        elif key == "mods" and not isinstance(value, str):
            request["mods"] = ",".join(value)
        elif key == "columns" and isinstance(value, dict):
            request["columns"] = ",".join(f"{k}={v}" for k, v in value.items())
        elif key in names:
            request[key] = str(value)
        else:
            raise TypeError(f"analyze() got an unexpected setting {key!r}")
    if request.get("tau_prior") or request.get("mu_prior"):
        request["bayes"] = True
    return json.dumps(request)


def analyze(
    data: Union[str, os.PathLike, None] = None,
    measure: str = "GEN",
    *,
    yi: Optional[Sequence[float]] = None,
    vi: Optional[Sequence[float]] = None,
    labels: Optional[Iterable[str]] = None,
    method: str = "REML",
    test: str = "z",
    level: float = 95,
    r: Optional[Union[float, str]] = None,
    impute_sd: Optional[str] = None,
    by: Optional[str] = None,
    mods: Optional[Union[str, Sequence[str]]] = None,
    columns: Optional[Union[str, Dict[str, str]]] = None,
    sheet: Optional[str] = None,
    bayes: bool = False,
    tau_prior: Optional[str] = None,
    mu_prior: Optional[str] = None,
) -> Result:
    """Analyses a file (CSV or spreadsheet) or effect sizes `yi` with
    variances `vi`, with the command line's settings (`measure="RR"`,
    `method="REML"`, `test="knha"`, …). Errors in the data raise
    `CochranError`, with `row`, `column`, `file` and `sheet` attributes."""
    settings = _settings(
        measure, method=method, test=test, level=level, r=r, impute_sd=impute_sd, by=by, mods=mods,
        columns=columns, sheet=sheet, bayes=bayes or None, tau_prior=tau_prior, mu_prior=mu_prior,
    )
    if data is not None:
        return Result(_cochran.analyze_file(os.fspath(data), settings))
    if yi is None or vi is None:
        raise TypeError("analyze() needs a file or yi and vi")
    return Result(_cochran.analyze_effects(
        [float(x) for x in yi], [float(x) for x in vi], settings,
        None if labels is None else [str(x) for x in labels],
    ))
