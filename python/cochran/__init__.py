"""cochran: meta-analysis with metafor's numbers, from Python.

>>> import cochran
>>> result = cochran.analyze("datasets/bcg.csv", measure="RR")      # doctest: +SKIP
>>> result.estimate, result.ci, result.tau2                          # doctest: +SKIP

Data come as a file (CSV or a spreadsheet), a data frame of any library that
speaks the Arrow PyCapsule interface (pandas, polars, pyarrow, …), a mapping
of column names to sequences, or effect sizes ``yi`` with variances ``vi``.
The engine is Rust (the ``cochran`` crate); the settings take the library's
names, and every result carries the command line's text, JSON and SVG figures.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from . import _cochran
from ._cochran import CochranError

__all__ = ["analyze", "Result", "Outcomes", "Report", "Figure", "CochranError"]

_FRAME_LIBRARIES = ("pandas", "polars", "pyarrow")


class Figure:
    """An SVG figure: shown inline in Jupyter, saved with ``save(path)``."""

    def __init__(self, svg: str) -> None:
        self.svg = svg

    def _repr_svg_(self) -> str:
        return self.svg

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Writes the SVG to ``path``."""
        with open(path, "w", encoding="utf-8") as out:
            out.write(self.svg)


def _library_of(data: Any) -> Optional[str]:
    """The data frame library a value comes from, if it is one we return."""
    root = type(data).__module__.split(".")[0]
    return root if root in _FRAME_LIBRARIES else None


def _frame(rows: List[Dict[str, Any]], library: Optional[str]) -> Any:
    """Rows as a data frame of ``library``, or as the rows themselves."""
    if library is None or library == "records":
        return rows
    names: List[str] = []
    for row in rows:
        names.extend(k for k in row if k not in names)
    columns = {name: [row.get(name) for row in rows] for name in names}
    if library == "pandas":
        import pandas
        return pandas.DataFrame(columns)
    if library == "polars":
        import polars
        return polars.DataFrame(columns, strict=False)
    if library == "pyarrow":
        import pyarrow
        return pyarrow.table(columns)
    raise ValueError(f"library is one of {', '.join(_FRAME_LIBRARIES)} or 'records', not {library!r}")


class Report:
    """A refit or a test of a fitted analysis (leave-one-out, cumulative,
    influence, small-study effects, GOSH): ``summary()`` for the command
    line's text, ``to_dict()`` for its JSON, ``rows()`` for its table and
    ``figure(name)`` (or the named method) for its plots."""

    def __init__(self, output: Dict[str, Any], library: Optional[str]) -> None:
        self._text: str = output["text"]
        self._data: Dict[str, Any] = json.loads(output["json"])
        self._figures: Dict[str, str] = output["figures"]
        self._library = library

    def __getattr__(self, name: str) -> Any:
        data = self.__dict__.get("_data", {})
        if name in data:
            return data[name]
        raise AttributeError(name)

    def summary(self) -> str:
        """The command line's text report."""
        return self._text

    def to_dict(self) -> Dict[str, Any]:
        """The command line's JSON, as a dict."""
        return json.loads(json.dumps(self._data))

    def rows(self, library: Optional[str] = None) -> Any:
        """The per-study rows as a data frame of the input's library
        (``library`` = 'pandas', 'polars', 'pyarrow' or 'records')."""
        for key in ("studies", "rows"):
            if isinstance(self._data.get(key), list):
                return _frame(self._data[key], library or self._library)
        raise AttributeError("this report has no per-study rows")

    def figures(self) -> List[str]:
        """The names of this report's figures."""
        return list(self._figures)

    def figure(self, name: str) -> Figure:
        """A figure by name (``forest``, ``funnel``, ``influence``, ``baujat``, ``gosh``)."""
        if name not in self._figures:
            raise KeyError(f"no figure {name!r}; this report has {self.figures()}")
        return Figure(self._figures[name])

    def forest(self) -> Figure:
        return self.figure("forest")

    def funnel(self) -> Figure:
        return self.figure("funnel")

    def plot(self) -> Figure:
        """The report's (first) figure."""
        return self.figure(next(iter(self._figures)))

    def __repr__(self) -> str:
        return f"<cochran.Report {self._text.splitlines()[0] if self._text else ''}>"


