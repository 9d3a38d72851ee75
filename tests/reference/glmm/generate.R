# Reference values for the generalised linear mixed models (issue 24): metafor's
# rma.glmm() with lme4 and BiasedUrn from Debian.
#
# Each case records three fits:
# - common: metafor's common-effect fit, with its glm() runs converged tightly
#   (glmCtrl epsilon 1e-14). Studies with 0 or n events drift towards an infinite
#   coefficient in the saturated model; tight convergence gives the limit of the
#   Wald statistic (their weight tends to 0), within 2e-8 of metafor's default.
# - random_metafor: metafor's random-effects fit with its default settings, for the
#   record. Its optimisers stop early by a few 1e-6 in beta and 1e-5 in tau^2.
# - random: the tested reference. For lme4 fits, the maximum of lme4's own
#   objective (glmer(..., devFunOnly = TRUE), nAGQ as metafor uses it) polished from
#   metafor's estimate with optim (BFGS, Nelder-Mead, BFGS) to reltol 1e-16; standard
#   errors from numDeriv's Richardson Hessian of that objective at the maximum
#   (noisy at 1e-5: lme4's inner iterations stop at a tolerance; hessian.py, run
#   next, replaces them for the random-intercept models by a 50-digit evaluation); loglik is the maximised objective as a
#   log-likelihood (nAGQ > 1: ll(saturated) - deviance/2; Laplace: -deviance/2).
#   metafor's own loglik for lme4 fits is ll(saturated) - deviance(fit)/2 with
#   lme4's deviance(), not the maximised objective, and is not recorded as tested.
#
# Usage: Rscript tests/reference/glmm/generate.R ROOT
# Needs: r-cran-metafor r-cran-metadat r-cran-lme4 r-cran-biasedurn r-cran-jsonlite
# r-cran-numderiv (apt-get install --no-install-recommends). Writes
# tests/reference/glmm/glmm.json and the datasets it fits into tests/reference/glmm/data/.

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
root <- if (length(args) >= 1) args[1] else "."
out <- file.path(root, "tests/reference/glmm")
dir.create(file.path(out, "data"), recursive = TRUE, showWarnings = FALSE)

tight_glm <- list(epsilon = 1e-14, maxit = 1000)

summarise <- function(res) {
  num <- function(x) if (is.null(x) || length(x) == 0) NA else unname(as.numeric(x))
  list(
    beta = num(res$beta), se = num(res$se), zval = num(res$zval), pval = num(res$pval),
    ci_lb = num(res$ci.lb), ci_ub = num(res$ci.ub),
    tau2 = num(res$tau2), sigma2 = num(res$sigma2),
    qe_wald = num(res$QE.Wld), qe_wald_p = num(res$QEp.Wld),
    qe_lrt = num(res$QE.LRT), qe_lrt_p = num(res$QEp.LRT),
    i2 = num(res$I2), h2 = num(res$H2),
    loglik = num(res$fit.stats["ll", "ML"]),
    k = res$k, k_eff = num(res$k.eff)
  )
}

# The typical within-study variance metafor's I^2 and H^2 use (its i2def "1"):
# (k - p) / tr(P) over the inverse-variance weights of the escalc() effects.
typical_variance <- function(res) {
  X <- as.matrix(res$X); w <- 1 / res$vi
  P <- diag(w) - (w * X) %*% solve(crossprod(X, w * X)) %*% t(w * X)
  (length(w) - ncol(X)) / sum(diag(P))
}

# The glmer() formula metafor fits for each model, with nAGQ as metafor uses it.
glmer_spec <- function(model, measure) {
  if (measure == "OR" && model == "UM.FS")
    return(list(formula = dat.grp ~ -1 + X.fit + study + (group - 1 | study), nagq = 7))
  if (measure == "OR" && model == "UM.RS")
    return(list(formula = dat.grp ~ -1 + X.fit + const + (group || study), nagq = 1))
  list(formula = dat.grp ~ -1 + X.fit + (1 | study), nagq = 7)
}

