# Generates the golden reference values that cochran's test suite compares against.
#
# Run through tests/reference/generate.sh, which installs R, metafor and metadat
# from Debian. Writes:
#   datasets/*.csv                 real datasets shipped with cochran (cochran's column names)
#   tests/reference/data/*.csv     further datasets used only by the tests
#   tests/reference/*.json         metafor's results for every case
#
# Every number comes from metafor: escalc() for effect sizes, rma() for the fits
# (with a convergence threshold far tighter than the default), predict() for the
# prediction interval and confint() for the Q-profile interval of tau^2.

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
root <- if (length(args) >= 1) args[1] else "."
dir.create(file.path(root, "datasets"), showWarnings = FALSE)
dir.create(file.path(root, "tests/reference/data"), recursive = TRUE, showWarnings = FALSE)

rma_control <- list(threshold = 1e-12, maxiter = 1000, tol = 1e-12, tau2.max = 1e8)
# On the boundary, Fisher scoring with step halving approaches tau^2 = 0
# geometrically and stops about one threshold above it; cochran reports the
# boundary itself. A far tighter threshold takes metafor there too. (It is not
# used everywhere: interior estimates can alternate between neighbouring doubles
# and never meet it.)
boundary_control <- modifyList(rma_control, list(threshold = 1e-30, maxiter = 10000))

# rma() with the reference settings, refitted with the boundary settings when
# tau^2 ends within a hair of 0.
tight_rma <- function(es, ...) {
  res <- rma(yi, vi, data = es, ..., control = rma_control)
  if (!is.null(res$tau2) && res$tau2 > 0 && res$tau2 < 1e-8) {
    # R^2 refits the intercept-only model with the same control, which need not
    # meet the boundary threshold: keep the one of the reference settings.
    r2 <- res$R2
    res <- rma(yi, vi, data = es, ..., control = boundary_control)
    res$R2 <- r2
  }
  res
}
confint_control <- list(tol = 1e-12, maxiter = 1000, tau2.max = 1e8)
methods <- c("FE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM")
tests <- c("z", "knha", "adhoc")

# ---- datasets in cochran's column format -------------------------------------------

write_dataset <- function(df, path) {
  write.csv(df, file.path(root, path), row.names = FALSE, na = "")
  # Read back what was written, so metafor and cochran see the same numbers.
  read.csv(file.path(root, path), stringsAsFactors = FALSE)
}

binary_from_2x2 <- function(study, a, b, c, d, extra = NULL) {
  df <- data.frame(study = study, events1 = a, n1 = a + b, events2 = c, n2 = c + d)
  if (!is.null(extra)) df <- cbind(df, extra)
  df
}

bcg <- with(dat.bcg, binary_from_2x2(paste(author, year), tpos, tneg, cpos, cneg,
  data.frame(year = year, ablat = ablat, alloc = alloc)))
nielweise <- with(dat.nielweise2007, data.frame(study = paste(author, year),
  events1 = ai, n1 = n1i, events2 = ci, n2 = n2i))
lau <- with(dat.lau1992, data.frame(study = paste(trial, year),
  events1 = ai, n1 = n1i, events2 = ci, n2 = n2i))
normand <- with(dat.normand1999, data.frame(study = source,
  n1 = n1i, mean1 = m1i, sd1 = sd1i, n2 = n2i, mean2 = m2i, sd2 = sd2i))
curtis <- with(dat.curtis1998, data.frame(study = paste(paper, id, sep = "-"),
  n1 = n1i, mean1 = m1i, sd1 = sd1i, n2 = n2i, mean2 = m2i, sd2 = sd2i, fungrp = fungrp))
# Morris (2008), Table 2: five training studies, treatment (T) and control (C) arms.
morris <- data.frame(
  study = rep(paste("Study", 1:5), 2),
  subgroup = rep(c("T", "C"), each = 5),
  n = c(20, 50, 9, 10, 14, 20, 42, 9, 11, 14),
  mean_pre = c(30.6, 23.5, 0.5, 53.4, 35.6, 23.1, 24.9, 0.6, 55.7, 34.8),
  sd_pre = c(15.0, 3.1, 0.1, 14.5, 4.7, 13.8, 4.1, 0.2, 17.3, 3.1),
  mean_post = c(38.5, 26.8, 0.7, 75.9, 36.0, 19.7, 25.3, 0.6, 60.7, 33.4),
  sd_post = c(11.6, 4.1, 0.1, 4.4, 4.6, 14.8, 3.3, 0.2, 17.9, 6.9),
  r = rep(c(.47, .64, .77, .89, .44), 2))
# The same five studies in the controlled layout: treatment arm (suffix 1) and control arm (suffix 2).
arm_columns <- c("n", "mean_pre", "sd_pre", "mean_post", "sd_post", "r")
morris_controlled <- cbind(study = paste("Study", 1:5),
  setNames(morris[morris$subgroup == "T", arm_columns], paste0(arm_columns, "1")),
  setNames(morris[morris$subgroup == "C", arm_columns], paste0(arm_columns, "2")))
bangert <- with(dat.bangertdrowns2004, data.frame(study = paste(author, year),
  yi = yi, vi = vi, grade = grade, length = length, meta = meta))
raudenbush <- with(dat.raudenbush1985, data.frame(study = paste(author, year),
  yi = yi, vi = vi, weeks = weeks, setting = setting, tester = tester))
hackshaw <- with(dat.hackshaw1998, data.frame(study = paste(author, year), yi = yi, vi = vi))
hackshaw_se <- with(dat.hackshaw1998, data.frame(study = paste(author, year), yi = yi, sei = sqrt(vi)))
alike <- data.frame(study = paste("Study", 1:5), yi = rep(0.25, 5),
  vi = c(0.01, 0.02, 0.04, 0.05, 0.09))

