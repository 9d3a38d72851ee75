# Reference values for the generalised linear mixed models (issue 24): metafor's
# rma.glmm() with lme4 and BiasedUrn from Debian, its default settings, and each
# random-effects fit again with tighter optimiser settings; both are recorded.
# Neither is yet the reference to 1e-6: the optimisers stop early by a few 1e-6
# in beta and 1e-5 in tau^2 (the likelihood is flat there), and metafor's
# log-likelihood for lme4 fits is ll(saturated) - deviance(fit)/2, where lme4's
# deviance() of a GLMM is not the objective it maximised, so it cannot pick the
# better of two fits. The references to test against will be the maxima of the
# same objectives polished to convergence (for glmer fits, the function from
# glmer(..., devFunOnly = TRUE) at nAGQ = 7, maximised from metafor's estimate).
#
# Usage: Rscript tests/reference/glmm/generate.R ROOT
# Needs: r-cran-metafor r-cran-metadat r-cran-lme4 r-cran-biasedurn r-cran-jsonlite
# (apt-get install --no-install-recommends). Writes tests/reference/glmm/glmm.json
# and the datasets it fits into tests/reference/glmm/data/.

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
root <- if (length(args) >= 1) args[1] else "."
out <- file.path(root, "tests/reference/glmm")
dir.create(file.path(out, "data"), recursive = TRUE, showWarnings = FALSE)

# lme4's optimiser run to tight tolerances (bobyqa, then Nelder-Mead for nAGQ > 1).
tight_glmer <- list(optimizer = c("bobyqa", "bobyqa"),
                    optCtrl = list(rhobeg = 0.2, rhoend = 1e-10, maxfun = 1e5))
tight_optim <- list(reltol = 1e-14, maxit = 1e5)

summarise <- function(res) {
  num <- function(x) if (is.null(x) || length(x) == 0) NA else unname(as.numeric(x))
  list(
    beta = num(res$beta), se = num(res$se), zval = num(res$zval), pval = num(res$pval),
    ci_lb = num(res$ci.lb), ci_ub = num(res$ci.ub),
    tau2 = num(res$tau2),
    qe_wald = num(res$QE.Wld), qe_wald_p = num(res$QEp.Wld),
    qe_lrt = num(res$QE.LRT), qe_lrt_p = num(res$QEp.LRT),
    i2 = num(res$I2), h2 = num(res$H2),
    loglik = num(res$fit.stats["ll", "ML"]),
    k = res$k, k_eff = num(res$k.eff)
  )
}

fit_both <- function(fit) {
  case <- list()
  case$common <- summarise(fit(method = "EE", control = list()))
  default <- fit(method = "ML", control = list())
  tight <- tryCatch(
    fit(method = "ML", control = list(glmerCtrl = tight_glmer, optCtrl = tight_optim)),
    error = function(e) NULL)
  case$random_default <- summarise(default)
  if (!is.null(tight)) case$random_tight <- summarise(tight)
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
    fit <- function(method, control) {
      suppressWarnings(rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i,
                                data = d, model = model, method = method, control = control))
    }
    cases[[length(cases) + 1]] <- c(list(dataset = name, measure = "OR", model = model,
                                         csv = file.path("tests/reference/glmm/data", paste0(name, ".csv"))),
                                    fit_both(fit))
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
  fit <- function(method, control) {
    suppressWarnings(rma.glmm(measure = "PLO", xi = xi, ni = ni, data = d,
                              method = method, control = control))
  }
  cases[[length(cases) + 1]] <- c(list(dataset = name, measure = "PLO", model = "UM.RS",
                                       csv = file.path("tests/reference/glmm/data", paste0(name, ".csv"))),
                                  fit_both(fit))
}

# Incidence rates: nielweise2008's first arms (log rate, Poisson-normal) and both
# arms (rate ratio, conditional binomial model).
d <- with(dat.nielweise2008, data.frame(study = paste(authors, year), x1i, t1i, x2i, t2i))
write.csv(data.frame(study = d$study, events1 = d$x1i, time1 = d$t1i, events2 = d$x2i, time2 = d$t2i),
          file.path(out, "data", "nielweise2008.csv"), row.names = FALSE)
fit <- function(method, control) {
  suppressWarnings(rma.glmm(measure = "IRLN", xi = x1i, ti = t1i, data = d,
                            method = method, control = control))
}
cases[[length(cases) + 1]] <- c(list(dataset = "nielweise2008", measure = "IRLN", model = "UM.RS",
                                     csv = "tests/reference/glmm/data/nielweise2008.csv"), fit_both(fit))
fit <- function(method, control) {
  suppressWarnings(rma.glmm(measure = "IRR", x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i, data = d,
                            model = "CM.EL", method = method, control = control))
}
cases[[length(cases) + 1]] <- c(list(dataset = "nielweise2008", measure = "IRR", model = "CM.EL",
                                     csv = "tests/reference/glmm/data/nielweise2008.csv"), fit_both(fit))

writeLines(toJSON(list(
  metafor = as.character(packageVersion("metafor")),
  lme4 = as.character(packageVersion("lme4")),
  BiasedUrn = as.character(packageVersion("BiasedUrn")),
  cases = cases
), auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"), file.path(out, "glmm.json"))