# The maximum of lme4's objective, polished from metafor's fit (see the header).
polish <- function(fit, model, measure, metafor_fit) {
  parts <- fit(method = "ML", control = list(), retdat = TRUE)
  if (is.null(parts$dat.fam)) parts$dat.fam <- binomial
  spec <- glmer_spec(model, measure)
  form <- spec$formula
  environment(form) <- list2env(parts)
  glmer_call <- function(devFunOnly) {
    suppressMessages(suppressWarnings(lme4::glmer(form, offset = parts$dat.off, family = parts$dat.fam,
                                                  nAGQ = spec$nagq, devFunOnly = devFunOnly)))
  }
  start_fit <- glmer_call(FALSE)
  deviance_at <- glmer_call(TRUE)
  theta <- lme4::getME(start_fit, "theta")
  par <- c(theta, lme4::fixef(start_fit))
  for (method in c("BFGS", "Nelder-Mead", "BFGS")) {
    par <- optim(par, deviance_at, method = method, control = list(reltol = 1e-16, maxit = 1e5))$par
  }
  nt <- length(theta)
  beta_index <- nt + seq_len(length(metafor_fit$beta))
  H <- numDeriv::hessian(deviance_at, par)
  boundary <- abs(par[seq_len(nt)]) < 1e-4
  keep <- c(which(!boundary), nt + seq_len(length(par) - nt))
  V <- matrix(NA, length(par), length(par))
  V[keep, keep] <- 2 * solve(H[keep, keep])
  beta <- par[beta_index]
  se <- sqrt(diag(V)[beta_index])
  zval <- beta / se
  crit <- qnorm(0.975)
  tau2 <- par[nt]^2
  vt <- typical_variance(metafor_fit)
  deviance <- deviance_at(par)
  list(
    beta = beta, se = se, zval = zval, pval = 2 * pnorm(-abs(zval)),
    ci_lb = beta - crit * se, ci_ub = beta + crit * se,
    tau2 = tau2, sigma2 = if (nt > 1) par[1]^2 else NA,
    qe_wald = metafor_fit$QE.Wld, qe_wald_p = metafor_fit$QEp.Wld,
    qe_lrt = metafor_fit$QE.LRT, qe_lrt_p = metafor_fit$QEp.LRT,
    i2 = 100 * tau2 / (vt + tau2), h2 = tau2 / vt + 1,
    loglik = if (spec$nagq > 1) metafor_fit$fit.stats["ll", "ML"] + deviance(start_fit) / 2 - deviance / 2
             else -deviance / 2,
    deviance = deviance, nagq = spec$nagq,
    k = metafor_fit$k, k_eff = metafor_fit$k.eff
  )
}

fit_all <- function(fit, model, measure) {
  case <- list()
  case$common <- summarise(fit(method = "EE", control = list(glmCtrl = tight_glm)))
  default <- fit(method = "ML", control = list())
  tight_glm_fit <- fit(method = "ML", control = list(glmCtrl = tight_glm))
  case$random_metafor <- summarise(default)
  if (model == "CM.EL" && measure == "OR") {
    # metafor's own integrated likelihood, maximised by nlminb: refit tightly.
    tight <- tryCatch(fit(method = "ML", control = list(
      glmCtrl = tight_glm, intCtrl = list(rel.tol = 1e-12, subdivisions = 1000L),
      optCtrl = list(rel.tol = 1e-15, x.tol = 1e-12, iter.max = 1e4, eval.max = 1e4))),
      error = function(e) NULL)
    case$random <- summarise(if (is.null(tight)) tight_glm_fit else tight)
    case$random$polished <- !is.null(tight)
  } else {
    case$random <- polish(fit, model, measure, tight_glm_fit)
  }
  case
}

cases <- list()