datasets <- list(
  bcg = list(df = bcg, path = "datasets/bcg.csv", design = "binary"),
  normand1999 = list(df = normand, path = "datasets/normand1999.csv", design = "continuous"),
  morris2008 = list(df = morris, path = "datasets/morris2008.csv", design = "prepost"),
  morris2008_controlled = list(df = morris_controlled, path = "datasets/morris2008_controlled.csv",
    design = "controlled"),
  bangertdrowns2004 = list(df = bangert, path = "datasets/bangertdrowns2004.csv", design = "generic"),
  nielweise2007 = list(df = nielweise, path = "tests/reference/data/nielweise2007.csv", design = "binary"),
  lau1992 = list(df = lau, path = "tests/reference/data/lau1992.csv", design = "binary"),
  curtis1998 = list(df = curtis, path = "tests/reference/data/curtis1998.csv", design = "continuous"),
  hackshaw1998 = list(df = hackshaw, path = "tests/reference/data/hackshaw1998.csv", design = "generic"),
  hackshaw1998_sei = list(df = hackshaw_se, path = "tests/reference/data/hackshaw1998_sei.csv", design = "generic"),
  bcg_k2 = list(df = bcg[1:2, ], path = "tests/reference/data/bcg_k2.csv", design = "binary"),
  normand1999_k2 = list(df = normand[1:2, ], path = "tests/reference/data/normand1999_k2.csv", design = "continuous"),
  alike = list(df = alike, path = "tests/reference/data/alike.csv", design = "generic"),
  raudenbush1985 = list(df = raudenbush, path = "tests/reference/data/raudenbush1985.csv",
    design = "generic"))

measures <- list(
  binary = c("OR", "RR", "RD"),
  continuous = c("MD", "SMD", "ROM"),
  prepost = c("MC", "SMCC", "SMCR"),
  controlled = c("SMCRD", "MCD"),
  generic = c("GEN"))

# ---- metafor calls -------------------------------------------------------------------

# Controlled before/after: the per-arm measure from escalc, treatment minus
# control, with the variances of the independent arms added (Morris 2008).
arm_difference <- function(df, measure) {
  arm <- function(s) {
    col <- function(base) df[[paste0(base, s)]]
    if (measure == "SMCR") escalc("SMCR", m1i = col("mean_post"), m2i = col("mean_pre"),
      sd1i = col("sd_pre"), ni = col("n"), ri = col("r"))
    else escalc("MC", m1i = col("mean_post"), m2i = col("mean_pre"), sd1i = col("sd_post"),
      sd2i = col("sd_pre"), ni = col("n"), ri = col("r"))
  }
  t <- arm("1"); c <- arm("2")
  escalc("GEN", yi = t$yi - c$yi, vi = t$vi + c$vi)
}

effect_sizes <- function(df, measure) {
  switch(measure,
    SMCRD = arm_difference(df, "SMCR"),
    MCD = arm_difference(df, "MC"),
    OR = , RR = , RD = escalc(measure, ai = events1, n1i = n1, ci = events2, n2i = n2, data = df),
    MD = , SMD = , ROM = escalc(measure, m1i = mean1, sd1i = sd1, n1i = n1,
      m2i = mean2, sd2i = sd2, n2i = n2, data = df),
    MC = , SMCC = escalc(measure, m1i = mean_post, m2i = mean_pre, sd1i = sd_post,
      sd2i = sd_pre, ni = n, ri = r, data = df),
    SMCR = escalc(measure, m1i = mean_post, m2i = mean_pre, sd1i = sd_pre, ni = n,
      ri = r, data = df),
    GEN = if ("sei" %in% names(df)) escalc("GEN", yi = yi, sei = sei, data = df)
          else escalc("GEN", yi = yi, vi = vi, data = df))
}

finite_or_na <- function(x) { x <- as.numeric(x); x[!is.finite(x)] <- NA; x }

fit_case <- function(es, method, test, level = 95) {
  res <- tight_rma(es, method = method, test = test, level = level)
  pred <- predict(res)
  out <- list(
    method = method, test = test, level = level, k = res$k,
    estimate = res$beta[1], se = res$se, statistic = res$zval, p_value = res$pval,
    ci_lower = res$ci.lb, ci_upper = res$ci.ub,
    # predict() has no prediction interval for a common-effect model.
    pi_lower = if (is.null(pred$pi.lb)) NA else pred$pi.lb,
    pi_upper = if (is.null(pred$pi.ub)) NA else pred$pi.ub,
    tau2 = res$tau2, se_tau2 = res$se.tau2,
    q = res$QE, q_df = res$k - 1, q_p_value = res$QEp, i2 = res$I2, h2 = res$H2,
    weights = unname(weights(res)))
  if (method != "FE") {
    ci <- confint(res, control = confint_control)$random
    out$tau2_ci_lower <- ci["tau^2", "ci.lb"]; out$tau2_ci_upper <- ci["tau^2", "ci.ub"]
    out$i2_ci_lower <- ci["I^2(%)", "ci.lb"]; out$i2_ci_upper <- ci["I^2(%)", "ci.ub"]
    out$h2_ci_lower <- ci["H^2", "ci.lb"]; out$h2_ci_upper <- ci["H^2", "ci.ub"]
  }
  lapply(out, function(v) if (is.numeric(v)) finite_or_na(v) else v)
}

subgroup_case <- function(es, by, method, test) {
  groups <- unique(es[[by]])
  fits <- lapply(groups, function(g) {
    sub <- es[es[[by]] == g, ]
    res <- tight_rma(sub, method = method, test = test)
    list(name = as.character(g), k = res$k, estimate = res$beta[1], se = res$se,
      ci_lower = res$ci.lb, ci_upper = res$ci.ub, tau2 = res$tau2,
      q = if (res$k > 1) res$QE else NA)
  })
  between <- rma(yi = sapply(fits, `[[`, "estimate"), sei = sapply(fits, `[[`, "se"),
    method = "FE", control = rma_control)
  list(by = by, method = method, test = test,
    groups = lapply(fits, function(f) lapply(f, function(v) if (is.numeric(v)) finite_or_na(v) else v)),
    q_between = between$QE, df_between = length(groups) - 1, p_between = between$QEp)
}

subgroup_specs <- list(
  bcg = list(list(measure = "RR", by = "alloc")),
  morris2008 = list(list(measure = "SMCR", by = "subgroup"), list(measure = "MC", by = "subgroup")),
  curtis1998 = list(list(measure = "ROM", by = "fungrp")),
  bangertdrowns2004 = list(list(measure = "GEN", by = "grade")))