class Result:
    """A fitted analysis: attributes for the pooled result (``estimate``,
    ``ci``, ``tau2``, ``i2``, …), ``summary()`` for the command line's report,
    ``to_dict()`` for its JSON, ``studies()`` and ``coefficients()`` as data
    frames, ``forest()`` and ``funnel()`` for the figures, and refits and
    tests: ``leave_one_out()``, ``cumulative()``, ``influence()``, ``bias()``,
    ``gosh()``."""

    def __init__(self, inner: Any, library: Optional[str] = None) -> None:
        self._inner = inner
        self._library = library
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

    def studies(self, library: Optional[str] = None) -> Any:
        """One row per included study (yi, vi, interval, weight, …): a data
        frame of the input's library, or of ``library`` ('pandas', 'polars',
        'pyarrow'); a list of dicts for a file or sequences ('records')."""
        return _frame(list(self._document().get("studies", [])), library or self._library)

    def coefficients(self, library: Optional[str] = None) -> Any:
        """The meta-regression's coefficients (no rows without moderators),
        as ``studies()`` returns its rows."""
        return _frame(list(self._document().get("coefficients", [])), library or self._library)

    def csv(self) -> str:
        """The per-study table as CSV."""
        return self._inner.csv()

    def forest(self) -> Figure:
        """The forest plot."""
        return Figure(self._inner.svg("forest"))

    def funnel(self) -> Figure:
        """The funnel plot."""
        return Figure(self._inner.svg("funnel"))

    def posterior(self) -> Figure:
        """The Bayesian model's posterior densities (with ``bayes=True``)."""
        return Figure(self._inner.svg("posterior"))

    def shrinkage(self) -> Figure:
        """The Bayesian model's shrunken study estimates (with ``bayes=True``)."""
        return Figure(self._inner.svg("shrinkage"))

    def leave_one_out(self) -> Report:
        """The model without each study in turn (metafor's leave1out)."""
        return Report(self._inner.leave_one_out(), self._library)

    def cumulative(self, order: Optional[str] = None) -> Report:
        """The model as the studies are added in the order of the column
        ``order`` (the data's order without one; metafor's cumul)."""
        return Report(self._inner.cumulative(order), self._library)

    def influence(self) -> Report:
        """Influence diagnostics (metafor's influence) with the influence
        and Baujat plots."""
        return Report(self._inner.influence(), self._library)

    def bias(self, estimator: str = "L0", side: Optional[str] = None,
             target: Optional[float] = None) -> Report:
        """Small-study effects: Egger's test, the rank test, trim-and-fill
        (``estimator`` L0, R0 or Q0; ``side`` left or right) and fail-safe N
        (Orwin's ``target``), with the filled funnel plot."""
        return Report(self._inner.bias(estimator, side, target), self._library)

    def gosh(self, subsets: Optional[int] = None, seed: int = 1) -> Report:
        """GOSH: the model fitted to every subset of the studies, or to
        ``subsets`` random ones (metafor's gosh)."""
        return Report(self._inner.gosh(subsets, seed), self._library)

    def __repr__(self) -> str:
        return f"<cochran.Result k={self._data.get('k')} estimate={self._data.get('estimate')!r}>"


class Outcomes(Mapping[str, Result]):
    """One analysis per instrument (``by="outcome"``): a mapping of
    instrument to ``Result``; ``errors`` says why an instrument has none."""

    def __init__(self, inner: Any, library: Optional[str]) -> None:
        self._inner = inner
        self.results: Dict[str, Result] = {}
        self.errors: Dict[str, str] = {}
        for outcome, analysis, error in inner.items():
            if analysis is not None:
                self.results[outcome] = Result(analysis, library)
            else:
                self.errors[outcome] = error

    def __getitem__(self, outcome: str) -> Result:
        if outcome in self.errors:
            raise CochranError(f"{outcome}: {self.errors[outcome]}")
        return self.results[outcome]

    def __iter__(self):
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def summary(self) -> str:
        """The command line's text report of every instrument."""
        return self._inner.text()

    def to_dict(self) -> Any:
        """The analyses as the command line's JSON."""
        return json.loads(self._inner.json())

    def __repr__(self) -> str:
        return f"<cochran.Outcomes {list(self.results)} errors={list(self.errors)}>"


