# Stan side of compare_with_stan.sh (run that, not this): compiles the Stan
# programs (not timed), runs rstan's NUTS with the same settings as
# benchmarks/posteriors, writes the draws, gets ESS / R-hat for BOTH samplers
# from the same program (bazel-bin/benchmarks/ess, nutshell's diagnostics), and
# prints the comparison table.
#
#   Rscript compare_with_stan.R --mode=compile|run --posteriors=a,b --chains=4
#       --warmup=1000 --draws=1000 --cores=2 --seeds=1,2 --repeats=1
#       --posteriors-dir=DIR --out-dir=DIR --cache-dir=DIR --ess-tool=PATH
#       --nutshell-csv=PATTERN --nutshell-draws=PATTERN
# (the patterns contain one %d, replaced by the seed, and may contain one %s,
# replaced by each of --adaptations=window,fisher_diagonal,...: then every
# adaptation is compared with the same Stan run, and a second table gives
# each one's ESS per gradient and warmup gradients relative to Stan's).
# --extra-dir: where posteriors missing from --posteriors-dir live (the
# repository's tests/posteriors/data: the real-data ones).
suppressPackageStartupMessages({
  library(rstan)
  library(jsonlite)
  library(posterior)
})

args <- commandArgs(trailingOnly = TRUE)
opt <- list(mode = "run", posteriors = "all", chains = "4", warmup = "1000", draws = "1000",
            cores = as.character(parallel::detectCores()), seeds = "1", repeats = "1",
            `posteriors-dir` = "", `out-dir` = "", `cache-dir` = "", `ess-tool` = "",
            `nutshell-csv` = "", `nutshell-draws` = "", adaptations = "window",
            `extra-dir` = "", `stan-metric` = "")
for (a in args) {
  m <- regmatches(a, regexec("^--([^=]+)=(.*)$", a))[[1]]
  if (length(m) != 3 || !(m[2] %in% names(opt))) stop("unknown argument: ", a)
  opt[[m[2]]] <- m[3]
}
all_posteriors <- c("gauss_100", "corr_gauss_50", "eight_schools_nc", "logistic_1000x25",
                    "gp_student_t_100", "funnel_10", "mtcars_uncentred", "stackloss_t",
                    "chickweight_hier", "warpbreaks_pln")
adaptations <- strsplit(opt$adaptations, ",")[[1]]
# A posterior's folder: --posteriors-dir/<name>, else --extra-dir/<name>.
folder_of <- function(name) {
  d <- file.path(opt$`posteriors-dir`, name)
  if (!file.exists(file.path(d, "model.stan")) && nzchar(opt$`extra-dir`))
    d <- file.path(opt$`extra-dir`, name)
  d
}
pattern <- function(p, seed, a) {
  if (grepl("%s", p, fixed = TRUE)) sprintf(sub("%s", "%1$s", sub("%d", "%2$d", p, fixed = TRUE), fixed = TRUE), a, seed)
  else sprintf(p, seed)
}
posteriors <- if (opt$posteriors == "all") all_posteriors else strsplit(opt$posteriors, ",")[[1]]
chains <- as.integer(opt$chains); warmup <- as.integer(opt$warmup)
draws <- as.integer(opt$draws); cores <- as.integer(opt$cores)
repeats <- max(1L, as.integer(opt$repeats))
dir.create(opt$`cache-dir`, recursive = TRUE, showWarnings = FALSE)
dir.create(opt$`out-dir`, recursive = TRUE, showWarnings = FALSE)
rstan_options(auto_write = TRUE)
# Debian's r-cran-bh is an empty shell over libboost-dev's /usr/include/boost,
# so rstan's default boost_lib ("") does not exist: point it there.
if (!file.exists(rstan_options("boost_lib")) && file.exists("/usr/include/boost/version.hpp"))
  rstan_options(boost_lib = "/usr/include")

# The Stan program is copied into the cache so that auto_write keeps the
# compiled model (<name>.rds) there, never in the shared posteriors folder.
model_for <- function(name) {
  src <- file.path(folder_of(name), "model.stan")
  dst <- file.path(opt$`cache-dir`, paste0(name, ".stan"))
  if (!file.exists(dst) || !identical(readLines(src), readLines(dst))) file.copy(src, dst, overwrite = TRUE)
  stan_model(file = dst, model_name = name, auto_write = TRUE)
}

