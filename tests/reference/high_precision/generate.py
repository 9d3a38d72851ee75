#!/usr/bin/env python3
"""High-precision reference for ill-conditioned data, where metafor itself stops
early or fails.

Solves the estimating equations of every tau^2 estimator with mpmath at 60
significant digits, with explicit k x k matrices (P = W - W 1 1' W / sum(w)),
a computation path independent of cochran's O(k) sums, and writes
tests/reference/high_precision/reference.json. The effects are generated as doubles and
written with their shortest round-trip representation, so both sides start
from the same numbers exactly.

Cases: variance ratios from 1 to 1e12, effect scales from 1e-12 to 1e12,
tau^2 much larger than the variances and tau^2 near 0, k = 2, 3 and 5, and the
two examples of the robustness issue. ML and REML are the global maximum of the
(restricted) likelihood on [0, inf), found on a dense grid and refined.

Run: pip install mpmath && python3 tests/reference/high_precision/generate.py
"""

import json
import math
import os
import random

import mpmath as mp
from mpmath import mpf

mp.mp.dps = 60
ESTIMATORS = ["DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM"]
LEVEL = mpf(95)


def weights(v, tau2):
    return [1 / (vi + tau2) for vi in v]


def projection(v, tau2):
    """P = W - w w' / sum(w), as a full matrix."""
    w = weights(v, tau2)
    s = mp.fsum(w)
    k = len(v)
    return mp.matrix([[(w[i] if i == j else 0) - w[i] * w[j] / s for j in range(k)] for i in range(k)])


def quad(P, y):
    yv = mp.matrix(y)
    return (yv.T * P * yv)[0]


def trace(M):
    return mp.fsum(M[i, i] for i in range(M.rows))


def gen_q(y, v, tau2):
    return quad(projection(v, tau2), y)


def diag(x):
    k = len(x)
    return mp.matrix([[x[i] if i == j else 0 for j in range(k)] for i in range(k)])


def log_likelihood(y, v, tau2, restricted):
    k = len(y)
    w = weights(v, tau2)
    ll = -mpf(k - (1 if restricted else 0)) / 2 * mp.log(2 * mp.pi)
    ll -= mp.fsum(mp.log(vi + tau2) for vi in v) / 2
    ll -= gen_q(y, v, tau2) / 2
    if restricted:
        ll -= mp.log(mp.fsum(w)) / 2
    return ll


def score(y, v, tau2, restricted):
    """d ll / d tau^2 times 2."""
    P = projection(v, tau2)
    yv = mp.matrix(y)
    Py = P * yv
    ypp = (Py.T * Py)[0]
    if restricted:
        return ypp - trace(P)
    return ypp - mp.fsum(weights(v, tau2))


def decreasing_root(f, lo, hi):
    """Bisection to full precision, then a secant polish (f decreasing)."""
    flo, fhi = f(lo), f(hi)
    assert flo > 0 and fhi <= 0, (lo, hi, flo, fhi)
    for _ in range(400):
        mid = (lo + hi) / 2
        if f(mid) > 0:
            lo = mid
        else:
            hi = mid
        if hi - lo <= mpf(10) ** (-55) * hi:
            break
    return (lo + hi) / 2


def upper_bracket(f, start):
    hi = start
    while f(hi) > 0:
        hi *= 4
    return hi


def likelihood_maximum(y, v, restricted):
    """Global maximum of the (restricted) likelihood on [0, inf)."""
    f = lambda t: score(y, v, t, restricted)
    candidates = [mpf(0)] if f(mpf(0)) <= 0 else []
    spread = (max(y) - min(y)) ** 2 + max(v)
    t = min(v) * mpf(10) ** -6
    prev = (mpf(0), f(mpf(0)))
    while t < 10 * spread:
        cur = (t, f(t))
        if prev[1] > 0 and cur[1] <= 0:
            candidates.append(decreasing_root(f, prev[0], cur[0]))
        prev = cur
        t *= mpf("1.05")
    if prev[1] > 0:
        hi = upper_bracket(f, prev[0] * 2)
        candidates.append(decreasing_root(f, prev[0], hi))
    return max(candidates, key=lambda c: log_likelihood(y, v, c, restricted)), len(candidates)


def q_equals(y, v, target):
    f = lambda t: gen_q(y, v, t) - target
    if f(mpf(0)) <= 0:
        return mpf(0)
    return decreasing_root(f, mpf(0), upper_bracket(f, max(v)))


def unweighted(y, v):
    k = len(y)
    mean = mp.fsum(y) / k
    rss = mp.fsum((yi - mean) ** 2 for yi in y)
    return rss, mp.fsum(v) * (k - 1) / k


def chi2_quantile(p, df):
    cdf = lambda x: mp.gammainc(mpf(df) / 2, 0, x / 2, regularized=True)
    lo, hi = mpf(0), mpf(1)
    while cdf(hi) < p:
        hi *= 2
    for _ in range(400):
        mid = (lo + hi) / 2
        if cdf(mid) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < mpf(10) ** (-55) * hi:
            break
    return (lo + hi) / 2


def estimate_tau2(name, y, v):
    k = len(y)
    if name in ("DL", "HS"):
        w = weights(v, 0)
        q = gen_q(y, v, 0)
        if name == "DL":
            return (q - (k - 1)) / trace(projection(v, 0)), None
        return (q - k) / mp.fsum(w), None
    if name == "HE":
        rss, trpv = unweighted(y, v)
        return (rss - trpv) / (k - 1), None
    if name == "SJ":
        start = unweighted(y, v)[0] / k
        return start * gen_q(y, v, start) / (k - 1), start
    if name in ("EB", "PM"):
        return q_equals(y, v, mpf(k - 1)), None
    tau2, _ = likelihood_maximum(y, v, restricted=(name == "REML"))
    return tau2, None


