"""Reference fits of CM.EL for odds ratios (issue 24) at 40 digits.

metafor's rma.glmm(model = "CM.EL") maximises the exact conditional likelihood
(Fisher's non-central hypergeometric, integrated over a normal log odds ratio by
integrate()) with nlminb and takes standard errors from numDeriv. Its optimisers
stop early here, and generate.R's tight refit fails: on bcg its saturated fit for
the Wald test stops far from the maximum (Q = 268.5 where the tables give 163.1);
on hahn2001 its random-effects fit reports tau^2 = 1.5e-4 with a log-likelihood
below the common effect's and a standard error of 5.6e-7. This script evaluates
the same equations at 40 digits and replaces the tested values of each CM.EL OR
case, keeping metafor's under "metafor":

- common: the conditional maximum-likelihood log odds ratio (Newton's method on
  the exact score), its standard error from the exact information;
- heterogeneity: each table's own conditional estimate with its information
  (tables at a bound of their margins have an infinite estimate: they add nothing
  to the likelihood ratio and carry no weight in the Wald test, the limits);
- random: the log-likelihood sum_i log int P(a_i | theta) N(theta; beta, tau^2)
  dtheta by 40-point adaptive Gauss-Hermite quadrature (checked at the maximum
  against mpmath's tanh-sinh quadrature: quadrature_check is the largest
  difference of a study's log integral), maximised over (beta, tau) by Newton's
  method with central differences; the standard error from that Hessian. On the boundary (score of tau^2 at 0 not
  positive) the random-effects fit is the common one.

I^2 and H^2 use metafor's typical within-study variance, recovered from its own
I^2 and tau^2 (the escalc effects do not depend on the fit).

Usage: python3 tests/reference/glmm/conditional_exact.py ROOT  (needs mpmath;
run after generate.R)
"""

import csv
import json
import os
import sys

import mpmath as mp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hessian import newton_2d  # noqa: E402

mp.mp.dps = 40
NEGLIGIBLE = -110  # terms below e^-110 of the largest add nothing at 40 digits


class Table:
    """A table's events in group 1 given its margins."""

    def __init__(self, a, n1, c, n2):
        m1 = a + c
        self.lo = max(0, m1 - n2)
        hi = min(n1, m1)
        self.a = a
        self.logw = [mp.log(mp.binomial(n1, x)) + mp.log(mp.binomial(n2, m1 - x))
                     for x in range(self.lo, hi + 1)]
        self.bound = a == self.lo or a == hi

    def cumulants(self, theta):
        """log P(a | theta), and the mean and variance of x."""
        terms = [w + (self.lo + j - self.a) * theta for j, w in enumerate(self.logw)]
        peak = max(terms)
        kept = [(j, mp.exp(t - peak)) for j, t in enumerate(terms) if t - peak > NEGLIGIBLE]
        s0 = mp.fsum(e for _, e in kept)
        mean = mp.fsum(e * (self.lo + j) for j, e in kept) / s0
        var = mp.fsum(e * (self.lo + j - mean) ** 2 for j, e in kept) / s0
        return self.logw[self.a - self.lo] - peak - mp.log(s0), mean, var


def tables_of(root, case):
    with open(os.path.join(root, case["csv"])) as f:
        rows = list(csv.DictReader(f))
    out = []
    for r in rows:
        a, n1, c, n2 = (int(r[k]) for k in ("events1", "n1", "events2", "n2"))
        if a + c == 0 or (n1 - a) + (n2 - c) == 0:
            continue  # metafor's drop00
        out.append(Table(a, n1, c, n2))
    return out


def newton(score, start):
    """The root of a decreasing score(x) -> (value, derivative)."""
    x = mp.mpf(start)
    for _ in range(200):
        g, h = score(x)
        step = max(min(-g / h, mp.mpf(2)), mp.mpf(-2))
        x += step
        if abs(step) < mp.mpf("1e-35"):
            return x
    raise RuntimeError("Newton's method did not converge")