# ---- write the golden files -----------------------------------------------------------

for (name in names(datasets)) {
  spec <- datasets[[name]]
  df <- write_dataset(spec$df, spec$path)
  golden <- list(dataset = name, csv = spec$path,
    metafor_version = as.character(packageVersion("metafor")),
    effects = list(), fits = list(), subgroups = list())
  for (measure in measures[[spec$design]]) {
    es <- effect_sizes(df, measure)
    s <- summary(es)
    golden$effects[[measure]] <- list(yi = finite_or_na(es$yi), vi = finite_or_na(es$vi),
      ci_lower = finite_or_na(s$ci.lb), ci_upper = finite_or_na(s$ci.ub))
    for (method in methods) for (test in tests) {
      golden$fits[[length(golden$fits) + 1]] <- c(list(measure = measure), fit_case(es, method, test))
    }
  }
  golden$fits[[length(golden$fits) + 1]] <- c(list(measure = measures[[spec$design]][1]),
    fit_case(effect_sizes(df, measures[[spec$design]][1]), "REML", "knha", level = 90))
  for (sg in subgroup_specs[[name]]) {
    es <- effect_sizes(df, sg$measure)
    for (method in c("FE", "DL", "REML")) for (test in tests) {
      golden$subgroups[[length(golden$subgroups) + 1]] <-
        c(list(measure = sg$measure), subgroup_case(es, sg$by, method, test))
    }
  }
  writeLines(toJSON(golden, auto_unbox = TRUE, digits = NA, na = "null", pretty = FALSE),
    file.path(root, "tests/reference", paste0(name, ".json")))
  cat("wrote", name, "\n")
}

# ---- meta-regression ------------------------------------------------------------------

Sys.setlocale("LC_COLLATE", "C")  # factor levels in byte order, as cochran sorts them
regression_specs <- list(
  # `predict`: the values cochran is given, and the same point as metafor's newmods row.
  bcg = list(measure = "RR", models = list(
    list(mods = "ablat", predict = list(
      list(values = list(ablat = "10"), newmods = 10),
      list(values = list(ablat = "40"), newmods = 40))),
    list(mods = "alloc", predict = list(
      list(values = list(alloc = "random"), newmods = c(1, 0)),
      list(values = list(alloc = "alternate"), newmods = c(0, 0)))),
    list(mods = c("ablat", "year"), predict = list(
      list(values = list(ablat = "33", year = "1960"), newmods = c(33, 1960)))),
    list(mods = "alloc", intercept = FALSE))),
  bangertdrowns2004 = list(measure = "GEN", models = list(list(mods = c("length", "grade")),
    list(mods = c("length", "meta")))),
  raudenbush1985 = list(measure = "GEN", models = list(list(mods = "weeks"),
    list(mods = c("weeks", "setting")))),
  curtis1998 = list(measure = "ROM", models = list(list(mods = "fungrp"))))

regression_case <- function(es, model, method, test) {
  rhs <- paste(model$mods, collapse = " + ")
  if (isFALSE(model$intercept)) rhs <- paste(rhs, "- 1")
  res <- tight_rma(es, mods = as.formula(paste("~", rhs)), method = method, test = test)
  out <- list(mods = model$mods, intercept = !isFALSE(model$intercept), method = method,
    test = test, k = res$k, names = rownames(res$beta),
    estimate = c(res$beta), se = res$se, statistic = res$zval, p_value = res$pval,
    ci_lower = res$ci.lb, ci_upper = res$ci.ub,
    qm = res$QM, qm_df = res$QMdf[1], qm_df_residual = res$QMdf[2], qm_p_value = res$QMp,
    q = res$QE, q_df = res$k - res$p, q_p_value = res$QEp,
    tau2 = res$tau2, se_tau2 = res$se.tau2, i2 = res$I2, h2 = res$H2,
    r2 = if (is.null(res$R2)) NA else res$R2)
  out$predictions <- lapply(model$predict, function(point) {
    p <- predict(res, newmods = rbind(point$newmods))
    list(values = point$values, estimate = p$pred, se = p$se, ci_lower = p$ci.lb,
      ci_upper = p$ci.ub, pi_lower = if (is.null(p$pi.lb)) p$ci.lb else p$pi.lb,
      pi_upper = if (is.null(p$pi.ub)) p$ci.ub else p$pi.ub)
  })
  if (method != "FE") {
    ci <- confint(res, control = confint_control)$random
    out$tau2_ci_lower <- ci["tau^2", "ci.lb"]; out$tau2_ci_upper <- ci["tau^2", "ci.ub"]
  }
  lapply(out, function(v) if (is.numeric(v)) finite_or_na(v) else v)
}

dir.create(file.path(root, "tests/reference/regression"), showWarnings = FALSE)
for (name in names(regression_specs)) {
  spec <- regression_specs[[name]]
  df <- read.csv(file.path(root, datasets[[name]]$path), stringsAsFactors = FALSE)
  es <- effect_sizes(df, spec$measure)
  golden <- list(dataset = name, csv = datasets[[name]]$path, measure = spec$measure,
    metafor_version = as.character(packageVersion("metafor")), fits = list())
  for (model in spec$models) for (method in methods) for (test in tests) {
    golden$fits[[length(golden$fits) + 1]] <- regression_case(es, model, method, test)
  }
  writeLines(toJSON(golden, auto_unbox = TRUE, digits = NA, na = "null", pretty = FALSE),
    file.path(root, "tests/reference/regression", paste0(name, ".json")))
  cat("wrote regression", name, "\n")
}

# ---- permutation tests ---------------------------------------------------------------