# Names of the `parameters` block in declaration order, and which are
# declared <lower=0> (sampled as log): the unconstrained coordinates.
parameters_of <- function(name) {
  code <- readLines(file.path(folder_of(name), "model.stan"))
  code <- sub("//.*$", "", code)
  start <- grep("^\\s*parameters\\s*\\{", code)
  stopifnot(length(start) == 1)
  out <- list()
  for (line in code[(start + 1):length(code)]) {
    if (grepl("^\\s*\\}", line)) break
    if (!grepl(";", line)) next
    decl <- trimws(sub(";.*$", "", line))
    id <- sub("^.*\\s", "", decl)
    out[[length(out) + 1]] <- list(name = id, log = grepl("<\\s*lower\\s*=\\s*0\\s*>", decl))
  }
  out
}

if (opt$mode == "compile") {
  for (p in posteriors) {
    t <- system.time(model_for(p))[["elapsed"]]
    cat(sprintf("compiled %-18s (%.0f s, cached in %s)\n", p, t, opt$`cache-dir`))
  }
  quit(status = 0)
}

run_ess <- function(csv) {
  out <- system2(opt$`ess-tool`, csv, stdout = TRUE)
  if (!is.null(attr(out, "status"))) stop("ess tool failed on ", csv)
  read.csv(text = out, stringsAsFactors = FALSE)
}

# posterior::ess_bulk / ess_tail / rhat on the same file, as a cross-check of
# the C++ tool (they agree to ~1e-12).
posterior_check <- function(csv) {
  d <- read.csv(csv, check.names = FALSE)
  ch <- d$chain
  vals <- as.matrix(d[, -1, drop = FALSE])
  ids <- unique(ch)
  arr <- array(NA_real_, dim = c(sum(ch == ids[1]), length(ids), ncol(vals)))
  for (i in seq_along(ids)) arr[, i, ] <- vals[ch == ids[i], , drop = FALSE]
  dr <- posterior::as_draws_array(arr)
  s <- posterior::summarise_draws(dr, ess_bulk = posterior::ess_bulk,
                                  ess_tail = posterior::ess_tail, rhat = posterior::rhat)
  as.numeric(c(min(as.numeric(s$ess_bulk)), min(as.numeric(s$ess_tail)), max(as.numeric(s$rhat))))
}

# One Stan run (the median wall time of `repeats` identical runs) and the
# shared-ESS figures of both samplers for one posterior and seed.
run_one <- function(p, seed, nrow_nut, sm, data, a = "window") {
  metric <- if (nrow_nut$metric == "dense") "dense_e" else "diag_e"
  if (nzchar(opt$`stan-metric`)) metric <- opt$`stan-metric`
  walls <- numeric(0)
  for (r in seq_len(repeats)) {
    t0 <- Sys.time()
    fit <- sampling(sm, data = data, chains = chains, iter = warmup + draws, warmup = warmup,
                    cores = min(cores, chains), seed = seed, refresh = 0,
                    control = list(metric = metric, adapt_delta = 0.8, max_treedepth = 10))
    walls <- c(walls, as.numeric(difftime(Sys.time(), t0, units = "secs")))
  }
  wall <- median(walls)
  sp <- get_sampler_params(fit, inc_warmup = TRUE)
  n_leapfrog <- sum(sapply(sp, function(s) sum(s[, "n_leapfrog__"])))
  post <- lapply(sp, function(s) s[warmup + seq_len(draws), , drop = FALSE])
  el <- get_elapsed_time(fit)  # per chain: warmup, sample (seconds, Stan's own clock)

  # The unconstrained draws (log of <lower=0> parameters), in coordinate order.
  pars <- parameters_of(p)
  arr <- as.array(fit, pars = sapply(pars, `[[`, "name"))  # [iteration, chain, flat name]
  for (q in pars) if (q$log) {
    cols <- grep(paste0("^", q$name, "(\\[|$)"), dimnames(arr)[[3]])
    arr[, , cols] <- log(arr[, , cols])
  }
  long <- do.call(rbind, lapply(seq_len(chains), function(c) cbind(chain = c, arr[, c, ])))
  stan_csv <- file.path(opt$`out-dir`, sprintf("stan_draws_seed%d", seed), paste0(p, ".csv"))
  dir.create(dirname(stan_csv), recursive = TRUE, showWarnings = FALSE)
  write.csv(long, stan_csv, row.names = FALSE, quote = FALSE)
  list(stan_csv = stan_csv, wall = wall, el = el, n_leapfrog = n_leapfrog, post = post,
       warmup_leapfrog = sum(sapply(sp, function(s) sum(s[seq_len(warmup), "n_leapfrog__"]))),
       es = run_ess(stan_csv), stan_check = posterior_check(stan_csv), metric = metric)
}

