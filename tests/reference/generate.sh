#!/usr/bin/env bash
# Regenerates the metafor reference values (tests/reference/*.json) and the shipped
# datasets (datasets/*.csv). Needs root for apt-get on a Debian machine; the test
# suite itself never needs R.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! Rscript -e 'library(metafor); library(metadat); library(jsonlite); library(clubSandwich); library(robumeta)' >/dev/null 2>&1; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y r-base-core r-cran-metafor r-cran-metadat r-cran-jsonlite r-cran-clubsandwich r-cran-robumeta
fi
Rscript tests/reference/generate.R "$(pwd)"
Rscript tests/reference/few_studies/generate.R "$(pwd)"
# The GLMM references (issue 24; about a minute).
if ! Rscript -e 'library(lme4); library(BiasedUrn); library(numDeriv)' >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends r-cran-lme4 r-cran-biasedurn r-cran-numderiv
fi
Rscript tests/reference/glmm/generate.R "$(pwd)"
python3 tests/reference/glmm/hessian.py "$(pwd)"
python3 tests/reference/glmm/conditional_exact.py "$(pwd)"
Rscript tests/reference/glmm/clopper_pearson.R "$(pwd)"
# The MCMC cross-check of the Bayesian model (a few minutes: Stan). Debian's
# r-cran-bh keeps Boost in /usr/include, where rstan does not look.
if [ "${COCHRAN_BRMS:-0}" = 1 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends r-cran-brms
  mkdir -p /usr/lib/R/site-library/BH/include
  ln -sf /usr/include/boost /usr/lib/R/site-library/BH/include/boost
  Rscript tests/reference/bayes/brms.R "$(pwd)"
fi
# The exact Bayesian references: python3 tests/reference/bayes/generate.py (mpmath).
