#!/usr/bin/env python3
"""Reference posteriors for the Bayesian random-effects model, by mpmath at 30
significant digits: an evaluation of the same integrals that shares nothing
with cochran's quadrature (mpmath's tanh-sinh quadrature, root finding by
mpmath.findroot, shortest intervals as the 2-d system F(b) - F(a) = level,
p(a) = p(b)).

Model: y_i ~ N(theta_i, v_i), theta_i ~ N(mu, tau^2); prior p(tau) and a
uniform or normal prior for mu. With mu integrated out in closed form,

  L(tau) = (2 pi)^(-(k-1)/2) prod (v_i + tau^2)^(-1/2) (sum w)^(-1/2) exp(-Q/2)

(uniform mu prior; a normal prior enters as one more observation with the
prior's mean and variance, and its own normalising constant), and
mu | tau, y ~ N(m(tau), 1 / sum w).

Writes tests/reference/bayes/reference.json.
Run: pip install mpmath && python3 tests/reference/bayes/generate.py
"""

import json
import math
import os
import sys
from multiprocessing import Pool

import mpmath as mp
from mpmath import mpf

DPS = 30
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "..")


def bracketed(g, a, b):
    """The root of g in [a, b] (opposite signs) by the Illinois method, to 25
    significant digits; the bracket always holds the root."""
    fa, fb = g(a), g(b)
    assert fa * fb <= 0, (a, b, fa, fb)
    side = 0
    c = a
    for _ in range(2000):
        c = (a * fb - b * fa) / (fb - fa)
        fc = g(c)
        if fc == 0 or abs(b - a) <= mpf("1e-25") * (abs(c) + mpf("1e-30")):
            return c
        if fc * fb > 0:
            b, fb = c, fc
            if side == -1:
                fa /= 2
            side = -1
        else:
            a, fa = c, fc
            if side == 1:
                fb /= 2
            side = 1
    return c


def log_prior_tau(spec, tau, v):
    name, args = spec["name"], [mpf(a) for a in spec.get("args", [])]
    if tau < 0:
        return mp.ninf
    if name == "half-normal":
        (s,) = args
        return mp.log(mp.sqrt(2 / mp.pi) / s) - (tau / s) ** 2 / 2
    if name in ("half-cauchy", "half-t"):
        df, s = (mpf(1), args[0]) if name == "half-cauchy" else args
        c = mp.loggamma((df + 1) / 2) - mp.loggamma(df / 2) - mp.log(df * mp.pi) / 2
        return mp.log(2) + c - (df + 1) / 2 * mp.log(1 + (tau / s) ** 2 / df) - mp.log(s)
    if name == "uniform":
        if args:
            return -mp.log(args[0]) if tau <= args[0] else mp.ninf
        return mpf(0)
    if name == "jeffreys":
        if tau == 0:
            return mp.ninf
        return mp.log(mp.fsum((tau / (vi + tau**2)) ** 2 for vi in v)) / 2
    if name == "log-normal":
        m, s = args
        if tau == 0:
            return mp.ninf
        # tau^2 log-normal(m, s): density of tau = 2 tau * dlnorm(tau^2).
        t2 = tau**2
        return mp.log(2 * tau) - mp.log(t2 * s * mp.sqrt(2 * mp.pi)) - (mp.log(t2) - m) ** 2 / (2 * s**2)
    if name == "log-t":
        m, s, df = args
        if tau == 0:
            return mp.ninf
        t2 = tau**2
        z = (mp.log(t2) - m) / s
        c = mp.loggamma((df + 1) / 2) - mp.loggamma(df / 2) - mp.log(df * mp.pi) / 2
        return mp.log(2 * tau) + c - (df + 1) / 2 * mp.log(1 + z**2 / df) - mp.log(s) - mp.log(t2)
    raise ValueError(name)