bcg_es <- effect_sizes(read.csv(file.path(root, datasets$bcg$path), stringsAsFactors = FALSE), "RR")
permutation_case <- function(es, mods, method, test, iter, exact, seed = NULL) {
  res <- tight_rma(es, mods = as.formula(paste("~", paste(mods, collapse = " + "))),
    method = method, test = test)
  if (!is.null(seed)) set.seed(seed)
  p <- permutest(res, exact = exact, iter = iter, progbar = FALSE, retpermdist = TRUE)
  list(mods = mods, method = method, test = test, k = res$k, exact = exact, iter = iter,
    # Refits that failed are left out of metafor's p-values; cochran's must all succeed.
    fitted = sum(!is.na(p$QM.perm)), permutations = length(p$QM.perm),
    p_values = c(p$pval), qm_p_value = p$QMp)
}
permutation_cases <- list()
for (method in c("FE", "DL", "REML")) for (test in tests) {
  permutation_cases[[length(permutation_cases) + 1]] <- c(list(rows = 1:6),
    permutation_case(bcg_es[1:6, ], "ablat", method, test, iter = 1000, exact = TRUE))
  permutation_cases[[length(permutation_cases) + 1]] <- c(list(rows = 1:8),
    permutation_case(bcg_es[1:8, ], "alloc", method, test, iter = 1e6, exact = TRUE))
}
permutation_cases[[length(permutation_cases) + 1]] <- c(list(rows = 1:13),
  permutation_case(bcg_es, "ablat", "REML", "z", iter = 10000, exact = FALSE, seed = 1))
writeLines(toJSON(list(csv = datasets$bcg$path, measure = "RR", cases = permutation_cases),
  auto_unbox = TRUE, digits = NA, na = "null", pretty = FALSE),
  file.path(root, "tests/reference/regression/permutation.json"))
cat("wrote permutation tests\n")

# ---- subgroups sharing one tau^2 --------------------------------------------------------

common_case <- function(es, by, method, test) {
  mixed <- tight_rma(es, mods = as.formula(paste("~", by)), method = method, test = test)
  groups <- unique(es[[by]])
  fits <- lapply(groups, function(g) {
    sub <- es[es[[by]] == g, ]
    res <- rma(yi, vi, data = sub, method = method, test = test, tau2 = mixed$tau2,
      control = rma_control)
    list(name = as.character(g), estimate = res$beta[1], se = res$se, ci_lower = res$ci.lb,
      ci_upper = res$ci.ub, tau2 = res$tau2)
  })
  list(by = by, method = method, test = test, tau2 = mixed$tau2, qm = mixed$QM,
    qm_df = mixed$QMdf[1], qm_df_residual = mixed$QMdf[2], qm_p_value = mixed$QMp,
    groups = fits)
}
common_cases <- list()
for (method in c("FE", "DL", "REML", "PM")) for (test in tests) {
  common_cases[[length(common_cases) + 1]] <- common_case(bcg_es, "alloc", method, test)
}
writeLines(toJSON(list(csv = datasets$bcg$path, measure = "RR", cases = common_cases),
  auto_unbox = TRUE, digits = NA, na = "null", pretty = FALSE),
  file.path(root, "tests/reference/regression/subgroups_common.json"))
cat("wrote subgroups with a common tau^2\n")

# ---- leave-one-out ------------------------------------------------------------------------

dir.create(file.path(root, "tests/reference/sensitivity"), showWarnings = FALSE)
loo_specs <- list(list(name = "bcg", measure = "RR"), list(name = "normand1999", measure = "SMD"))
loo_cases <- list()
for (spec in loo_specs) {
  df <- read.csv(file.path(root, datasets[[spec$name]]$path), stringsAsFactors = FALSE)
  es <- effect_sizes(df, spec$measure)
  for (method in c("FE", "DL", "REML")) for (test in tests) {
    res <- tight_rma(es, method = method, test = test)
    l <- leave1out(res)
    loo_cases[[length(loo_cases) + 1]] <- list(csv = datasets[[spec$name]]$path,
      measure = spec$measure, method = method, test = test,
      rows = lapply(seq_along(l$estimate), function(i) lapply(list(
        estimate = l$estimate[i], se = l$se[i], p_value = l$pval[i],
        statistic = if (is.null(l$zval)) l$tval[i] else l$zval[i],  # tval under knha
        ci_lower = l$ci.lb[i], ci_upper = l$ci.ub[i], q = l$Q[i], q_p_value = l$Qp[i],
        tau2 = if (is.null(l$tau2)) 0 else l$tau2[i],  # the common-effect model: 0
        i2 = l$I2[i], h2 = l$H2[i]), finite_or_na)))
  }
}
writeLines(toJSON(list(cases = loo_cases), auto_unbox = TRUE, digits = NA, na = "null",
  pretty = FALSE), file.path(root, "tests/reference/sensitivity/leave_one_out.json"))
cat("wrote leave-one-out\n")

# ---- cumulative meta-analysis ----------------------------------------------------------

bcg_df <- read.csv(file.path(root, datasets$bcg$path), stringsAsFactors = FALSE)
cumul_cases <- list()
for (by in c("year", "ablat")) for (method in c("FE", "DL", "REML")) for (test in tests) {
  res <- tight_rma(bcg_es, method = method, test = test)
  x <- cumul(res, order = bcg_df[[by]])
  cumul_cases[[length(cumul_cases) + 1]] <- list(csv = datasets$bcg$path, measure = "RR",
    order = by, method = method, test = test, added = as.integer(x$slab),
    rows = lapply(seq_along(x$estimate), function(i) lapply(list(
      estimate = x$estimate[i], se = x$se[i], p_value = x$pval[i],
      statistic = if (is.null(x$zval)) x$tval[i] else x$zval[i],
      ci_lower = x$ci.lb[i], ci_upper = x$ci.ub[i], q = x$Q[i], q_p_value = x$Qp[i],
      tau2 = if (is.null(x$tau2)) 0 else x$tau2[i], i2 = x$I2[i], h2 = x$H2[i]), finite_or_na)))
}
writeLines(toJSON(list(cases = cumul_cases), auto_unbox = TRUE, digits = NA, na = "null",
  pretty = FALSE), file.path(root, "tests/reference/sensitivity/cumulative.json"))
cat("wrote cumulative\n")

# ---- influence diagnostics ---------------------------------------------------------------

