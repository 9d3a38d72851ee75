"""Standard errors of the random-intercept GLMMs (issue 24) at 50 digits.

generate.R polishes each fit to the maximum of lme4's objective, but numerical
Hessians of lme4's deviance function are noisy at 1e-5 (its inner iterations
stop at a tolerance: numDeriv's standard error for pritz1997 moves by 1e-5 with
its step settings). This script evaluates the same objective -- per study, the
log of the integral over u ~ N(0, tau^2) of the binomial or Poisson likelihood at
offset + beta + u, by adaptive Gauss-Hermite quadrature with 7 nodes centred at
the integrand's mode and scaled by its curvature there -- with mpmath at 50
digits, takes its Hessian in (beta, tau) by central differences with a step of
1e-12, and replaces se, zval, pval, ci_lb and ci_ub of each such case in
glmm.json. It also records the gradient there (how far the polished point is
from the maximum) and the objective as a log-likelihood.

Usage: python3 tests/reference/glmm/hessian.py ROOT  (needs mpmath)
"""

import csv
import json
import os
import sys

import mpmath as mp

mp.mp.dps = 50
POINTS = 7


def hermite_rule(n):
    """Nodes and weights of Gauss-Hermite quadrature (weight e^(-z^2))."""
    # Coefficients of the physicists' H_n from H_{j+1} = 2x H_j - 2j H_{j-1}, highest first.
    previous, current = [mp.mpf(0)], [mp.mpf(1)]
    for j in range(n):
        shifted = [2 * c for c in current] + [mp.mpf(0)]
        padded = [mp.mpf(0)] * (len(shifted) - len(previous)) + [2 * j * c for c in previous]
        previous, current = current, [a - b for a, b in zip(shifted, padded)]
    nodes = sorted(mp.re(x) for x in mp.polyroots(current, maxsteps=500, extraprec=200))
    weights = [2 ** (n - 1) * mp.factorial(n) * mp.sqrt(mp.pi) / (n ** 2 * mp.hermite(n - 1, x) ** 2)
               for x in nodes]
    assert abs(mp.fsum(weights) - mp.sqrt(mp.pi)) < mp.mpf("1e-40")
    assert len(set(mp.nstr(x, 20) for x in nodes)) == n
    return nodes, weights


NODES, WEIGHTS = hermite_rule(POINTS)


def loglik_terms(family, y, m, eta):
    """log f(y | eta) without its constant, and its first two derivatives."""
    if family == "binomial":
        mu = 1 / (1 + mp.exp(-eta))
        return y * eta - m * mp.log1p(mp.exp(eta)), y - m * mu, -m * mu * (1 - mu)
    mu = mp.exp(eta)
    return y * eta - mu, y - mu, -mu


def constant(family, y, m):
    if family == "binomial":
        return mp.loggamma(m + 1) - mp.loggamma(y + 1) - mp.loggamma(m - y + 1)
    return -mp.loggamma(y + 1)


def study(family, y, m, offset, beta, tau):
    base = offset + beta
    prec = 1 / tau ** 2
    h = lambda u: loglik_terms(family, y, m, base + u)[0] - prec * u ** 2 / 2
    u = mp.mpf(0)
    for _ in range(200):
        _, d1, d2 = loglik_terms(family, y, m, base + u)
        step = (d1 - prec * u) / (prec - d2)
        t = 1
        # Halve overshooting steps far from the mode; near it, Newton's own
        # quadratic convergence (comparing h there would compare rounding).
        while abs(step) > mp.mpf("1e-6") and h(u + t * step) < h(u) and t > mp.mpf("1e-20"):
            t /= 2
        u += t * step
        if abs(step) < mp.mpf("1e-45"):
            break
    else:
        raise RuntimeError("the mode did not converge")
    curvature = prec - loglik_terms(family, y, m, base + u)[2]
    scale = mp.sqrt(2) / mp.sqrt(curvature)
    peak = h(u)
    total = mp.fsum(w * mp.exp(z ** 2 + h(u + scale * z) - peak) for z, w in zip(NODES, WEIGHTS))
    return peak + mp.log(scale * total) - mp.log(2 * mp.pi / prec) / 2


def objective(family, counts, beta, tau):
    return mp.fsum(study(family, y, m, o, beta, tau) for y, m, o in counts)


def counts_of(root, case):
    with open(os.path.join(root, case["csv"])) as f:
        rows = list(csv.DictReader(f))
    num = lambda r, k: mp.mpf(r[k])
    measure = case["measure"]
    if measure == "PLO":
        return "binomial", [(num(r, "events"), num(r, "n"), mp.mpf(0)) for r in rows]
    if measure == "IRLN":
        return "poisson", [(num(r, "events1"), None, mp.log(num(r, "time1"))) for r in rows]
    if measure == "IRR":
        return "binomial", [(num(r, "events1"), num(r, "events1") + num(r, "events2"),
                             mp.log(num(r, "time1") / num(r, "time2")))
                            for r in rows if num(r, "events1") + num(r, "events2") > 0]
    out = []
    for r in rows:  # OR, conditional approximate likelihood; metafor drops 0/0 and n/n tables
        a, n1, c, n2 = (num(r, k) for k in ("events1", "n1", "events2", "n2"))
        if a + c == 0 or (n1 - a) + (n2 - c) == 0:
            continue
        out.append((a, a + c, mp.log(n1 / n2)))
    return "binomial", out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    path = os.path.join(root, "tests/reference/glmm/glmm.json")
    with open(path) as f:
        reference = json.load(f)
    z975 = mp.sqrt(2) * mp.erfinv(mp.mpf("0.95"))
    for case in reference["cases"]:
        if case["measure"] == "OR" and case["model"] != "CM.AL":
            continue
        random = case["random"]
        if random["tau2"] < 1e-8:
            continue  # on the boundary: the common-effect information, as generate.R has it
        family, counts = counts_of(root, case)
        beta, tau = mp.mpf(random["beta"]), mp.sqrt(mp.mpf(random["tau2"]))
        f = lambda b, t: objective(family, counts, b, t)
        e = mp.mpf("1e-12")
        f0 = f(beta, tau)
        fbb = (f(beta + e, tau) - 2 * f0 + f(beta - e, tau)) / e ** 2
        ftt = (f(beta, tau + e) - 2 * f0 + f(beta, tau - e)) / e ** 2
        fbt = (f(beta + e, tau + e) - f(beta + e, tau - e) - f(beta - e, tau + e)
               + f(beta - e, tau - e)) / (4 * e ** 2)
        gb = (f(beta + e, tau) - f(beta - e, tau)) / (2 * e)
        gt = (f(beta, tau + e) - f(beta, tau - e)) / (2 * e)
        se = mp.sqrt(-ftt / (fbb * ftt - fbt ** 2))
        zval = beta / se
        random.update(
            se=float(se), zval=float(zval), pval=float(2 * mp.ncdf(-abs(zval))),
            ci_lb=float(beta - z975 * se), ci_ub=float(beta + z975 * se),
            se_source="mpmath Hessian of the 7-point adaptive quadrature at 50 digits",
            gradient=[float(gb), float(gt)],
            loglik_mpmath=float(f0 + mp.fsum(constant(family, y, m) for y, m, _ in counts)),
        )
        print(case["dataset"], case["measure"], case["model"], "se", mp.nstr(se, 15),
              "gradient", mp.nstr(gb, 3), mp.nstr(gt, 3))
    with open(path, "w") as f:
        json.dump(reference, f, indent=2)
        f.write("\n")


main()