class Model:
    def __init__(self, case):
        self.y = [mpf(x) for x in case["yi"]]
        self.v = [mpf(x) for x in case["vi"]]
        self.k = len(self.y)
        self.tau_prior = case["tau_prior"]
        self.mu_prior = case.get("mu_prior")
        self.level = mpf(case.get("level", 95)) / 100
        upper = self.tau_prior.get("args", [None])[0] if self.tau_prior["name"] == "uniform" else None
        self.upper = mpf(upper) if upper is not None else mp.inf
        s = mp.sqrt(sorted(self.v)[self.k // 2])
        if self.upper < mp.inf:
            self.breaks = [mpf(0), self.upper / 4, self.upper / 2, self.upper]
        else:
            self.breaks = [mpf(0), s / 8, s / 2, s, 2 * s, 8 * s, 64 * s, mp.inf]
        self.memo = {}
        self.Z = self.integrate(self.f)

    def conditional(self, tau):
        """Memoised: every quadrature over the same breaks reuses its nodes."""
        key = (tau, mp.mp.prec)
        if key not in self.memo:
            self.memo[key] = self.conditional_at(tau)
        return self.memo[key]

    def conditional_at(self, tau):
        """(log L(tau), m(tau), V(tau)) with mu integrated out."""
        ys, vs = list(self.y), [vi + tau**2 for vi in self.v]
        const = -(self.k - 1) * mp.log(2 * mp.pi) / 2
        if self.mu_prior:
            mean, sd = (mpf(a) for a in self.mu_prior["args"])
            ys.append(mean)
            vs.append(sd**2)
            const = -self.k * mp.log(2 * mp.pi) / 2 - mp.log(sd)
        w = [1 / x for x in vs]
        sw = mp.fsum(w)
        m = mp.fsum(wi * yi for wi, yi in zip(w, ys)) / sw
        q = mp.fsum(wi * (yi - m) ** 2 for wi, yi in zip(w, ys))
        log_v = mp.fsum(mp.log(x) for x in vs[: self.k])
        return const - log_v / 2 - mp.log(sw) / 2 - q / 2, m, 1 / sw

    def f(self, tau):
        key = ("f", tau, mp.mp.prec)
        if key not in self.memo:
            self.memo[key] = self.f_at(tau)
        return self.memo[key]

    def f_at(self, tau):
        lp = log_prior_tau(self.tau_prior, tau, self.v)
        if lp == mp.ninf:
            return mpf(0)
        return mp.exp(lp + self.conditional(tau)[0])

    def integrate(self, g, upper=None):
        if upper is None:
            return mp.quad(g, self.breaks)
        points = [b for b in self.breaks if b < upper] + [upper]
        return mp.quad(g, points)

    # tau
    def tau_cdf(self, t):
        return self.integrate(self.f, t) / self.Z

    def tau_density(self, t):
        return self.f(t) / self.Z

    def tau_quantile(self, p, start):
        """Bracketed (Anderson-Bjorck): Newton can leave the support."""
        hi = max(start, mpf("1e-8"))
        while self.tau_cdf(hi) < p:
            hi *= 2
        lo = hi / 2
        while lo > mpf("1e-30") and self.tau_cdf(lo) > p:
            lo /= 2
        root = bracketed(lambda t: self.tau_cdf(t) - p, lo, hi)
        # The quadrature, not the root finder, limits the accuracy.
        assert abs(self.tau_cdf(root) - p) < mpf("1e-15"), (p, root)
        return root

    # mixtures over tau: mu (extra=0), predictive (extra=tau^2), study i
    def normal_parts(self, tau, kind):
        _, m, var = self.conditional(tau)
        if kind == "mu":
            return m, mp.sqrt(var)
        if kind == "predictive":
            return m, mp.sqrt(var + tau**2)
        i = kind
        b = tau**2 / (self.v[i] + tau**2)
        return b * self.y[i] + (1 - b) * m, mp.sqrt(b * self.v[i] + (1 - b) ** 2 * var)

    def mix_cdf(self, x, kind):
        def g(t):
            m, s = self.normal_parts(t, kind)
            return self.f(t) * mp.ncdf((x - m) / s)
        return self.integrate(g) / self.Z

    def mix_upper(self, x, kind):
        def g(t):
            m, s = self.normal_parts(t, kind)
            return self.f(t) * mp.ncdf((m - x) / s)
        return self.integrate(g) / self.Z

    def mix_density(self, x, kind):
        def g(t):
            m, s = self.normal_parts(t, kind)
            return self.f(t) * mp.npdf((x - m) / s) / s
        return self.integrate(g) / self.Z

    def mix_slope(self, x, kind):
        def g(t):
            m, s = self.normal_parts(t, kind)
            z = (x - m) / s
            return -self.f(t) * z * mp.npdf(z) / s**2
        return self.integrate(g) / self.Z

    def mix_moments(self, kind):
        def first(t):
            return self.f(t) * self.normal_parts(t, kind)[0]
        def second(t):
            m, s = self.normal_parts(t, kind)
            return self.f(t) * (m**2 + s**2)
        mean = self.integrate(first) / self.Z
        return mean, mp.sqrt(self.integrate(second) / self.Z - mean**2)

    def mix_quantile(self, p, kind, start):
        g = lambda x: self.mix_cdf(x, kind) - p
        try:
            root = mp.findroot(g, start, solver="newton", df=lambda x: self.mix_density(x, kind), verify=False)
            if abs(g(root)) < mpf("1e-20"):
                return root
        except (ZeroDivisionError, ValueError):
            pass
        lo, hi, step = start - 1, start + 1, mpf(1)
        while g(lo) > 0:
            step *= 2
            lo -= step
        while g(hi) < 0:
            step *= 2
            hi += step
        return bracketed(g, lo, hi)


def shortest(cdf, density, level, central, quantile, lower=None):
    """The shortest interval holding `level`: ends of equal density (the 2-d
    system F(b) - F(a) = level, p(a) = p(b) from the central interval, or the
    root in p of p(Q(p)) = p(Q(p + level))); on [0, inf) also the interval
    from 0, and the shorter of the two."""
    candidates = []
    try:
        a, b = mp.findroot([lambda a, b: cdf(b) - cdf(a) - level, lambda a, b: density(a) - density(b)],
                           (central[0], central[1]))
        if (lower is None or a >= lower) and abs(cdf(b) - cdf(a) - level) < mpf("1e-20"):
            candidates.append((a, b))
    except (TypeError, ZeroDivisionError, ValueError):
        pass
    rest = 1 - level
    if not candidates:
        gap = lambda p: density(quantile(p)) - density(quantile(p + level))
        lo, hi = rest * mpf("1e-6"), rest * (1 - mpf("1e-6"))
        if gap(lo) < 0 < gap(hi):
            p = bracketed(gap, lo, hi)
            candidates.append((quantile(p), quantile(p + level)))
    if lower is not None:
        candidates.append((lower, quantile(level)))
    return min(candidates, key=lambda ab: ab[1] - ab[0])


def finite_moment(case, r):
    """Whether E(tau^r | y) is finite: L(tau) falls as tau^-(k-1) (uniform mu
    prior) or tau^-k (normal), the prior as tau^a (log tau)^-b."""
    spec = case["tau_prior"]
    name, args = spec["name"], spec.get("args", [])
    a, b = {"half-cauchy": (-2, 0), "half-t": (-(args[0] + 1) if args else 0, 0),
            "jeffreys": (-1, 0), "log-t": (-1, args[2] + 1 if len(args) > 2 else 0)}.get(name, (None, 0))
    if name == "uniform" and not args:
        a = 0
    if a is None:
        return True
    k = len(case["yi"])
    e = a - (k if case.get("mu_prior") else k - 1) + r
    return e < -1 or (e == -1 and b > 1)


def summarise_mixture(model, kind, has_sd=True):
    mean = model.integrate(lambda t: model.f(t) * model.normal_parts(t, kind)[0]) / model.Z
    sd = model.mix_moments(kind)[1] if has_sd else None
    spread = sd if has_sd else mp.sqrt(model.conditional(mpf(0))[2])
    tail = (1 - model.level) / 2
    median = model.mix_quantile(mpf(1) / 2, kind, mean)
    result = {"mean": mean, "sd": sd, "median": median}
    lo = model.mix_quantile(tail, kind, median - 2 * spread)
    hi = model.mix_quantile(1 - tail, kind, median + 2 * spread)
    result["central"] = [lo, hi]
    result["mode"] = bracketed(lambda x: model.mix_slope(x, kind), lo, hi)
    result["shortest"] = list(shortest(lambda x: model.mix_cdf(x, kind),
                                       lambda x: model.mix_density(x, kind), model.level, (lo, hi),
                                       lambda p: model.mix_quantile(p, kind, median)))
    return result


def summarise_tau(model, case):
    mean = model.integrate(lambda t: t * model.f(t)) / model.Z if finite_moment(case, 1) else None
    sd = None
    if finite_moment(case, 2):
        sd = mp.sqrt(model.integrate(lambda t: t * t * model.f(t)) / model.Z - mean**2)
    tail = (1 - model.level) / 2
    start = mp.sqrt(sorted(model.v)[model.k // 2])
    median = model.tau_quantile(mpf(1) / 2, start)
    lo = model.tau_quantile(tail, median / 4)
    hi = model.tau_quantile(1 - tail, 4 * median)
    log_f = lambda t: log_prior_tau(model.tau_prior, t, model.v) + model.conditional(t)[0]
    # The global maximum: tau = 0 where the density is finite there, and every
    # local maximum between the 0.1% and 99.9% quantiles' neighbourhood.
    slope = lambda t: mp.diff(log_f, t)
    modes = [mpf(0)] if log_prior_tau(model.tau_prior, mpf(0), model.v) > mp.ninf else []
    grid = [lo / 100 * (hi * 200 / lo) ** (mpf(i) / 60) for i in range(61)]
    slopes = [slope(t) for t in grid]
    for (a, sa), (b, sb) in zip(zip(grid, slopes), zip(grid[1:], slopes[1:])):
        if sa > 0 >= sb:
            modes.append(bracketed(slope, a, b))
    mode = max(modes, key=model.tau_density)
    short = list(shortest(model.tau_cdf, model.tau_density, model.level, (lo, hi),
                          lambda p: model.tau_quantile(p, median), lower=mpf(0)))
    return {"mode": mode, "median": median, "mean": mean, "sd": sd, "central": [lo, hi], "shortest": short}


def run(case):
    try:
        return run_case(case)
    except Exception as error:  # reported, and the case left out
        print("failed", case["name"], repr(error), file=sys.stderr, flush=True)
        return None


def run_case(case):
    mp.mp.dps = DPS
    model = Model(case)
    out = dict(case)
    out["tau"] = summarise_tau(model, case)
    second = finite_moment(case, 2)
    out["mu"] = summarise_mixture(model, "mu", second or bool(case.get("mu_prior")))
    out["predictive"] = summarise_mixture(model, "predictive", second)
    studies = []
    for i in range(model.k):
        full = i < case.get("shrinkage_quantiles", 2)
        mean, sd = model.mix_moments(i)
        entry = {"mean": mean, "sd": sd}
        if full:
            tail = (1 - model.level) / 2
            entry["median"] = model.mix_quantile(mpf(1) / 2, i, mean)
            entry["central"] = [model.mix_quantile(tail, i, mean - 2 * sd),
                                model.mix_quantile(1 - tail, i, mean + 2 * sd)]
        studies.append(entry)
    out["studies"] = studies
    log_evidence = mp.log(model.Z)
    proper_tau = case["tau_prior"]["name"] not in ("jeffreys",) and not (
        case["tau_prior"]["name"] == "uniform" and not case["tau_prior"].get("args"))
    proper_mu = bool(case.get("mu_prior"))
    out["log_marginal_likelihood"] = log_evidence if proper_tau and proper_mu else None
    out["bayes_factor_tau_zero"] = mp.exp(model.conditional(mpf(0))[0] - log_evidence) if proper_tau else None
    if proper_mu:
        mean, sd = (mpf(a) for a in case["mu_prior"]["args"])
        out["bayes_factor_mu_zero"] = model.mix_density(mpf(0), "mu") / (mp.npdf(-mean / sd) / sd)
    else:
        out["bayes_factor_mu_zero"] = None
    out["probabilities"] = [
        {"above": x, "mu": model.mix_upper(mpf(x), "mu"), "new_study": model.mix_upper(mpf(x), "predictive")}
        for x in case.get("thresholds", [])
    ]
    t = out["tau"]["median"] * 2
    out["tau_at"] = {"tau": t, "cdf": model.tau_cdf(t), "density": model.tau_density(t)}
    print("done", case["name"], file=sys.stderr, flush=True)
    return out


def as_json(value):
    if isinstance(value, mp.mpf):
        return float(mp.nstr(value, 20)) if mp.isfinite(value) else None
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_json(v) for v in value]
    return value


def cases():
    bcg = json.load(open(os.path.join(ROOT, "tests/reference/bcg.json")))["effects"]["RR"]
    rr = {"yi": bcg["yi"], "vi": bcg["vi"]}
    hhs = {"yi": [17.39999999999999, 24.299999999999997], "vi": [4.971666666666667, 0.7102380952380953]}
    schools = {"yi": [28.39, 7.94, -2.75, 6.82, -0.64, 0.63, 18.01, 12.16],
               "vi": [s * s for s in [14.9, 10.2, 16.3, 11.0, 9.4, 11.4, 10.4, 17.6]]}
    hn = lambda s: {"name": "half-normal", "args": [s]}
    out = []
    for name, prior in [("half-normal", hn(0.5)), ("half-cauchy", {"name": "half-cauchy", "args": [1.0]}),
                        ("half-t", {"name": "half-t", "args": [3.0, 0.5]}), ("uniform-bounded", {"name": "uniform", "args": [2.0]}),
                        ("uniform", {"name": "uniform"}), ("jeffreys", {"name": "jeffreys"}),
                        ("turner", {"name": "log-normal", "args": [-2.56, 1.74]}),
                        ("rhodes", {"name": "log-t", "args": [-3.44, 2.59, 5.0]})]:
        out.append({"name": f"bcg {name}", **rr, "tau_prior": prior, "thresholds": [0.0, -0.5]})
    out.append({"name": "bcg half-normal normal-mu", **rr, "tau_prior": hn(0.5),
                "mu_prior": {"name": "normal", "args": [0.0, 4.0]}, "thresholds": [0.0]})
    out.append({"name": "bcg half-normal 90", **rr, "tau_prior": hn(0.5), "level": 90})
    out.append({"name": "hip HHS half-normal", **hhs, "tau_prior": hn(10.0), "thresholds": [15.9, 18.0]})
    out.append({"name": "hip HHS half-cauchy normal-mu", **hhs, "tau_prior": {"name": "half-cauchy", "args": [10.0]},
                "mu_prior": {"name": "normal", "args": [0.0, 100.0]}, "thresholds": [15.9]})
    out.append({"name": "k=2 jeffreys", "yi": rr["yi"][:2], "vi": rr["vi"][:2], "tau_prior": {"name": "jeffreys"}})
    out.append({"name": "k=3 half-cauchy", "yi": rr["yi"][:3], "vi": rr["vi"][:3],
                "tau_prior": {"name": "half-cauchy", "args": [0.5]}, "thresholds": [0.0]})
    out.append({"name": "k=3 uniform", "yi": rr["yi"][:3], "vi": rr["vi"][:3], "tau_prior": {"name": "uniform"}})
    out.append({"name": "tau near 0", "yi": [0.10, 0.11, 0.09, 0.10, 0.12], "vi": [0.04, 0.05, 0.03, 0.06, 0.04],
                "tau_prior": hn(1.0), "thresholds": [0.0]})
    out.append({"name": "large tau", "yi": [-3.0, 0.0, 4.0, 8.0, -6.0], "vi": [0.01, 0.02, 0.05, 0.03, 0.04],
                "tau_prior": {"name": "half-cauchy", "args": [1.0]}, "thresholds": [0.0]})
    # Variances from 2.5e-6 to 3e5 (found by the property tests: the density
    # of tau at 0 underflows, which once sent a quantile search to 1e207).
    out.append({"name": "variance ratio 1e11",
                "yi": [0.3, 0.3, 1.7513951451339473, 0.3],
                "vi": [44.399381851042456, 305384.71778452536, 0.0015217895804875911, 2.485359688569628e-6],
                "tau_prior": hn(6.663285514302458), "thresholds": [0.0]})
    # Crins et al. (2014), acute rejections under IL-2RA in paediatric liver
    # transplantation (bayesmeta's example data): log odds ratios as metafor's
    # escalc computes them (0.5 added to every cell of a table with a zero).
    crins = []
    for a, n1, c, n2 in [(14, 61, 15, 20), (16, 28, 19, 28), (3, 18, 8, 12), (9, 54, 29, 54),
                         (4, 36, 11, 36), (0, 50, 3, 34)]:
        b, d = n1 - a, n2 - c
        if 0 in (a, b, c, d):
            a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
        crins.append((math.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d))
    crins = {"yi": [y for y, _ in crins], "vi": [v for _, v in crins]}
    out.append({"name": "crins half-normal", **crins, "tau_prior": hn(0.5), "thresholds": [0.0]})
    out.append({"name": "crins turner surgical", **crins,
                "tau_prior": {"name": "log-normal", "args": [-2.14, 1.74]}, "thresholds": [0.0]})
    out.append({"name": "eight schools", **schools, "tau_prior": {"name": "half-cauchy", "args": [25.0]},
                "mu_prior": {"name": "normal", "args": [0.0, 50.0]}, "thresholds": [0.0]})
    return out


if __name__ == "__main__":
    only = sys.argv[1:]
    todo = [c for c in cases() if not only or c["name"] in only]
    with Pool(min(len(todo), os.cpu_count() or 1)) as pool:
        results = pool.map(run, todo)
    document = {"generator": "tests/reference/bayes/generate.py", "mpmath": mp.__version__, "dps": DPS,
                "cases": [as_json(r) for r in results if r is not None]}
    if only:
        print(json.dumps(document, indent=1))
    else:
        with open(os.path.join(HERE, "reference.json"), "w") as fh:
            json.dump(document, fh, indent=1)
            fh.write("\n")