def se_tau2(name, y, v, tau2, sj_start):
    k = len(y)
    if name == "ML":
        return mp.sqrt(2 / mp.fsum(w * w for w in weights(v, tau2)))
    if name == "REML":
        P = projection(v, tau2)
        return mp.sqrt(2 / trace(P * P))
    if name in ("EB", "PM"):
        s1 = mp.fsum(weights(v, tau2))
        return mp.sqrt(2 * k * k / mpf(k - 1) / s1**2)
    if name in ("DL", "HS"):
        P = projection(v, 0)
        spread = 2 * (k - 1) + 4 * tau2 * trace(P) + 2 * tau2**2 * trace(P * P)
        scale = trace(P) if name == "DL" else mp.fsum(weights(v, 0))
        return mp.sqrt(spread / scale**2)
    V = diag(v)
    if name == "HE":
        P = mp.eye(k) - mp.ones(k, k) / k
        spread = 2 * trace(P * V * P * V) + 4 * tau2 * trace(P * V) + 2 * tau2**2 * (k - 1)
        return mp.sqrt(spread / mpf(k - 1) ** 2)
    P = projection(v, sj_start)  # SJ
    spread = 2 * trace(P * V * P * V) + 4 * tau2 * trace(V * P * P) + 2 * tau2**2 * trace(P * P)
    return mp.sqrt(sj_start**2 / mpf(k - 1) ** 2 * spread)


def fit(name, y, v):
    k = len(y)
    raw, sj_start = estimate_tau2(name, y, v)
    tau2 = max(raw, mpf(0))
    w = weights(v, tau2)
    s1 = mp.fsum(w)
    est = mp.fsum(wi * yi for wi, yi in zip(w, y)) / s1
    se = mp.sqrt(1 / s1)
    z = mp.sqrt(2) * mp.erfinv(LEVEL / 100)
    q0 = gen_q(y, v, 0)
    typical = (k - 1) / trace(projection(v, 0))
    qgen = gen_q(y, v, tau2)
    lower_target = chi2_quantile(1 - (1 - LEVEL / 100) / 2, k - 1)
    upper_target = chi2_quantile((1 - LEVEL / 100) / 2, k - 1)
    out = {
        "tau2": tau2,
        "se_tau2": se_tau2(name, y, v, tau2, sj_start),
        "estimate": est,
        "se": se,
        "ci_lower": est - z * se,
        "ci_upper": est + z * se,
        "se_knha": mp.sqrt(qgen / (k - 1) / s1),
        "q": q0,
        "i2": 100 * tau2 / (typical + tau2),
        "h2": tau2 / typical + 1,
        "tau2_ci_lower": q_equals(y, v, lower_target),
        "tau2_ci_upper": q_equals(y, v, upper_target),
    }
    return {key: float(value) for key, value in out.items()}


def case(name, y, v, note):
    ym = [mpf(x) for x in y]
    vm = [mpf(x) for x in v]
    fits = {}
    for estimator in ESTIMATORS:
        fits[estimator] = fit(estimator, ym, vm)
    maxima = {r: likelihood_maximum(ym, vm, r == "REML")[1] for r in ("ML", "REML")}
    return {"name": name, "note": note, "yi": y, "vi": v, "likelihood_maxima": maxima, "fits": fits}


def generated_cases():
    rng = random.Random(20261130)
    cases = []
    for k in (2, 3, 5):
        for ratio_exp in (0, 3, 6, 9, 12):
            for scale_exp in (-12, 0, 12):
                for heterogeneity in ("none", "moderate", "dominant"):
                    scale = 10.0**scale_exp
                    # variances spread log-uniformly over [1, 10^ratio], both ends present
                    exps = [0.0, float(ratio_exp)] + [rng.uniform(0, ratio_exp) for _ in range(k - 2)]
                    rng.shuffle(exps)
                    v_unit = [10.0**e for e in exps]
                    tau2_unit = {"none": 0.0, "moderate": 1.0, "dominant": 1e4 * max(v_unit)}[heterogeneity]
                    y = [float(f"{scale * (0.3 + rng.gauss(0, 1) * math.sqrt(vu + tau2_unit)):.6g}") for vu in v_unit]
                    v = [float(f"{vu * scale * scale:.6g}") for vu in v_unit]
                    name = f"k{k}_ratio1e{ratio_exp}_scale1e{scale_exp}_{heterogeneity}"
                    cases.append((name, y, v, "generated"))
    return cases


def main():
    root = os.path.dirname(os.path.abspath(__file__))
    specs = [
        ("issue_example_1", [0.9, -9.1, 3.2, 91.4], [1e-8, 17.1, 5.0, 10000.0],
         "REML tau^2 = 22.92; the textbook trace form of tr(PP) cancels to 0"),
        ("issue_example_2", [0.0009, -0.0091, 0.0032, 0.0914], [1e-14, 1.71e-5, 5e-6, 0.01],
         "EB tau^2 = 2.73e-5 on data of small absolute size"),
    ] + generated_cases()
    out = {
        "source": "tests/reference/high_precision/generate.py (mpmath, 60 digits, explicit k x k matrices)",
        "level": 95,
        "cases": [case(*spec) for spec in specs],
    }
    path = os.path.join(root, "reference.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {len(out['cases'])} cases to {path}")


if __name__ == "__main__":
    main()
