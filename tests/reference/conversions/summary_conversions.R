# Reference values for src/effect/summary.rs (tests/summary_conversions.rs).
#
# R's `meta` package is not installable here (not in Debian; no CRAN access) and
# metafor 3.8 predates conv.fivenum, so this script evaluates the published
# formulas independently of cochran, with R's own qnorm()/qt(), following the
# algorithm of meta's R/mean-sd-internal.R (mean.sd.range, mean.sd.iqr,
# mean.sd.iqr.range with method.mean = "Luo", method.sd = "Shi"):
#   Luo et al. (2018) means; Wan et al. (2014) SDs with Table 1 (n <= 50) and
#   Table 2 (indexed by Q = ceiling((n - 1)/4), n <= 201), Blom forms beyond;
#   Shi et al. (2020) eq. (10) for the five-number summary.
# Run: Rscript tests/reference/conversions/summary_conversions.R > tests/reference/conversions/summary_conversions.json
suppressMessages(library(jsonlite))

wan_table1 <- c(0.000, 1.128, 1.693, 2.059, 2.326, 2.534, 2.704, 2.847, 2.970, 3.078,
                3.173, 3.259, 3.336, 3.407, 3.472, 3.532, 3.588, 3.640, 3.689, 3.735,
                3.778, 3.819, 3.858, 3.895, 3.931, 3.964, 3.997, 4.027, 4.057, 4.086,
                4.113, 4.139, 4.165, 4.189, 4.213, 4.236, 4.259, 4.280, 4.301, 4.322,
                4.341, 4.361, 4.379, 4.398, 4.415, 4.433, 4.450, 4.466, 4.482, 4.498)
wan_table2 <- c(0.990, 1.144, 1.206, 1.239, 1.260, 1.274, 1.284, 1.292, 1.298, 1.303,
                1.307, 1.311, 1.313, 1.316, 1.318, 1.320, 1.322, 1.323, 1.324, 1.326,
                1.327, 1.328, 1.329, 1.330, 1.330, 1.331, 1.332, 1.332, 1.333, 1.333,
                1.334, 1.334, 1.335, 1.335, 1.336, 1.336, 1.336, 1.337, 1.337, 1.337,
                1.338, 1.338, 1.338, 1.338, 1.339, 1.339, 1.339, 1.339, 1.339, 1.340)

xi_blom  <- function(n) 2 * qnorm((n - 0.375) / (n + 0.25))
eta_blom <- function(n) 2 * qnorm((0.75 * n - 0.125) / (n + 0.25))
xi  <- function(n) if (n <= 50) wan_table1[n] else xi_blom(n)
eta <- function(n) if (ceiling((n - 1) / 4) <= 50) wan_table2[ceiling((n - 1) / 4)] else eta_blom(n)

range_case <- function(n, min, median, max) {
  w <- 4 / (4 + n^0.75)
  list(summary = "range", n = n, min = min, median = median, max = max,
       mean = w * (min + max) / 2 + (1 - w) * median, sd = (max - min) / xi(n))
}
quartiles_case <- function(n, q1, median, q3) {
  w <- 0.7 + 0.39 / n
  list(summary = "quartiles", n = n, q1 = q1, median = median, q3 = q3,
       mean = w * (q1 + q3) / 2 + (1 - w) * median, sd = (q3 - q1) / eta(n))
}
five_case <- function(n, min, q1, median, q3, max) {
  w1 <- 2.2 / (2.2 + n^0.75)
  w2 <- 0.7 - 0.72 / n^0.55
  # Shi et al. (2020) shortcut form, eq. (11), as written in meta's source:
  theta1 <- (2 + 0.14 * n^0.6) * qnorm((n - 0.375) / (n + 0.25))
  theta2 <- (2 + 2 / (0.07 * n^0.6)) * qnorm((0.75 * n - 0.125) / (n + 0.25))
  list(summary = "five", n = n, min = min, q1 = q1, median = median, q3 = q3, max = max,
       mean = w1 * (min + max) / 2 + w2 * (q1 + q3) / 2 + (1 - w1 - w2) * median,
       sd = (max - min) / theta1 + (q3 - q1) / theta2)
}

# Skewed inputs so that every weight matters; n spans the tables and beyond.
cases <- list()
for (n in c(5, 6, 7, 10, 18, 30, 42, 50, 51, 100, 201, 202, 1000)) {
  cases[[length(cases) + 1]] <- range_case(n, 2, 9, 41)
  cases[[length(cases) + 1]] <- quartiles_case(n, 6, 9, 17)
  cases[[length(cases) + 1]] <- five_case(n, 2, 6, 9, 17, 41)
}

# SD from a 95% CI of a mean with the t quantile (Cochrane Handbook 6.5.2.2).
ci <- lapply(list(c(44, 56, 25, 95), c(44, 56, 10, 90), c(1.2, 3.4, 6, 99),
                  c(44, 56, 1001, 95), c(44, 56, 1002, 95), c(44, 56, 30001, 99.9),
                  c(44, 56, 1e6, 95), c(44, 56, 1e8, 90)), function(x)
  list(lower = x[1], upper = x[2], n = x[3], level = x[4],
       sd = sqrt(x[3]) * (x[2] - x[1]) / (2 * qt(1 - (1 - x[4] / 100) / 2, x[3] - 1))))

cat(toJSON(list(generator = "tests/reference/conversions/summary_conversions.R",
                r_version = R.version.string,
                summaries = cases, ci = ci),
           digits = NA, auto_unbox = TRUE, pretty = TRUE), "\n")
