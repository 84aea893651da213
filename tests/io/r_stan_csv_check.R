# Reads Stan CSV files with rstan and compares posterior's summary of them
# with nutshell's own (DIR/summary.csv), to 1e-8.
#   Rscript r_stan_csv_check.R DIR [CSV FILES...]   (default: DIR/run_{1..4}.csv)
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]
suppressPackageStartupMessages({
  library(rstan)
  library(posterior)
})
files <- if (length(args) > 1) args[-1] else file.path(dir, sprintf("run_%d.csv", 1:4))
fit <- rstan::read_stan_csv(files)
arr <- as.array(fit)
if (length(args) == 1) stopifnot(identical(dim(arr)[1:2], c(300L, 4L)))
arr <- arr[, , dimnames(arr)$parameters != "lp__", drop = FALSE]
ours <- read.csv(file.path(dir, "summary.csv"), stringsAsFactors = FALSE)
theirs <- as.data.frame(posterior::summarise_draws(posterior::as_draws_array(arr)))
stopifnot(identical(theirs$variable, ours$variable))
# rstan's own sampler diagnostics read from the same files.
sp <- rstan::get_sampler_params(fit, inc_warmup = FALSE)
want <- if (length(args) == 1) c("accept_stat__", "stepsize__", "treedepth__", "n_leapfrog__", "divergent__",
                                 "energy__") else c("accept_stat__", "stepsize__", "treedepth__")
stopifnot(length(sp) == length(files), all(want %in% colnames(sp[[1]])))
worst <- 0
for (col in c("mean", "sd", "median", "q5", "q95", "ess_bulk", "ess_tail", "rhat")) {
  d <- abs(theirs[[col]] - ours[[col]]) / pmax(1, abs(ours[[col]]))
  worst <- max(worst, d)
  if (any(!(d <= 1e-8))) {
    print(data.frame(variable = ours$variable, nutshell = ours[[col]], posterior = theirs[[col]]))
    stop(sprintf("column %s differs by %g", col, max(d)))
  }
}
cat(sprintf("rstan read %d chains x %d draws x %d parameters; largest relative difference %.3g\n",
            dim(arr)[2], dim(arr)[1], dim(arr)[3], worst))
cat("OK\n")