influence_cases <- list()
for (spec in loo_specs) {
  df <- read.csv(file.path(root, datasets[[spec$name]]$path), stringsAsFactors = FALSE)
  es <- effect_sizes(df, spec$measure)
  for (method in c("FE", "DL", "REML")) for (test in tests) {
    res <- tight_rma(es, method = method, test = test)
    inf <- influence(res)
    pdf(NULL)  # baujat() draws as it computes
    bj <- baujat(res)
    invisible(dev.off())
    influence_cases[[length(influence_cases) + 1]] <- list(csv = datasets[[spec$name]]$path,
      measure = spec$measure, method = method, test = test,
      baujat = list(x = finite_or_na(bj$x), y = finite_or_na(bj$y)),
      rows = lapply(seq_len(res$k), function(i) c(lapply(list(
        rstudent = inf$inf$rstudent[i], dffits = inf$inf$dffits[i],
        cooks_distance = inf$inf$cook.d[i], cov_ratio = inf$inf$cov.r[i],
        tau2_deleted = if (method == "FE") 0 else inf$inf$tau2.del[i],
        q_deleted = inf$inf$QE.del[i], hat = inf$inf$hat[i], weight = inf$inf$weight[i],
        dfbetas = inf$dfbs[[1]][i]), finite_or_na), list(influential = inf$is.infl[i]))))
  }
}
writeLines(toJSON(list(cases = influence_cases), auto_unbox = TRUE, digits = NA, na = "null",
  pretty = FALSE), file.path(root, "tests/reference/sensitivity/influence.json"))
cat("wrote influence\n")

# ---- small-study effects: Egger, rank test, trim-and-fill, fail-safe N -------------------

dir.create(file.path(root, "tests/reference/bias"), showWarnings = FALSE)
# bcg fills on the right, normand1999 has k0 = 0 (L0), bangertdrowns2004 and
# hackshaw1998 fill on the left.
bias_specs <- list(list(name = "bcg", measure = "RR", orwin_target = -0.1),
  list(name = "normand1999", measure = "SMD", orwin_target = 0.2),
  list(name = "bangertdrowns2004", measure = "GEN", orwin_target = 0.1),
  list(name = "hackshaw1998", measure = "GEN", orwin_target = 0.05))
trimfill_case <- function(res, estimator) {
  tf <- trimfill(res, estimator = estimator, test = res$test, control = rma_control)
  c(lapply(list(k0 = tf$k0, estimate = tf$b[1], se = tf$se, ci_lower = tf$ci.lb,
    ci_upper = tf$ci.ub, p_value = tf$pval, tau2 = tf$tau2), finite_or_na),
    list(side = tf$side, filled_yi = as.numeric(tf$yi[tf$fill]),
      filled_vi = as.numeric(tf$vi[tf$fill])))
}
bias_cases <- list()
for (spec in bias_specs) {
  df <- read.csv(file.path(root, datasets[[spec$name]]$path), stringsAsFactors = FALSE)
  es <- effect_sizes(df, spec$measure)
  for (method in c("FE", "DL", "REML")) for (test in tests) {
    res <- tight_rma(es, method = method, test = test)
    eg <- regtest(res)
    rk <- ranktest(res)
    bias_cases[[length(bias_cases) + 1]] <- list(csv = datasets[[spec$name]]$path,
      measure = spec$measure, method = method, test = test,
      egger = lapply(list(statistic = eg$zval, df = eg$ddf, p_value = eg$pval,
        limit_estimate = eg$est, limit_ci_lower = eg$ci.lb, limit_ci_upper = eg$ci.ub),
        finite_or_na),
      rank_test = lapply(list(tau = rk$tau, p_value = rk$pval), finite_or_na),
      trim_and_fill = list(L0 = trimfill_case(res, "L0"), R0 = trimfill_case(res, "R0")),
      fail_safe_n = list(rosenthal = fsn(yi, vi, data = es)$fsnum,
        orwin = fsn(yi, vi, data = es, type = "Orwin")$fsnum,
        rosenberg = fsn(yi, vi, data = es, type = "Rosenberg")$fsnum,
        orwin_target = spec$orwin_target,
        orwin_at_target = fsn(yi, vi, data = es, type = "Orwin", target = spec$orwin_target)$fsnum))
  }
}
writeLines(toJSON(list(cases = bias_cases), auto_unbox = TRUE, digits = NA, na = "null",
  pretty = FALSE), file.path(root, "tests/reference/bias/bias.json"))
cat("wrote small-study effects\n")

# ---- GOSH ------------------------------------------------------------------------------
# Every subset of the nine normand1999 studies (511 fits per method); members are
# the studies' positions (1-based). gosh() refits with the model's control, which
# stops a hair above tau^2 = 0 on the boundary; each subset is therefore fitted
# with tight_rma() (the boundary rule), and checked against gosh()'s own values.
gosh_cases <- list()
normand_es <- effect_sizes(read.csv(file.path(root, datasets$normand1999$path)), "SMD")
for (method in c("FE", "DL", "REML")) {
  res <- tight_rma(normand_es, method = method)
  g <- gosh(res, progbar = FALSE)
  rows <- lapply(seq_len(nrow(g$res)), function(i) {
    members <- which(g$incl[i, ])
    fit <- tight_rma(normand_es[members, ], method = method)
    stopifnot(abs(fit$b[1] - g$res$estimate[i]) < 1e-6, abs(fit$I2 - g$res$I2[i]) < 1e-4)
    c(list(members = members), lapply(list(estimate = fit$b[1], q = fit$QE, i2 = fit$I2,
      tau2 = if (method == "FE") 0 else fit$tau2), finite_or_na))
  })
  gosh_cases[[length(gosh_cases) + 1]] <- list(csv = datasets$normand1999$path,
    measure = "SMD", method = method, rows = rows)
}
writeLines(toJSON(list(cases = gosh_cases), auto_unbox = TRUE, digits = NA, na = "null",
  pretty = FALSE), file.path(root, "tests/reference/sensitivity/gosh.json"))
cat("wrote gosh\n")

# ---- outcome types: proportions, means, correlations, incidence rates -------------------
dir.create(file.path(root, "tests/reference/outcomes"), showWarnings = FALSE)
# escalc() with its defaults, fitted FE, DL and REML; the pooled estimate and its
# limits back-transformed with metafor's transf functions.

