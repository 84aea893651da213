# Writes the fixtures tests/diagnostics/diagnostics_test.cpp compares against:
# fixed draw sets and what R's `posterior` computes for them, so the C++
# diagnostics are checked against the reference implementation without
# needing R at test time.
#
#   Rscript tools/make_diagnostics_fixtures.R   (from the repository root)
#
# Draws are stored as integers k with a per-case power-of-two scale
# (x = k * 2^scale_log2), which both R and C++ turn into the identical
# doubles; posterior's values are computed on exactly those doubles and
# written with 17 significant digits. posterior's NA is written as null.

suppressPackageStartupMessages(library(posterior))

out_dir <- file.path("tests", "diagnostics", "fixtures")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

num <- function(v) {
  ifelse(is.na(v), "null", sprintf("%.17g", v))
}
json_array <- function(v) paste0("[", paste(num(v), collapse = ","), "]")

ar1 <- function(n, phi, sd = 1) {
  x <- numeric(n)
  x[1] <- rnorm(1, 0, sd / sqrt(1 - phi^2))
  for (i in 2:n) x[i] <- phi * x[i - 1] + rnorm(1, 0, sd)
  x
}

# Each generator returns an array [chain, draw, dim].
set.seed(20240611)
cases <- list()
add_case <- function(name, x, scale_log2 = -20) {
  k <- round(x * 2^-scale_log2)
  stopifnot(all(abs(k) < 2^53))
  cases[[length(cases) + 1]] <<- list(name = name, k = k, scale_log2 = scale_log2,
                                     x = k * 2^scale_log2)
}

x <- array(0, c(4, 200, 3))
x[, , 1] <- rnorm(800)
x[, , 2] <- 5 + 0.1 * rnorm(800)
x[, , 3] <- -3 + 10 * rnorm(800)
add_case("iid_normal", x)

x <- array(0, c(4, 300, 1))
for (c in 1:4) x[c, , 1] <- ar1(300, 0.95)
add_case("ar1_strong", x)

x <- array(0, c(4, 200, 1))
for (c in 1:4) x[c, , 1] <- ar1(200, -0.9)
add_case("ar1_antithetic", x)  # ESS above S: exercises the cap

x <- array(rnorm(400), c(4, 100, 1))
x[2, , 1] <- x[2, , 1] + 2
add_case("shifted_mean", x)

x <- array(rt(602, df = 2), c(2, 301, 1))
add_case("heavy_tailed_odd", x, scale_log2 = -16)

x <- array(0, c(3, 101, 2))
for (c in 1:3) {
  x[c, , 1] <- ar1(101, 0.5)
  x[c, , 2] <- exp(ar1(101, 0.3))
}
add_case("odd_draws", x)

add_case("one_chain", array(ar1(150, 0.7), c(1, 150, 1)))

add_case("ties_poisson", array(rpois(400, 3), c(4, 100, 1)), scale_log2 = 0)

x <- array(0, c(2, 20, 2))
x[, , 1] <- 1.5
x[, , 2] <- rnorm(40)
add_case("constant_dim", x)

x <- array(rnorm(400), c(4, 100, 1))
x[3, , 1] <- 0.25
add_case("stuck_chain", x)

add_case("short_7", array(rnorm(14), c(2, 7, 1)))
add_case("short_5", array(rnorm(10), c(2, 5, 1)))

stat <- function(m) {
  q <- function(p) unname(quantile(m, p))
  suppressWarnings(list(
    rhat = rhat(m),
    rhat_basic = rhat_basic(m),
    rhat_basic_nosplit = rhat_basic(m, split = FALSE),
    ess_bulk = ess_bulk(m),
    ess_tail = ess_tail(m),
    ess_basic = ess_basic(m),
    ess_basic_nosplit = ess_basic(m, split = FALSE),
    ess_q5 = unname(ess_quantile(m, 0.05)),
    ess_q50 = unname(ess_quantile(m, 0.5)),
    ess_q95 = unname(ess_quantile(m, 0.95)),
    ess_q100 = unname(ess_quantile(m, 1)),
    mcse_mean = mcse_mean(m),
    mcse_sd = mcse_sd(m),
    mcse_q5 = unname(mcse_quantile(m, 0.05)),
    mcse_q50 = unname(mcse_quantile(m, 0.5)),
    mcse_q95 = unname(mcse_quantile(m, 0.95)),
    mean = mean(m),
    sd = sd(m),
    median = median(m),
    q5 = q(0.05),
    q95 = q(0.95)
  ))
}

case_json <- function(case) {
  d <- dim(case$x)
  per_dim <- lapply(seq_len(d[3]), function(j) {
    # posterior takes [draw, chain] matrices.
    stat(t(matrix(case$x[, , j], nrow = d[1], ncol = d[2])))
  })
  keys <- names(per_dim[[1]])
  expected <- vapply(keys, function(key) {
    sprintf("\"%s\":%s", key, json_array(vapply(per_dim, `[[`, 0, key)))
  }, "")
  extra <- ""
  if (case$name == "ar1_strong") {
    acov <- posterior:::autocovariance(case$x[1, , 1])
    extra <- sprintf(",\"autocovariance_chain0\":%s", json_array(acov))
  }
  sprintf(paste0("{\"name\":\"%s\",\"shape\":[%d,%d,%d],\"scale_log2\":%d,",
                 "\"draws\":[%s],\"expected\":{%s}%s}"),
          case$name, d[1], d[2], d[3], case$scale_log2,
          # Row-major [chain, draw, dim] order.
          paste(sprintf("%.0f", as.vector(aperm(case$k, 3:1))), collapse = ","),
          paste(expected, collapse = ","), extra)
}

writeLines(c("{\"posterior_version\":\"", as.character(packageVersion("posterior")),
             "\",\"cases\":[", paste(vapply(cases, case_json, ""), collapse = ",\n"),
             "]}"),
           file.path(out_dir, "posterior_cases.json"), sep = "")

# Special functions on the arguments the diagnostics use them with.
p_norm <- c(1e-300, 1e-20, 1e-10, 1e-5, 0.001, 0.0123, 0.075, 0.1, 0.3, 0.425,
            0.5, 0.6, 0.9, 0.925, 0.99, 1 - 1e-9, (1:50 - 3 / 8) / (50 + 1 / 4))
beta <- expand.grid(ess = c(2.5, 10, 57.3, 400, 1234.5, 4000, 14400),
                    prob = c(0.05, 0.5, 0.95),
                    p = c(0.1586553, 0.8413447))
beta$a <- beta$ess * beta$prob + 1
beta$b <- beta$ess * (1 - beta$prob) + 1
extra <- data.frame(a = c(0.5, 2, 7.5, 300, 1e4, 3), b = c(0.5, 5, 1.2, 40, 2e4, 3000),
                    p = c(0.3, 0.01, 0.99, 0.5, 0.7, 0.2))
a <- c(beta$a, extra$a)
b <- c(beta$b, extra$b)
p <- c(beta$p, extra$p)
qb <- qbeta(p, a, b)
writeLines(sprintf(paste0("{\"qnorm\":{\"p\":%s,\"q\":%s},\n",
                          "\"qbeta\":{\"a\":%s,\"b\":%s,\"p\":%s,\"x\":%s}}"),
                   json_array(p_norm), json_array(qnorm(p_norm)),
                   json_array(a), json_array(b), json_array(p), json_array(qb)),
           file.path(out_dir, "special_functions.json"))
