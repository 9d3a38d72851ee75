# Exact (Clopper-Pearson) intervals of single proportions, from R's binom.test(),
# for the forest plots of GLMM proportions (issue 24): 0 and n events, small and
# large n, three levels. Usage: Rscript tests/reference/glmm/clopper_pearson.R ROOT
suppressPackageStartupMessages(library(jsonlite))
args <- commandArgs(trailingOnly = TRUE)
root <- if (length(args) >= 1) args[1] else "."
cases <- list()
for (n in c(1, 6, 17, 42, 1000)) for (x in unique(c(0, 1, floor(n / 3), n - 1, n))) {
  if (x < 0 || x > n) next
  for (level in c(0.9, 0.95, 0.99)) {
    ci <- binom.test(x, n, conf.level = level)$conf.int
    cases[[length(cases) + 1]] <- list(events = x, n = n, level = 100 * level,
                                       lower = ci[1], upper = ci[2])
  }
}
writeLines(toJSON(list(R = R.version.string, cases = cases), auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(root, "tests/reference/glmm/clopper_pearson.json"))