pritz <- with(dat.pritz1997, data.frame(study = authors, events = xi, n = ni))
ned <- with(dat.collins1985b, data.frame(study = paste(author, year), events = ned.xti,
  n = fup.nti))
normand_arm <- with(dat.normand1999, data.frame(study = source, n = n1i, mean = m1i, sd = sd1i))
molloy <- with(dat.molloy2014, data.frame(study = paste(authors, year), cor = ri, n = ni))
nielweise08 <- with(dat.nielweise2008, data.frame(study = paste(authors, year),
  events1 = x1i, time1 = t1i, events2 = x2i, time2 = t2i))
nielweise08_arm <- with(dat.nielweise2008, data.frame(study = paste(authors, year),
  events = x1i, time = t1i))
# The same trials with the first one's events set to 0, for the zero-count corrections.
rates_zero <- nielweise08
rates_zero$events1[1] <- 0
rates_zero_arm <- nielweise08_arm
rates_zero_arm$events[1] <- 0
outcome_data <- list(
  pritz1997 = list(df = pritz, path = "datasets/pritz1997.csv"),
  collins1985b_ned = list(df = ned, path = "tests/reference/data/collins1985b_ned.csv"),
  normand1999_arm1 = list(df = normand_arm, path = "tests/reference/data/normand1999_arm1.csv"),
  molloy2014 = list(df = molloy, path = "datasets/molloy2014.csv"),
  nielweise2008 = list(df = nielweise08, path = "datasets/nielweise2008.csv"),
  nielweise2008_arm1 = list(df = nielweise08_arm, path = "tests/reference/data/nielweise2008_arm1.csv"),
  rates_zero = list(df = rates_zero, path = "tests/reference/data/rates_zero.csv"),
  rates_zero_arm1 = list(df = rates_zero_arm, path = "tests/reference/data/rates_zero_arm1.csv"))
for (name in names(outcome_data)) {
  outcome_data[[name]]$df <- write_dataset(outcome_data[[name]]$df, outcome_data[[name]]$path)
}
outcome_specs <- list(
  list(data = "pritz1997", measures = c("PR", "PLN", "PLO", "PAS", "PFT")),
  list(data = "collins1985b_ned", measures = c("PR", "PLN", "PLO", "PAS", "PFT")),
  list(data = "normand1999_arm1", measures = c("MN", "MNLN")),
  list(data = "molloy2014", measures = c("COR", "ZCOR")),
  list(data = "nielweise2008_arm1", measures = c("IR", "IRLN", "IRS", "IRFT")),
  list(data = "rates_zero_arm1", measures = c("IR", "IRLN", "IRS", "IRFT")),
  list(data = "nielweise2008", measures = c("IRR", "IRD")),
  list(data = "rates_zero", measures = c("IRR", "IRD")))
outcome_escalc <- function(df, measure) {
  switch(measure,
    PR = , PLN = , PLO = , PAS = , PFT = escalc(measure, xi = events, ni = n, data = df),
    MN = , MNLN = escalc(measure, mi = mean, sdi = sd, ni = n, data = df),
    COR = , ZCOR = escalc(measure, ri = cor, ni = n, data = df),
    IR = , IRLN = , IRS = , IRFT = escalc(measure, xi = events, ti = time, data = df),
    IRR = , IRD = escalc(measure, x1i = events1, t1i = time1, x2i = events2, t2i = time2,
      data = df))
}
# The inverse transformation, with the harmonic mean size where it needs one.
outcome_back <- function(measure, df, included) {
  hm <- function(x) 1 / mean(1 / x[included])
  switch(measure,
    PLN = , MNLN = , IRLN = , IRR = exp,
    PLO = transf.ilogit, PAS = transf.iarcsin,
    PFT = function(x) transf.ipft.hm(x, targs = list(ni = df$n[included])),
    ZCOR = transf.ztor, IRS = transf.isqrt,
    IRFT = function(x) transf.iirft(x, ti = hm(df$time)),
    NULL)
}
outcome_cases <- list()
for (spec in outcome_specs) {
  df <- outcome_data[[spec$data]]$df
  for (measure in spec$measures) {
    es <- outcome_escalc(df, measure)
    included <- !is.na(es$yi) & !is.na(es$vi)
    for (method in c("FE", "DL", "REML")) {
      res <- tight_rma(es, method = method)
      p <- predict(res)
      back <- outcome_back(measure, df, included)
      limits <- list(estimate = p$pred, ci_lower = p$ci.lb, ci_upper = p$ci.ub,
        pi_lower = if (method == "FE") NA else p$pi.lb,
        pi_upper = if (method == "FE") NA else p$pi.ub)
      outcome_cases[[length(outcome_cases) + 1]] <- list(
        csv = outcome_data[[spec$data]]$path, measure = measure, method = method,
        yi = finite_or_na(es$yi), vi = finite_or_na(es$vi),
        fit = lapply(list(estimate = res$b[1], se = res$se, ci_lower = res$ci.lb,
          ci_upper = res$ci.ub, tau2 = if (method == "FE") 0 else res$tau2, q = res$QE,
          i2 = res$I2, pi_lower = limits$pi_lower, pi_upper = limits$pi_upper), finite_or_na),
        back_transformed = if (is.null(back)) NULL else
          lapply(limits, function(x) finite_or_na(if (is.na(x)) NA else back(x))))
    }
  }
}
writeLines(toJSON(list(cases = outcome_cases), auto_unbox = TRUE, digits = NA, na = "null",
  pretty = FALSE), file.path(root, "tests/reference/outcomes/measures.json"))
cat("wrote outcome types\n")

# ---- Mantel-Haenszel and Peto -----------------------------------------------------------
# rma.mh() and rma.peto() with their defaults (no correction for the pooled
# estimate; 1/2 added to tables with a zero cell, double-zero tables dropped,
# for the studies' own effects and Q); nielweise2007 has zero and double-zero tables.

