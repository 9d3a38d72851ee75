# A first polished reference (issue 24): metafor's PLO fit on pritz1997 against the
# maximum of lme4's own objective (nAGQ = 7, devFunOnly), optimised to convergence.
# Prints both; to be folded into generate.R for every glmer-based case.
# Usage: Rscript tests/reference/glmm/polish_pritz1997.R
suppressPackageStartupMessages({library(metafor); library(metadat); library(lme4)})
d <- with(dat.pritz1997, data.frame(xi = xi, ni = ni)); d$study <- factor(seq_len(nrow(d)))
res <- rma.glmm(measure = "PLO", xi = xi, ni = ni, data = d, method = "ML")
g <- glmer(cbind(xi, ni - xi) ~ 1 + (1 | study), data = d, family = binomial, nAGQ = 7)
cat(sprintf("metafor beta %.10f tau2 %.10f | glmer beta %.10f tau2 %.10f dev %.10f\n", res$beta, res$tau2, fixef(g), VarCorr(g)[[1]][1], deviance(g)))
dev <- glmer(cbind(xi, ni - xi) ~ 1 + (1 | study), data = d, family = binomial, nAGQ = 7, devFunOnly = TRUE)
start <- c(getME(g, "theta"), fixef(g))
cat(sprintf("dev at start %.12f\n", dev(start)))
o <- optim(start, dev, method = "BFGS", control = list(reltol = 1e-16, maxit = 10000, parscale = c(0.1, 0.1)))
o2 <- optim(o$par, dev, method = "Nelder-Mead", control = list(reltol = 1e-16, maxit = 10000))
cat(sprintf("BFGS dev %.12f par %.10f %.10f (tau2 %.10f) | NM dev %.12f par %.10f %.10f\n", o$value, o$par[1], o$par[2], o$par[1]^2, o2$value, o2$par[1], o2$par[2]))
