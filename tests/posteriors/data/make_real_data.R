# The four real-data benchmark posteriors (issue 13): writes data.json,
# reference.json and check_points.json next to each model.stan.
#
#   Rscript tests/posteriors/data/make_real_data.R [name,...] [--data-only]
#
# Data: R's own `datasets` package (mtcars, stackloss, ChickWeight,
# warpbreaks), the classic small datasets, written as Stan JSON.
# Reference: rstan 2.21.7, 4 chains x 10000 draws after 2000 warmup,
# adapt_delta 0.95, dense_e (the two regressions are correlated: a dense
# metric makes the long run efficient), seed 777; summaries by the
# `posterior` package, the same fields as ../../../../shared/posteriors/*/
# reference.json. Check points: Stan's log_prob / grad_log_prob at the last
# draw of chain 1 and at two uniform(-2, 2) points.
suppressPackageStartupMessages({ library(rstan); library(jsonlite); library(posterior) })
if (!file.exists(rstan_options("boost_lib")) && file.exists("/usr/include/boost/version.hpp"))
  rstan_options(boost_lib = "/usr/include")
args <- commandArgs(trailingOnly = TRUE)
here <- normalizePath(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
data_only <- "--data-only" %in% args
args <- setdiff(args, "--data-only")
all <- c("mtcars_uncentred", "stackloss_t", "chickweight_hier", "warpbreaks_pln")
which <- if (length(args)) strsplit(args[1], ",")[[1]] else all

make_data <- function(name) {
  if (name == "mtcars_uncentred") {
    X <- as.matrix(mtcars[, c("disp", "hp", "drat", "wt", "qsec")])
    return(list(N = nrow(X), K = ncol(X), X = unname(X), y = mtcars$mpg))
  }
  if (name == "stackloss_t") {
    X <- as.matrix(stackloss[, c("Air.Flow", "Water.Temp", "Acid.Conc.")])
    return(list(N = nrow(X), K = ncol(X), X = unname(X), y = stackloss$stack.loss))
  }
  if (name == "chickweight_hier") {
    cw <- as.data.frame(ChickWeight)
    chick <- as.integer(as.character(cw$Chick))  # the chick's number, 1..50
    return(list(N = nrow(cw), J = max(chick), chick = chick, time = cw$Time,
                y = round(log(cw$weight), 10)))
  }
  if (name == "warpbreaks_pln") {
    X <- model.matrix(~ wool * tension, warpbreaks)
    return(list(N = nrow(X), K = ncol(X), X = unname(X[, ]), y = warpbreaks$breaks))
  }
  stop("unknown posterior ", name)
}

for (name in which) {
  dir <- file.path(here, name)
  d <- make_data(name)
  writeLines(toJSON(d, auto_unbox = TRUE, digits = NA, matrix = "rowmajor", pretty = FALSE),
             file.path(dir, "data.json"))
  if (data_only) next
  sm <- stan_model(file.path(dir, "model.stan"), model_name = name)
  fit <- sampling(sm, data = d, chains = 4, iter = 12000, warmup = 2000, seed = 777,
                  cores = 2, refresh = 0,
                  control = list(adapt_delta = 0.95, metric = "dense_e", max_treedepth = 12))
  arr <- as.array(fit)
  pars <- fit@model_pars
  positive <- c("sigma", "tau_a", "tau_b", "tau")
  summarise <- function(a) {
    s <- summarise_draws(as_draws_array(a), mean, sd, mcse_mean, mcse_sd,
                         ~quantile(.x, probs = c(0.05, 0.5, 0.95)), ess_bulk, ess_tail, rhat)
    lapply(seq_len(nrow(s)), function(i) list(
      name = s$variable[i], mean = s$mean[i], sd = s$sd[i], mcse_mean = s$mcse_mean[i],
      mcse_sd = s$mcse_sd[i], q05 = s$`5%`[i], q50 = s$`50%`[i], q95 = s$`95%`[i],
      ess_bulk = s$ess_bulk[i], ess_tail = s$ess_tail[i], rhat = s$rhat[i]))
  }
  vars <- summarise(arr)
  for (i in seq_along(vars))
    vars[[i]]$block <- if (vars[[i]]$name == "lp__") "" else "parameters"
  pos <- dimnames(arr)[[3]][dimnames(arr)[[3]] %in% positive]
  la <- log(arr[, , pos, drop = FALSE])
  dimnames(la)[[3]] <- paste0("log_", pos)
  sp <- get_sampler_params(fit, inc_warmup = FALSE)
  all_s <- summarise_draws(as_draws_array(arr))
  ref <- list(
    posterior = name,
    source = "rstan 2.21.7 NUTS (dense_e), 4 chains x 10000 draws after 2000 warmup, adapt_delta = 0.95, max_treedepth 12, seed = 777 (tests/posteriors/data/make_real_data.R)",
    note = "mean/sd/quantiles are Monte Carlo estimates on the constrained scale; mcse_mean/mcse_sd are their Monte Carlo standard errors (posterior package). 'unconstrained' gives the same for log of positive parameters.",
    diagnostics = list(divergences = sum(sapply(sp, function(s) sum(s[, "divergent__"]))),
                       max_rhat = max(all_s$rhat), min_ess_bulk = min(all_s$ess_bulk),
                       min_ess_tail = min(all_s$ess_tail), warnings = list()),
    variables = vars, unconstrained = summarise(la))
  writeLines(toJSON(ref, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(dir, "reference.json"))
  # Check points: unconstrained coordinates in Stan's order.
  n_u <- get_num_upars(fit)
  set.seed(13)
  ex <- extract(fit)
  one <- lapply(ex[setdiff(names(ex), "lp__")], function(v) if (is.null(dim(v)) || length(dim(v)) == 1) v[40000] else v[40000, ])
  u_draw <- unconstrain_pars(fit, one)
  points <- list(list(label = "posterior draw (last of the pooled draws)", u = u_draw))
  for (k in 1:2) points[[length(points) + 1]] <- list(label = sprintf("uniform(-2, 2) point %d", k),
                                                      u = runif(n_u, -2, 2))
  for (k in seq_along(points)) {
    u <- points[[k]]$u
    points[[k]]$lp <- log_prob(fit, u, adjust_transform = TRUE)
    points[[k]]$grad <- as.numeric(grad_log_prob(fit, u, adjust_transform = TRUE))
    points[[k]]$lp_without_jacobian <- log_prob(fit, u, adjust_transform = FALSE)
  }
  fn <- setdiff(fit@sim$fnames_oi, "lp__")
  fn <- ifelse(fn %in% positive, paste0("log_", fn), fn)
  cps <- list(posterior = name, coordinates = fn, note = "u in Stan's unconstrained order; lp = log_prob(u) with the Jacobian; rstan 2.21.7",
              max_abs_err_lp_R = 0, max_abs_err_grad_R = 0, points = points)
  writeLines(toJSON(cps, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(dir, "check_points.json"))
  cat(sprintf("%s: max R-hat %.4f, min ESS bulk %.0f, divergences %d\n", name, ref$diagnostics$max_rhat,
              ref$diagnostics$min_ess_bulk, ref$diagnostics$divergences))
}
