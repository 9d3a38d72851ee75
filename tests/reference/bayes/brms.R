# A loose cross-check of the exact posteriors by MCMC (Stan through brms):
# bcg (log risk ratios) with a half-normal(0.5) prior for tau and a flat
# prior for mu. Writes tests/reference/bayes/brms.json with the posterior
# medians and 95% central intervals of mu and tau and their Monte Carlo
# standard errors. Needs r-cran-brms (Debian); takes a few minutes.
suppressPackageStartupMessages({
  library(metafor)
  library(brms)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
root <- if (length(args) >= 1) args[1] else "."
dat <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
dat$sei <- sqrt(dat$vi)
priors <- c(set_prior("", class = "Intercept"), prior(normal(0, 0.5), class = sd))
fit <- brm(yi | se(sei) ~ 1 + (1 | trial), data = dat, prior = priors, chains = 4,
           iter = 20000, warmup = 2000, seed = 20261205, refresh = 0,
           control = list(adapt_delta = 0.99))
draws <- as_draws_df(fit)
summarise <- function(x) {
  q <- quantile(x, c(0.025, 0.5, 0.975))
  list(lower = unname(q[1]), median = unname(q[2]), upper = unname(q[3]),
       mcse_median = posterior::mcse_quantile(x, 0.5),
       mcse_lower = posterior::mcse_quantile(x, 0.025),
       mcse_upper = posterior::mcse_quantile(x, 0.975))
}
out <- list(brms_version = as.character(packageVersion("brms")), draws = nrow(draws),
            yi = as.numeric(dat$yi), vi = as.numeric(dat$vi), tau_prior = "half-normal(0.5)",
            mu = summarise(draws$b_Intercept), tau = summarise(draws$sd_trial__Intercept))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(root, "tests/reference/bayes/brms.json"))