dir.create(file.path(root, "tests/reference/binary"), showWarnings = FALSE)
mh_cases <- list()
for (name in c("nielweise2007", "bcg")) {
  df <- read.csv(file.path(root, datasets[[name]]$path), stringsAsFactors = FALSE)
  fits <- list(
    MH_OR = rma.mh(ai = events1, n1i = n1, ci = events2, n2i = n2, data = df, measure = "OR"),
    MH_RR = rma.mh(ai = events1, n1i = n1, ci = events2, n2i = n2, data = df, measure = "RR"),
    MH_RD = rma.mh(ai = events1, n1i = n1, ci = events2, n2i = n2, data = df, measure = "RD"),
    PETO_OR = rma.peto(ai = events1, n1i = n1, ci = events2, n2i = n2, data = df))
  for (label in names(fits)) {
    res <- fits[[label]]
    parts <- strsplit(label, "_")[[1]]
    case <- list(csv = datasets[[name]]$path, method = parts[1], measure = parts[2],
      fit = lapply(list(estimate = res$b[1], se = res$se, statistic = res$zval,
        p_value = res$pval, ci_lower = res$ci.lb, ci_upper = res$ci.ub, q = res$QE,
        q_p_value = res$QEp, i2 = res$I2, h2 = res$H2, k = res$k, q_df = res$k.yi - 1),
        finite_or_na))
    if (label == "MH_OR") {
      case$cmh <- lapply(list(statistic = res$MH, p_value = res$MHp), finite_or_na)
      case$tarone <- lapply(list(statistic = res$TA, p_value = res$TAp), finite_or_na)
    }
    mh_cases[[length(mh_cases) + 1]] <- case
  }
}
writeLines(toJSON(list(cases = mh_cases), auto_unbox = TRUE, digits = NA, na = "null",
  pretty = FALSE), file.path(root, "tests/reference/binary/mh_peto.json"))
cat("wrote Mantel-Haenszel and Peto\n")
# ---- dependent effects: three-level models, CR2, robust variance estimation ---------------
# rma.mv(yi, vi, random = ~ 1 | cluster/effect) fitted with nlminb at a tight relative
# tolerance and again with optim's BFGS; the two must agree (their largest relative
# difference is recorded), and the fit with the higher likelihood is the reference.
# clubSandwich's coef_test(vcov = "CR2") and conf_int() on that fit; robumeta's
# robu(modelweights = "CORR", small = TRUE) with rho = 0.8.
suppressPackageStartupMessages({ library(clubSandwich); library(robumeta) })
dir.create(file.path(root, "tests/reference/multilevel"), showWarnings = FALSE)
dir.create(file.path(root, "tests/reference/data"), showWarnings = FALSE)

kon <- with(dat.konstantopoulos2011, data.frame(study = paste("District", district, "school", school),
  district = district, year = year, yi = yi, vi = vi))
assink <- with(dat.assink2016, data.frame(study = paste("Study", study), esid = esid, yi = yi,
  vi = vi, year = year, deltype = deltype))
# Effects drawn halfway to their district's mean: the clusters differ, the effects
# within them no more than their sampling error explains (sigma^2 within = 0).
kon_within0 <- kon
kon_within0$yi <- round(ave(kon$yi, kon$district) + 0.3 * (kon$yi - ave(kon$yi, kon$district)), 4)
# One school without its year: rma.mv leaves the row out (na.action = na.omit), so
# the reference is the fit of the other rows (issue 19: clusters with moderators).
kon_missing_year <- kon
kon_missing_year$year[2] <- NA
ml_data <- list(
  konstantopoulos2011 = list(df = kon, path = "tests/reference/data/konstantopoulos2011.csv",
    cluster = "district"),
  assink2016 = list(df = assink, path = "tests/reference/data/assink2016.csv", cluster = "study"),
  konstantopoulos2011_within0 = list(df = kon_within0,
    path = "tests/reference/data/konstantopoulos2011_within0.csv", cluster = "district"),
  konstantopoulos2011_missing_year = list(df = kon_missing_year,
    path = "tests/reference/data/konstantopoulos2011_missing_year.csv", cluster = "district"))
ml_specs <- list(
  list(data = "konstantopoulos2011", mods = character()),
  list(data = "konstantopoulos2011", mods = "year"),
  list(data = "assink2016", mods = character()),
  # One study holds every "covert" effect: robumeta's intercept has no standard error.
  list(data = "assink2016", mods = "deltype", rve = FALSE),
  list(data = "assink2016", mods = c("year", "deltype")),
  list(data = "konstantopoulos2011_within0", mods = character()),
  list(data = "konstantopoulos2011_missing_year", mods = "year"))

ml_fit <- function(df, mods, method, test, optimizer) {
  df$cluster <- df[[attr(df, "cluster")]]
  df$effect <- seq_len(nrow(df))
  f <- if (length(mods)) as.formula(paste("~", paste(mods, collapse = " + "))) else ~ 1
  control <- if (optimizer == "nlminb") list(optimizer = "nlminb", rel.tol = 1e-13,
    iter.max = 10000, eval.max = 10000) else list(optimizer = "optim", optmethod = "BFGS",
    reltol = 1e-15, maxit = 10000)
  fit <- function(control) rma.mv(yi, vi, mods = f, random = ~ 1 | cluster/effect, data = df,
    method = method, test = test, control = control)
  res <- tryCatch(fit(control), error = function(e) NULL)
  if (is.null(res)) res <- fit(modifyList(control, list(rel.tol = 1e-10)))
  res
}

ml_i2 <- function(res) {
  W <- diag(1 / res$vi)
  X <- model.matrix(res)
  P <- W - W %*% X %*% solve(t(X) %*% W %*% X) %*% t(X) %*% W
  typical <- (res$k - res$p) / sum(diag(P))
  total <- sum(res$sigma2) + typical
  100 * c(sum(res$sigma2), res$sigma2) / total
}