def _text_list(value: Union[str, Sequence[Any]]) -> List[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _settings(measure: str, options: Dict[str, Any]) -> str:
    """The settings as the library reads them (its names; unknown ones are
    refused there)."""
    request: Dict[str, Any] = {"measure": measure}
    for key, value in options.items():
        if value is None or value is False:
            continue
        if key in ("level", "rescale", "rve"):
            request[key] = float(value)
        elif key in ("permutations", "seed"):
            request[key] = int(value)
        elif key in ("above", "r_sensitivity"):
            request[key] = [float(v) for v in ([value] if isinstance(value, (int, float)) else value)]
        elif key in ("mods", "prefer", "predict"):
            request[key] = _text_list(value)
        elif key == "columns" and isinstance(value, Mapping):
            request[key] = ",".join(f"{k}={v}" for k, v in value.items())
        elif isinstance(value, bool):
            request[key] = value
        else:
            request[key] = str(value)
    return json.dumps(request)


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return type(value).__name__ in ("NAType", "NaTType")


def _columns(data: Any) -> List[Any]:
    """A mapping of columns (or a pandas frame without pyarrow) as (name,
    values) pairs: numbers where every value is one, text otherwise."""
    pairs = []
    for name in data.keys():
        try:
            values = list(data[name])
        except TypeError:
            raise TypeError(f"the column {name!r} is not a sequence of values") from None
        values = [None if _missing(v) else v for v in values]
        if not all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in values):
            values = [None if v is None else str(v) for v in values]
        pairs.append((str(name), values))
    return pairs


def _wrap(inner: Any, library: Optional[str]) -> Union[Result, Outcomes]:
    if isinstance(inner, _cochran.Outcomes):
        return Outcomes(inner, library)
    return Result(inner, library)


def analyze(
    data: Any = None,
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
    cluster: Optional[str] = None,
    columns: Optional[Union[str, Dict[str, str]]] = None,
    sheet: Optional[str] = None,
    bayes: bool = False,
    tau_prior: Optional[str] = None,
    mu_prior: Optional[str] = None,
    **settings: Any,
) -> Union[Result, Outcomes]:
    """Analyses ``data`` — a file (CSV or spreadsheet), a data frame (pandas,
    polars, pyarrow, or any object with ``__arrow_c_stream__``) or a mapping
    of column names to sequences — or effect sizes ``yi`` with variances
    ``vi``, with the library's settings: ``measure="RR"``, ``method="REML"``,
    ``test="knha"``, ``by`` (a subgroup column, or ``"outcome"`` for one
    analysis per instrument, returned as ``Outcomes``), ``mods``,
    ``cluster``, the clinical settings (``r``, ``impute_sd``, ``outcome``,
    ``time``, ``prefer``, ``rescale``, ``improvement_positive``,
    ``r_sensitivity``), ``robust``, ``rve``, ``permutations``, ``predict``,
    ``pi``, ``bayes`` with ``tau_prior``, ``mu_prior`` and ``above``.

    Errors in the data raise ``CochranError``, with ``row`` (a file's line,
    a data frame's position from 0), ``column``, ``file`` and ``sheet``."""
    options = dict(method=method, test=test, level=level, r=r, impute_sd=impute_sd, by=by,
                   mods=mods, cluster=cluster, columns=columns, sheet=sheet, bayes=bayes,
                   tau_prior=tau_prior, mu_prior=mu_prior, **settings)
    request = _settings(measure, options)
    try:
        if isinstance(data, (str, os.PathLike)):
            return _wrap(_cochran.analyze_file(os.fspath(data), request), None)
        if data is not None:
            library = _library_of(data)
            if hasattr(data, "__arrow_c_stream__"):
                try:
                    return _wrap(_cochran.analyze_arrow(data, request), library)
                except ImportError:
                    # pandas without pyarrow cannot export Arrow: read its columns.
                    if library != "pandas":
                        raise
            if hasattr(data, "keys"):
                return _wrap(_cochran.analyze_columns(_columns(data), request), library)
            raise TypeError("analyze() reads a file, a data frame or a mapping of columns, "
                            f"not {type(data).__name__}")
        if yi is None or vi is None:
            raise TypeError("analyze() needs a file, a data frame, or yi and vi")
        return _wrap(_cochran.analyze_effects(
            [float(x) for x in yi], [float(x) for x in vi], request,
            None if labels is None else [str(x) for x in labels],
        ), None)
    except ValueError as error:
        if not isinstance(error, CochranError) and str(error).startswith("settings: unknown field"):
            raise TypeError(f"analyze() got an unexpected setting: {error}") from None
        raise