def common_fit(tables):
    def score(beta):
        parts = [t.cumulants(beta) for t in tables]
        return mp.fsum(t.a - m for t, (_, m, _) in zip(tables, parts)), -mp.fsum(v for _, _, v in parts)

    beta = newton(score, 0)
    parts = [t.cumulants(beta) for t in tables]
    info = mp.fsum(v for _, _, v in parts)
    loglik = mp.fsum(l for l, _, _ in parts)
    return beta, 1 / mp.sqrt(info), loglik


def saturated_tests(tables, loglik_common):
    ll, estimates = [], []
    for t in tables:
        if t.bound:
            ll.append(mp.mpf(0))
            continue
        theta = newton(lambda x: (t.a - t.cumulants(x)[1], -t.cumulants(x)[2]), 0)
        l, _, v = t.cumulants(theta)
        ll.append(l)
        estimates.append((theta, v))
    sw = mp.fsum(w for _, w in estimates)
    mean = mp.fsum(w * y for y, w in estimates) / sw
    wald = mp.fsum(w * (y - mean) ** 2 for y, w in estimates)
    lrt = 2 * (mp.fsum(ll) - loglik_common)
    return wald, lrt


def hermite_rule(n):
    """Nodes and weights of Gauss-Hermite quadrature (weight e^(-z^2)) at the
    working precision, by Newton's method on the orthonormal recurrence from
    the asymptotic guesses' neighbourhood (mpmath's polyroots is slow at n = 40)."""
    def orthonormal(x):
        p0, p1 = mp.mpf(0), mp.pi ** mp.mpf(-0.25)
        for j in range(1, n + 1):
            p0, p1 = p1, x * mp.sqrt(mp.mpf(2) / j) * p1 - mp.sqrt(mp.mpf(j - 1) / j) * p0
        return p1, mp.sqrt(2 * n) * p0
    nodes = []
    # Bracket the roots on a fine grid, then polish.
    grid = [-mp.sqrt(2 * n + 1) - 1 + j * mp.mpf(1) / 64 for j in range(int((2 * mp.sqrt(2 * n + 1) + 2) * 64) + 1)]
    values = [orthonormal(x)[0] for x in grid]
    for x0, x1, v0, v1 in zip(grid, grid[1:], values, values[1:]):
        if v0 * v1 < 0:
            x = mp.findroot(lambda y: orthonormal(y)[0], (x0, x1), solver="anderson")
            nodes.append(x)
    assert len(nodes) == n, len(nodes)
    weights = [2 / orthonormal(x)[1] ** 2 for x in nodes]
    assert abs(mp.fsum(weights) - mp.sqrt(mp.pi)) < mp.mpf(10) ** (-mp.mp.dps + 5)
    return nodes, weights


NODES, WEIGHTS = hermite_rule(40)


def integrand_mode(t, beta, tau):
    """The mode of log P(a | theta) + log N(theta; beta, tau^2) and the curvature there."""
    mode = newton(lambda th: (t.a - t.cumulants(th)[1] - (th - beta) / tau ** 2,
                              -t.cumulants(th)[2] - 1 / tau ** 2), beta)
    return mode, t.cumulants(mode)[2] + 1 / tau ** 2


def log_normal(th, beta, tau):
    return -(th - beta) ** 2 / (2 * tau ** 2) - mp.log(tau * mp.sqrt(2 * mp.pi))


def study_integral(t, beta, tau):
    """log of int P(a | theta) N(theta; beta, tau^2) dtheta by 40-point adaptive
    Gauss-Hermite quadrature (the integrand is smooth and log-concave: at 40
    points the rule agrees with tanh-sinh quadrature to the digits recorded by
    quadrature_check)."""
    mode, curvature = integrand_mode(t, beta, tau)
    g = lambda th: t.cumulants(th)[0] + log_normal(th, beta, tau)
    peak = g(mode)
    scale = mp.sqrt(2 / curvature)
    total = mp.fsum(w * mp.exp(z ** 2 + g(mode + scale * z) - peak) for z, w in zip(NODES, WEIGHTS))
    return peak + mp.log(scale * total)