# Odds ratios from 2x2 tables: bcg (no zero cells), nielweise2007 (zero cells,
# one double-zero table) and hahn2001 (three double-zero tables).
tables <- list(
  bcg = with(dat.bcg, data.frame(study = paste(author, year), ai = tpos, n1i = tpos + tneg,
                                 ci = cpos, n2i = cpos + cneg)),
  nielweise2007 = with(dat.nielweise2007, data.frame(study = paste(author, year), ai = ai,
                                                     n1i = n1i, ci = ci, n2i = n2i)),
  hahn2001 = with(dat.hahn2001, data.frame(study = study, ai = ai, n1i = n1i, ci = ci, n2i = n2i))
)
for (name in names(tables)) {
  d <- tables[[name]]
  write.csv(data.frame(study = d$study, events1 = d$ai, n1 = d$n1i, events2 = d$ci, n2 = d$n2i),
            file.path(out, "data", paste0(name, ".csv")), row.names = FALSE)
  for (model in c("UM.FS", "UM.RS", "CM.EL", "CM.AL")) {
    fit <- function(method, control, ...) {
      suppressWarnings(rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i,
                                data = d, model = model, method = method, control = control, ...))
    }
    cases[[length(cases) + 1]] <- c(list(dataset = name, measure = "OR", model = model,
                                         csv = file.path("tests/reference/glmm/data", paste0(name, ".csv"))),
                                    fit_all(fit, model, "OR"))
  }
}

# Single proportions (logit): pritz1997 (two studies with n/n events) and the
# single arms of pagliaro1992 (two with 0 events).
props <- list(
  pritz1997 = with(dat.pritz1997, data.frame(study = paste(study, authors), xi = xi, ni = ni)),
  pagliaro1992 = with(dat.pagliaro1992, data.frame(study = paste(study, trt), xi = xi, ni = ni))
)
for (name in names(props)) {
  d <- props[[name]]
  write.csv(data.frame(study = d$study, events = d$xi, n = d$ni),
            file.path(out, "data", paste0(name, ".csv")), row.names = FALSE)
  fit <- function(method, control, ...) {
    suppressWarnings(rma.glmm(measure = "PLO", xi = xi, ni = ni, data = d,
                              method = method, control = control, ...))
  }
  cases[[length(cases) + 1]] <- c(list(dataset = name, measure = "PLO", model = "UM.RS",
                                       csv = file.path("tests/reference/glmm/data", paste0(name, ".csv"))),
                                  fit_all(fit, "UM.RS", "PLO"))
}

# Incidence rates: nielweise2008's first arms (log rate, Poisson-normal) and both
# arms (rate ratio, conditional binomial model).
d <- with(dat.nielweise2008, data.frame(study = paste(authors, year), x1i, t1i, x2i, t2i))
write.csv(data.frame(study = d$study, events1 = d$x1i, time1 = d$t1i, events2 = d$x2i, time2 = d$t2i),
          file.path(out, "data", "nielweise2008.csv"), row.names = FALSE)
fit <- function(method, control, ...) {
  suppressWarnings(rma.glmm(measure = "IRLN", xi = x1i, ti = t1i, data = d,
                            method = method, control = control, ...))
}
cases[[length(cases) + 1]] <- c(list(dataset = "nielweise2008", measure = "IRLN", model = "UM.RS",
                                     csv = "tests/reference/glmm/data/nielweise2008.csv"), fit_all(fit, "UM.RS", "IRLN"))
fit <- function(method, control, ...) {
  suppressWarnings(rma.glmm(measure = "IRR", x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i, data = d,
                            model = "CM.EL", method = method, control = control, ...))
}
cases[[length(cases) + 1]] <- c(list(dataset = "nielweise2008", measure = "IRR", model = "CM.EL",
                                     csv = "tests/reference/glmm/data/nielweise2008.csv"), fit_all(fit, "CM.EL", "IRR"))

writeLines(toJSON(list(
  metafor = as.character(packageVersion("metafor")),
  lme4 = as.character(packageVersion("lme4")),
  BiasedUrn = as.character(packageVersion("BiasedUrn")),
  cases = cases
), auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"), file.path(out, "glmm.json"))