# The comparison row of one nutshell run (adaptation `a`) with Stan's run `st`.
compare_one <- function(p, seed, nrow_nut, st, a) {
  stan_csv <- st$stan_csv; wall <- st$wall; el <- st$el; n_leapfrog <- st$n_leapfrog
  post <- st$post; es <- st$es
  nut_csv <- file.path(pattern(opt$`nutshell-draws`, seed, a), paste0(p, ".csv"))
  en <- run_ess(nut_csv)
  chk <- max(abs(c(st$stan_check / c(es$min_ess_bulk, es$min_ess_tail, es$max_rhat),
                   posterior_check(nut_csv) / c(en$min_ess_bulk, en$min_ess_tail, en$max_rhat)) - 1))
  out <- data.frame(
    posterior = p, seed = seed, metric = nrow_nut$metric, adaptation = a, stan_metric = st$metric,
    nutshell_ess_bulk = en$min_ess_bulk, stan_ess_bulk = es$min_ess_bulk,
    nutshell_ess_tail = en$min_ess_tail, stan_ess_tail = es$min_ess_tail,
    nutshell_rhat = en$max_rhat, stan_rhat = es$max_rhat,
    nutshell_wall_s = nrow_nut$wall_total_s, stan_wall_s = wall,
    stan_chain_s = sum(el), stan_warmup_chain_s = sum(el[, "warmup"]),
    # CPU time summed over chains: Stan's per-chain clock() (no R overhead:
    # fork, fit object) and nutshell's per-chain thread CPU time.
    nutshell_chain_cpu_s = nrow_nut$chain_cpu_warmup_s + nrow_nut$chain_cpu_sampling_s,
    # nutshell: every gradient evaluation (step-size searches included);
    # Stan: n_leapfrog (its searches are not counted), warmup included.
    nutshell_grads = nrow_nut$density_evals_total, stan_grads = n_leapfrog,
    nutshell_warmup_grads = nrow_nut$grad_evals_warmup, stan_warmup_grads = st$warmup_leapfrog,
    nutshell_divergences = nrow_nut$divergences,
    stan_divergences = sum(sapply(post, function(s) sum(s[, "divergent__"]))),
    nutshell_step_size = nrow_nut$step_size,
    stan_step_size = mean(sapply(post, function(s) s[1, "stepsize__"])),
    nutshell_depth = nrow_nut$mean_tree_depth,
    stan_depth = mean(sapply(post, function(s) mean(s[, "treedepth__"]))),
    posterior_pkg_max_rel_diff = chk)
  cat(sprintf(paste("%-18s seed %d", a, " nutshell: %.2fs, %d grads, ESS %.0f/%.0f, R-hat %.4f, div %d, eps %.3g |",
                    "Stan: %.2fs (chains %.2fs), %d grads, ESS %.0f/%.0f, R-hat %.4f, div %d, eps %.3g\n"),
              p, seed, out$nutshell_wall_s, out$nutshell_grads, out$nutshell_ess_bulk,
              out$nutshell_ess_tail, out$nutshell_rhat, out$nutshell_divergences,
              out$nutshell_step_size, wall, sum(el), n_leapfrog, es$min_ess_bulk,
              es$min_ess_tail, es$max_rhat, out$stan_divergences, out$stan_step_size))
  out
}

