"""Standard errors of the random-intercept GLMMs (issue 24) at 50 digits, and
the UM.FS fits of odds ratios.

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

For UM.FS (a parameter per study besides beta and tau), lme4's polished maximum
is itself off by a few 1e-6 on bcg's large tables (its gradient there is 1e-4);
the script maximises the same 7-point quadrature at 50 digits over all k + 2
parameters (each study's alpha profiled out) and replaces the whole fit, keeping
lme4's values under lme4_polished. Its log-likelihood is not lower than lme4's.

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
    return adaptive(lambda u: loglik_terms(family, y, m, base + u), tau)


def adaptive(data, tau):
    """log of the integral of exp(data(u)) N(u; 0, tau^2) du by 7-point adaptive
    Gauss-Hermite quadrature; data(u) gives the log-likelihood and its first
    two derivatives in u."""
    prec = 1 / tau ** 2
    h = lambda u: data(u)[0] - prec * u ** 2 / 2
    u = mp.mpf(0)
    for _ in range(200):
        _, d1, d2 = data(u)
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
    curvature = prec - data(u)[2]
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


def tables_of(root, case):
    """The 2x2 tables UM.FS fits: metafor's drop00 leaves out tables with no
    events, or only events, in both groups."""
    with open(os.path.join(root, case["csv"])) as f:
        rows = list(csv.DictReader(f))
    out = []
    for r in rows:
        a, n1, c, n2 = (mp.mpf(r[k]) for k in ("events1", "n1", "events2", "n2"))
        if a + c == 0 or (n1 - a) + (n2 - c) == 0:
            continue
        out.append((a, n1, c, n2))
    return out


def fixed_study_value(table, alpha, beta, tau):
    """One table's UM.FS log-likelihood (constants excluded): logit p1 = alpha +
    beta + u/2, logit p2 = alpha - u/2, u ~ N(0, tau^2) integrated out."""
    a, n1, c, n2 = table

    def data(u):
        l1, g1, h1 = loglik_terms("binomial", a, n1, alpha + beta + u / 2)
        l2, g2, h2 = loglik_terms("binomial", c, n2, alpha - u / 2)
        return l1 + l2, (g1 - g2) / 2, (h1 + h2) / 4

    return adaptive(data, tau)


def fixed_study_profile(tables, beta, tau, alphas):
    """The UM.FS log-likelihood at (beta, tau) with each study's alpha maximised
    by Newton's method on central differences (alphas: starting points, updated)."""
    e = mp.mpf("1e-12")
    total = []
    for i, table in enumerate(tables):
        f = lambda al: fixed_study_value(table, al, beta, tau)
        al = alphas[i]
        for _ in range(100):
            f0, fp, fm = f(al), f(al + e), f(al - e)
            step = -((fp - fm) / (2 * e)) / ((fp - 2 * f0 + fm) / e ** 2)
            al += step
            if abs(step) < mp.mpf("1e-22"):
                break
        else:
            raise RuntimeError("alpha did not converge")
        alphas[i] = al
        total.append(f(al))
    return mp.fsum(total)


def fixed_study_maximum(tables, beta, tau):
    """The maximum over (beta, tau) of the profile by Newton's method with
    central differences, and the profile's Hessian there (whose inverse is the
    (beta, tau) block of the full model's inverse Hessian)."""
    alphas = []
    for a, n1, c, n2 in tables:
        p = (c + mp.mpf("0.5")) / (n2 + 1)
        alphas.append(mp.log(p / (1 - p)))
    f = lambda b, t: fixed_study_profile(tables, b, t, alphas)
    return newton_2d(f, beta, tau, mp.mpf("1e-10"), mp.mpf("1e-18"))


def newton_2d(f, beta, tau, e, tolerance):
    """The maximum of f(beta, tau) by Newton's method with central differences
    of step e, until a step is below tolerance: (beta, tau), f there, the
    Hessian (f_bb, f_bt, f_tt) and the gradient of the last iteration."""
    for _ in range(50):
        f0 = f(beta, tau)
        fbp, fbm, ftp, ftm = f(beta + e, tau), f(beta - e, tau), f(beta, tau + e), f(beta, tau - e)
        fbt = (f(beta + e, tau + e) - f(beta + e, tau - e) - f(beta - e, tau + e)
               + f(beta - e, tau - e)) / (4 * e ** 2)
        gb, gt = (fbp - fbm) / (2 * e), (ftp - ftm) / (2 * e)
        hbb, htt = (fbp - 2 * f0 + fbm) / e ** 2, (ftp - 2 * f0 + ftm) / e ** 2
        det = hbb * htt - fbt ** 2
        db, dt = -(htt * gb - fbt * gt) / det, -(hbb * gt - fbt * gb) / det
        beta, tau = beta + db, tau + dt
        print("  step", mp.nstr(db, 3), mp.nstr(dt, 3), "gradient", mp.nstr(gb, 3), mp.nstr(gt, 3), flush=True)
        if max(abs(db), abs(dt)) < tolerance:
            return beta, tau, f(beta, tau), (hbb, fbt, htt), (gb, gt)
    raise RuntimeError("(beta, tau) did not converge")


def fixed_study_case(root, case, z975):
    """Replaces the lme4 fit of a UM.FS case by the 50-digit maximum of the same
    7-point quadrature: lme4's inner iterations stop at a tolerance, which moves
    its polished maximum by a few 1e-6 on bcg's large tables."""
    random = case["random"]
    tables = tables_of(root, case)
    beta, tau = mp.mpf(random["beta"]), mp.sqrt(mp.mpf(random["tau2"]))
    beta, tau, value, (hbb, hbt, htt), gradient = fixed_study_maximum(tables, beta, tau)
    se = mp.sqrt(-htt / (hbb * htt - hbt ** 2))
    zval = beta / se
    typical = random["tau2"] / (random["h2"] - 1)
    tau2 = tau ** 2
    consts = mp.fsum(constant("binomial", a, n1) + constant("binomial", c, n2) for a, n1, c, n2 in tables)
    random.update(
        lme4_polished=random.get("lme4_polished") or {k: random[k] for k in ("beta", "se", "tau2", "loglik")},
        beta=float(beta), tau2=float(tau2),
        se=float(se), zval=float(zval), pval=float(2 * mp.ncdf(-abs(zval))),
        ci_lb=float(beta - z975 * se), ci_ub=float(beta + z975 * se),
        i2=float(100 * tau2 / (typical + tau2)), h2=float(tau2 / typical + 1),
        loglik=float(value + consts),
        se_source="mpmath maximum of the 7-point adaptive quadrature at 50 digits over "
                  "(alpha_i, beta, tau); se from the profile's Hessian",
        gradient=[float(g) for g in gradient],
    )
    print(case["dataset"], "UM.FS beta", mp.nstr(beta, 15), "tau2", mp.nstr(tau2, 15),
          "se", mp.nstr(se, 15), "lme4", random["lme4_polished"])


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    path = os.path.join(root, "tests/reference/glmm/glmm.json")
    with open(path) as f:
        reference = json.load(f)
    z975 = mp.sqrt(2) * mp.erfinv(mp.mpf("0.95"))
    for case in reference["cases"]:
        random = case["random"]
        if random["tau2"] < 1e-8:
            continue  # on the boundary: the common-effect information, as generate.R has it
        if case["measure"] == "OR" and case["model"] == "UM.FS":
            fixed_study_case(root, case, z975)
            continue
        if case["measure"] == "OR" and case["model"] != "CM.AL":
            continue
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


if __name__ == "__main__":
    main()