def study_integral_tanh_sinh(t, beta, tau):
    """The same integral by mpmath's tanh-sinh quadrature, split at the mode."""
    mode, _ = integrand_mode(t, beta, tau)
    peak = t.cumulants(mode)[0] + log_normal(mode, beta, tau)
    f = lambda th: mp.exp(t.cumulants(th)[0] + log_normal(th, beta, tau) - peak)
    return peak + mp.log(mp.quad(f, [-mp.inf, mode, mp.inf]))


def random_loglik(tables, beta, tau):
    return mp.fsum(study_integral(t, beta, tau) for t in tables)


def random_fit(tables, beta, tau):
    f = lambda b, s: random_loglik(tables, b, s)
    beta, tau, value, (hbb, hbt, htt), gradient = newton_2d(f, beta, tau, mp.mpf("1e-12"), mp.mpf("1e-16"))
    se = mp.sqrt(-htt / (hbb * htt - hbt ** 2))
    return beta, tau, se, value, gradient


def score_of_tau2_at_zero(tables, beta):
    """d/d tau^2 of the log-likelihood at tau^2 = 0: sum (l'' + l'^2) / 2."""
    parts = [t.cumulants(beta) for t in tables]
    return mp.fsum(((t.a - m) ** 2 - v) / 2 for t, (_, m, v) in zip(tables, parts))


def summary(beta, se, tau2, loglik, typical, z975):
    zval = beta / se
    return dict(
        beta=float(beta), se=float(se), zval=float(zval), pval=float(2 * mp.ncdf(-abs(zval))),
        ci_lb=float(beta - z975 * se), ci_ub=float(beta + z975 * se), tau2=float(tau2),
        i2=float(100 * tau2 / (typical + tau2)), h2=float(tau2 / typical + 1), loglik=float(loglik),
    )


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    path = os.path.join(root, "tests/reference/glmm/glmm.json")
    with open(path) as f:
        reference = json.load(f)
    z975 = mp.sqrt(2) * mp.erfinv(mp.mpf("0.95"))
    for case in reference["cases"]:
        if not (case["measure"] == "OR" and case["model"] == "CM.EL"):
            continue
        metafor = case.get("metafor") or {"common": case["common"], "random": case["random_metafor"]}
        tables = tables_of(root, case)
        df = len(tables) - 1
        m = metafor["random"]
        typical = m["tau2"] / (m["h2"] - 1)
        beta, se, loglik = common_fit(tables)
        wald, lrt = saturated_tests(tables, loglik)
        tests = dict(qe_wald=float(wald), qe_wald_p=float(mp.gammainc(mp.mpf(df) / 2, wald / 2, regularized=True)),
                     qe_lrt=float(lrt), qe_lrt_p=float(mp.gammainc(mp.mpf(df) / 2, lrt / 2, regularized=True)),
                     k=len(tables))
        common = summary(beta, se, 0, loglik, typical, z975)
        common.update(tests, i2=0.0, h2=1.0)
        score = score_of_tau2_at_zero(tables, beta)
        print(case["dataset"], "CM.EL common", mp.nstr(beta, 15), "se", mp.nstr(se, 15),
              "wald", mp.nstr(wald, 12), "lrt", mp.nstr(lrt, 12), "score at 0", mp.nstr(score, 6), flush=True)
        if score <= 0:
            random = dict(common, boundary=True)
        else:
            start_tau = mp.sqrt(mp.mpf(m["tau2"]))
            b, tau, se_r, ll_r, gradient = random_fit(tables, mp.mpf(m["beta"]), start_tau)
            random = summary(b, se_r, tau ** 2, ll_r, typical, z975)
            # The largest difference between the two quadratures at the maximum.
            check = max(abs(study_integral(t, b, tau) - study_integral_tanh_sinh(t, b, tau)) for t in tables)
            random.update(tests, gradient=[float(g) for g in gradient], quadrature_check=float(check))
            print(case["dataset"], "CM.EL random", mp.nstr(b, 15), "tau2", mp.nstr(tau ** 2, 15),
                  "se", mp.nstr(se_r, 15), "loglik", mp.nstr(ll_r, 15), flush=True)
        source = "mpmath at 40 digits (conditional_exact.py)"
        case["metafor"] = metafor
        case["common"] = dict(common, source=source)
        case["random"] = dict(random, source=source)
    with open(path, "w") as f:
        json.dump(reference, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
