# Stan's own cost per gradient on this machine, for the "AD gradient faster
# than Stan's" comparison of benchmarks/ad_gradient (issue 10). Stan's figure
# must come from the same machine as nutshell's: the earlier 200 us for
# gp_student_t_100 was measured on another CPU, where nutshell's hand-written
# gradient also cost half what it costs here.
#
#   Rscript benchmarks/stan_gradient.R --posteriors=gp_student_t_100,funnel_10 \
#       [--posteriors-dir=<repo>/../shared/posteriors] \
#       [--cache-dir=~/.cache/nutshell-stan] [--seconds=3] [--rounds=3]
#
# Two measurements per posterior, both single-threaded:
#   grad   rstan's grad_log_prob(fit, u) called in a loop at a posterior draw
#          (Stan Math's gradient plus R's call overhead, ~15 us, which
#          dominates the small models); `lp` is log_prob(gradient = FALSE)
#          through the same path, for reference only: rstan still evaluates
#          it on Stan's var type, so it costs about as much as `grad`;
#   chain  one NUTS chain (1000 + 1000, seed 1), its CPU time by Stan's own
#          clock divided by its leapfrog steps: how a sampling run pays.
# Prints one CSV line per posterior and round: name,round,grad_us,lp_us,chain_us.
suppressPackageStartupMessages({
  library(rstan)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
# Default posteriors folder: ../shared/posteriors beside the repository.
script <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
repo <- normalizePath(file.path(dirname(script), ".."))
opt <- list(posteriors = "gp_student_t_100",
            `posteriors-dir` = file.path(dirname(repo), "shared", "posteriors"),
            `cache-dir` = file.path(Sys.getenv("HOME"), ".cache", "nutshell-stan"),
            seconds = "3", rounds = "3")
for (a in args) {
  m <- regmatches(a, regexec("^--([^=]+)=(.*)$", a))[[1]]
  if (length(m) != 3 || !(m[2] %in% names(opt))) stop("unknown argument: ", a)
  opt[[m[2]]] <- m[3]
}
dir.create(opt$`cache-dir`, recursive = TRUE, showWarnings = FALSE)
rstan_options(auto_write = TRUE)
if (!file.exists(rstan_options("boost_lib")) && file.exists("/usr/include/boost/version.hpp"))
  rstan_options(boost_lib = "/usr/include")

model_for <- function(name) {
  src <- file.path(opt$`posteriors-dir`, name, "model.stan")
  dst <- file.path(opt$`cache-dir`, paste0(name, ".stan"))
  if (!file.exists(dst) || !identical(readLines(src), readLines(dst)))
    file.copy(src, dst, overwrite = TRUE)
  stan_model(file = dst, model_name = name, auto_write = TRUE)
}

# Calls f() repeatedly for about `seconds` of CPU time; microseconds per call.
per_call_us <- function(f, seconds) {
  n <- 16L
  repeat {
    t <- system.time(for (i in seq_len(n)) f())[["user.self"]]
    if (t >= seconds) return(1e6 * t / n)
    n <- if (t < 0.05) n * 8L else as.integer(n * seconds / t * 1.1) + 1L
  }
}

seconds <- as.numeric(opt$seconds)
cat("name,round,grad_us,lp_us,chain_us\n")
for (p in strsplit(opt$posteriors, ",")[[1]]) {
  sm <- model_for(p)
  data <- fromJSON(file.path(opt$`posteriors-dir`, p, "data.json"))
  fit <- sampling(sm, data = data, chains = 1, iter = 2000, warmup = 1000, seed = 1, refresh = 0)
  sp <- get_sampler_params(fit, inc_warmup = TRUE)[[1]]
  chain_us <- 1e6 * sum(get_elapsed_time(fit)) / sum(sp[, "n_leapfrog__"])
  # Draw 500 of the chain, on the unconstrained scale.
  pars <- rstan::extract(fit)
  one <- lapply(pars[setdiff(names(pars), "lp__")], function(a) {
    d <- dim(a)
    if (length(d) == 1) a[500] else a[500, ]
  })
  u <- unconstrain_pars(fit, one)
  for (r in seq_len(as.integer(opt$rounds))) {
    g <- per_call_us(function() grad_log_prob(fit, u), seconds)
    l <- per_call_us(function() log_prob(fit, u, gradient = FALSE), seconds)
    cat(sprintf("%s,%d,%.2f,%.2f,%.2f\n", p, r, g, l, chain_us))
  }
}