seeds <- as.integer(strsplit(opt$seeds, ",")[[1]])
rows <- list()
for (p in posteriors) {
  sm <- model_for(p)
  data <- jsonlite::fromJSON(file.path(folder_of(p), "data.json"), simplifyVector = TRUE)
  for (seed in seeds) {
    nut <- read.csv(pattern(opt$`nutshell-csv`, seed, adaptations[1]), stringsAsFactors = FALSE)
    nrow_nut <- nut[nut$posterior == p, ]
    if (nrow(nrow_nut) != 1) { message("no nutshell row for ", p, " seed ", seed); next }
    st <- run_one(p, seed, nrow_nut, sm, data)
    for (a in adaptations) {
      nut <- read.csv(pattern(opt$`nutshell-csv`, seed, a), stringsAsFactors = FALSE)
      nrow_a <- nut[nut$posterior == p, ]
      if (nrow(nrow_a) != 1) { message("no nutshell row for ", p, " ", a, " seed ", seed); next }
      rows[[length(rows) + 1]] <- compare_one(p, seed, nrow_a, st, a)
    }
  }
}
runs <- do.call(rbind, rows)
write.csv(runs, file.path(opt$`out-dir`, "runs.csv"), row.names = FALSE)

# Per posterior, over seeds: ratios of totals (sum ESS / sum time, sum ESS /
# sum grads), and the spread of the per-seed ESS-per-gradient ratio.
runs_all <- runs
runs <- runs_all[runs_all$adaptation == adaptations[1], ]
agg <- do.call(rbind, lapply(split(runs, runs$posterior), function(r) {
  lr <- log((r$nutshell_ess_bulk / r$nutshell_grads) / (r$stan_ess_bulk / r$stan_grads))
  data.frame(
    posterior = r$posterior[1], metric = r$metric[1], seeds = nrow(r),
    nutshell_ess_per_s = sum(r$nutshell_ess_bulk) / sum(r$nutshell_wall_s),
    stan_ess_per_s = sum(r$stan_ess_bulk) / sum(r$stan_wall_s),
    nutshell_ess_per_cpu_s = sum(r$nutshell_ess_bulk) / sum(r$nutshell_chain_cpu_s),
    stan_ess_per_cpu_s = sum(r$stan_ess_bulk) / sum(r$stan_chain_s),
    nutshell_ess_per_kgrad = 1000 * sum(r$nutshell_ess_bulk) / sum(r$nutshell_grads),
    stan_ess_per_kgrad = 1000 * sum(r$stan_ess_bulk) / sum(r$stan_grads),
    ess_tail_per_grad_ratio = (sum(r$nutshell_ess_tail) / sum(r$nutshell_grads)) /
      (sum(r$stan_ess_tail) / sum(r$stan_grads)),
    log_ratio_se = if (nrow(r) > 1) sd(lr) / sqrt(nrow(r)) else NA_real_,
    nutshell_divergences = sum(r$nutshell_divergences), stan_divergences = sum(r$stan_divergences))
}))
agg <- agg[match(intersect(all_posteriors, agg$posterior), agg$posterior), ]
agg$ess_per_s_ratio <- agg$nutshell_ess_per_s / agg$stan_ess_per_s
agg$ess_per_cpu_s_ratio <- agg$nutshell_ess_per_cpu_s / agg$stan_ess_per_cpu_s
agg$ess_per_grad_ratio <- agg$nutshell_ess_per_kgrad / agg$stan_ess_per_kgrad
write.csv(agg, file.path(opt$`out-dir`, "comparison.csv"), row.names = FALSE)

cat(sprintf("\n%d chains x (%d warmup + %d draws), %d cores, seeds %s, wall times median of %d run(s).\n",
            chains, warmup, draws, cores, opt$seeds, repeats))
