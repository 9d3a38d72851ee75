# metafor's reporting for few studies (tests/reference/few_studies/reference.json):
# the Q-profile interval of tau^2 with metafor's default search range, whose
# bounds beyond it metafor prints as ">limit", and prediction intervals on
# t(k - p) (predict(..., pi.type = "t")). Run by generate.sh.
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
root <- if (length(args) >= 1) args[1] else "."

# The hip example's HHS changes (datasets/hip_oa_msc.csv, MC with r = 0.5 and
# --impute-sd max), as cochran computes them (tests/it/few_studies.rs checks).
hhs <- data.frame(yi = c(17.39999999999999, 24.299999999999997),
                  vi = c(4.971666666666667, 0.7102380952380953))
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)

# confint's root finder to 1e-12 (its default tolerance is eps^0.25); its
# search range stays the default, max(100, 10 tau^2).
interval <- function(res) {
  ci <- confint(res, control = list(tol = 1e-12))
  rows <- c("tau^2", "tau", "I^2(%)", "H^2")
  list(estimate = unname(ci$random[rows, "estimate"]),
       lower = unname(ci$random[rows, "ci.lb"]), upper = unname(ci$random[rows, "ci.ub"]),
       lower_sign = ci$lb.sign, upper_sign = ci$ub.sign)
}
prediction <- function(p) list(pred = unname(p$pred), pi_lower = unname(p$pi.lb), pi_upper = unname(p$pi.ub))

cases <- list()
for (test in c("z", "knha")) {
  res <- rma(yi, vi, data = hhs, test = test, control = list(threshold = 1e-12, maxiter = 1000))
  cases[[length(cases) + 1]] <- list(name = paste("HHS", test), yi = hhs$yi, vi = hhs$vi, test = test,
    tau2_interval = interval(res), pi_default = prediction(predict(res)),
    pi_t = prediction(predict(res, pi.type = "t")))
  res <- rma(yi, vi, data = bcg, test = test, control = list(threshold = 1e-12, maxiter = 1000))
  cases[[length(cases) + 1]] <- list(name = paste("bcg RR", test), yi = as.numeric(bcg$yi),
    vi = as.numeric(bcg$vi), test = test, tau2_interval = interval(res),
    pi_default = prediction(predict(res)), pi_t = prediction(predict(res, pi.type = "t")))
}
writeLines(toJSON(list(metafor_version = as.character(packageVersion("metafor")), cases = cases),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(root, "tests/reference/few_studies/reference.json"))