# Fisher scoring on the restricted (or full) likelihood with dense matrices, from
# the optimisers' answer, until the steps are below 1e-15 relative: the optimisers
# stop on the likelihood's value, which leaves the variance components accurate to
# about 1e-7; these steps take them to the maximum within rounding.
ml_polish <- function(df, X, sigma2, method) {
  Z1 <- outer(df$cluster, df$cluster, "==") * 1
  Zs <- list(Z1, diag(nrow(df)))
  for (iteration in 1:200) {
    V <- diag(df$vi) + sigma2[1] * Z1 + sigma2[2] * diag(nrow(df))
    W <- solve(V)
    P <- W - W %*% X %*% solve(t(X) %*% W %*% X, t(X) %*% W)
    Tr <- if (method == "REML") P else W
    Py <- P %*% df$yi
    score <- sapply(Zs, function(Z) -sum(diag(Tr %*% Z)) / 2 + c(t(Py) %*% Z %*% Py) / 2)
    info <- outer(1:2, 1:2, Vectorize(function(a, b) sum(diag(Tr %*% Zs[[a]] %*% Tr %*% Zs[[b]])) / 2))
    free <- !(sigma2 <= 0 & score <= 0)
    step <- numeric(2)
    step[free] <- solve(info[free, free, drop = FALSE], score[free])
    new <- pmax(sigma2 + step, 0)
    done <- all(abs(new - sigma2) <= 1e-15 * pmax(abs(sigma2), mean(df$vi)))
    sigma2 <- new
    if (done) break
  }
  sigma2
}

ml_case <- function(df, mods, method, test) {
  a <- ml_fit(df, mods, method, test, "nlminb")
  b <- ml_fit(df, mods, method, test, "optim")
  # relative to the scale of the variances: a component at 0 has no relative error
  disagreement <- max(abs(a$sigma2 - b$sigma2)) / (max(a$sigma2) + mean(df$vi))
  if (disagreement > 1e-5) stop("the optimisers disagree: ", disagreement)
  best <- if (logLik(a) >= logLik(b)) a else b
  df$cluster <- df[[attr(df, "cluster")]]
  sigma2 <- ml_polish(df, model.matrix(best), best$sigma2, method)
  f <- if (length(mods)) as.formula(paste("~", paste(mods, collapse = " + "))) else ~ 1
  df$effect <- seq_len(nrow(df))
  res <- rma.mv(yi, vi, mods = f, random = ~ 1 | cluster/effect, data = df, method = method,
    test = test, sigma2 = sigma2)
  if (c(logLik(res)) < c(logLik(best)) - 1e-12 * abs(c(logLik(best)))) stop("polishing lost likelihood")
  i2 <- ml_i2(res)
  out <- list(mods = mods, method = method, test = test, k = res$k,
    clusters = res$s.nlevels[1], names = rownames(res$beta),
    estimate = c(res$beta), se = res$se, statistic = res$zval, p_value = res$pval,
    ci_lower = res$ci.lb, ci_upper = res$ci.ub,
    sigma2_cluster = res$sigma2[1], sigma2_within = res$sigma2[2],
    log_likelihood = c(logLik(res)), optimiser_disagreement = disagreement,
    optimiser_log_likelihood = c(logLik(best)),
    q = res$QE, q_df = res$k - res$p, q_p_value = res$QEp,
    qm = res$QM, qm_p_value = res$QMp,
    i2 = i2[1], i2_cluster = i2[2], i2_within = i2[3])
  if (!length(mods)) {
    p <- predict(res)
    out$pi_lower <- p$pi.lb; out$pi_upper <- p$pi.ub
  }
  # clubSandwich reads the model's data from the calling frame.
  cr2 <- coef_test(res, vcov = "CR2", cluster = df[[attr(df, "cluster")]])
  ci <- conf_int(res, vcov = "CR2", cluster = df[[attr(df, "cluster")]])
  out$robust <- list(se = cr2$SE, statistic = cr2$tstat, df = cr2$df_Satt,
    p_value = cr2$p_Satt, ci_lower = ci$CI_L, ci_upper = ci$CI_U)
  lapply(out, function(v) if (is.numeric(v)) finite_or_na(v) else v)
}

rve_case <- function(df, mods, rho) {
  f <- as.formula(paste("yi ~", if (length(mods)) paste(mods, collapse = " + ") else "1"))
  df$cluster <- df[[attr(df, "cluster")]]
  res <- robu(f, data = df, studynum = cluster, var.eff.size = vi, rho = rho,
    modelweights = "CORR", small = TRUE)
  t <- res$reg_table
  lapply(list(mods = mods, rho = rho, estimate = t$b.r, se = t$SE, statistic = t$t,
    df = t$dfs, p_value = t$prob, ci_lower = t$CI.L, ci_upper = t$CI.U,
    tau2 = res$mod_info$tau.sq[1]), function(v) if (is.numeric(v)) finite_or_na(v) else v)
}

for (name in names(ml_data)) {
  ml_data[[name]]$df <- write_dataset(ml_data[[name]]$df, ml_data[[name]]$path)
  attr(ml_data[[name]]$df, "cluster") <- ml_data[[name]]$cluster
}
ml_cases <- list()
for (spec in ml_specs) {
  d <- ml_data[[spec$data]]
  case <- list(data = spec$data, csv = d$path, cluster = d$cluster, fits = list(), rve = list())
  # The rows metafor fits: those with every moderator (na.omit).
  df <- d$df[complete.cases(d$df[, spec$mods, drop = FALSE]), ]
  attr(df, "cluster") <- d$cluster
  for (method in c("REML", "ML")) for (test in c("z", "t")) {
    case$fits[[length(case$fits) + 1]] <- ml_case(df, spec$mods, method, test)
  }
  if (!isFALSE(spec$rve)) for (rho in c(0, 0.8, 1)) case$rve[[length(case$rve) + 1]] <- rve_case(df, spec$mods, rho)
  ml_cases[[length(ml_cases) + 1]] <- case
}
writeLines(toJSON(list(metafor_version = as.character(packageVersion("metafor")),
  clubsandwich_version = as.character(packageVersion("clubSandwich")),
  robumeta_version = as.character(packageVersion("robumeta")), cases = ml_cases),
  auto_unbox = TRUE, digits = NA, na = "null", pretty = FALSE),
  file.path(root, "tests/reference/multilevel/multilevel.json"))
cat("wrote multilevel\n")