cat("ESS = min over coordinates of bulk ESS, by the same program (bazel-bin/benchmarks/ess) for both.\n")
cat("ESS/s: over total wall time (warmup + sampling); Stan's = the sampling() call, R overhead included.\n")
cat("ratio (CPU): ESS per chain-CPU-second, Stan's per-chain clock() vs nutshell's per-chain thread\n")
cat("CPU time (no R overhead, insensitive to other load). grads = n_leapfrog incl. warmup.\n")
cat("Figures pool the seeds (sum ESS / sum time, sum ESS / sum grads); +- is the standard error of\n")
cat("the per-seed ESS/grad ratio.\n\n")
cat("| posterior | metric | seeds | nutshell ESS/s | Stan ESS/s | ratio (wall) | ratio (CPU) | nutshell ESS/kgrad | Stan ESS/kgrad | ESS/grad ratio | tail ESS/grad ratio | divergences n/S |\n")
cat("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
for (i in seq_len(nrow(agg))) with(agg[i, ], cat(sprintf(
  "| %s | %s | %d | %.0f | %.0f | %.1f | %.1f | %.2f | %.2f | %.2f%s | %.2f | %d/%d |\n", posterior, metric,
  seeds, nutshell_ess_per_s, stan_ess_per_s, ess_per_s_ratio, ess_per_cpu_s_ratio,
  nutshell_ess_per_kgrad, stan_ess_per_kgrad, ess_per_grad_ratio,
  if (is.na(log_ratio_se)) "" else sprintf(" +- %.2f", ess_per_grad_ratio * log_ratio_se),
  ess_tail_per_grad_ratio, nutshell_divergences, stan_divergences)))
cat(sprintf("\nposterior package vs the ess tool: max relative difference %.2g\n",
            max(runs$posterior_pkg_max_rel_diff)))

# Every adaptation against Stan, per posterior: medians over seeds of the
# per-seed ratios (same seed, same Stan run).
if (length(adaptations) > 1 || adaptations[1] != "window") {
  per <- do.call(rbind, lapply(split(runs_all, list(runs_all$posterior, runs_all$adaptation), drop = TRUE),
    function(r) {
      ratio <- (r$nutshell_ess_bulk / r$nutshell_grads) / (r$stan_ess_bulk / r$stan_grads)
      data.frame(posterior = r$posterior[1], adaptation = r$adaptation[1], seeds = nrow(r),
                 ratio = median(ratio), lo = min(ratio), hi = max(ratio),
                 warm = median(r$nutshell_warmup_grads / r$stan_warmup_grads),
                 stan_kgrad = 1000 * median(r$stan_ess_bulk / r$stan_grads),
                 nut_kgrad = 1000 * median(r$nutshell_ess_bulk / r$nutshell_grads),
                 rhat = max(r$nutshell_rhat), stan_rhat = max(r$stan_rhat))
    }))
  write.csv(per, file.path(opt$`out-dir`, "adaptations.csv"), row.names = FALSE)
  cat("\nESS per gradient (min bulk ESS / all gradients incl. warmup) relative to Stan",
      unique(runs_all$stan_metric), "of the same seed: median over seeds (min-max);",
      "warmup gradients relative to Stan's (median).\n\n")
  cat("| posterior | Stan ESS/kgrad |", paste(sprintf("%s ESS/grad vs Stan | warmup grads |", adaptations), collapse = " "), "\n")
  cat("|---|---:|", paste(rep("---:|---:|", length(adaptations)), collapse = ""), "\n")
  for (p in intersect(all_posteriors, per$posterior)) {
    cells <- sapply(adaptations, function(a) {
      r <- per[per$posterior == p & per$adaptation == a, ]
      if (nrow(r) == 0) return(" | |")
      sprintf(" %.2f (%.2f-%.2f)%s | %.2f |", r$ratio, r$lo, r$hi,
              if (r$rhat > 1.01) sprintf(" R-hat %.3f", r$rhat) else "", r$warm)
    })
    cat(sprintf("| %s | %.2f |%s\n", p, per$stan_kgrad[per$posterior == p][1], paste(cells, collapse = "")))
  }
  cat("| **median** | |", paste(sapply(adaptations, function(a) {
    r <- per[per$adaptation == a, ]
    sprintf(" **%.2f** | %.2f |", median(r$ratio), median(r$warm))
  }), collapse = ""), "\n")
}
