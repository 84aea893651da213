// Pareto-smoothed importance sampling and the generalized Pareto fit.
#include "nutshell/vi/psis.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace nutshell::vi {

absl::StatusOr<GeneralizedPareto> fit_generalized_pareto(Vec x) {
  const std::size_t n = x.size();
  if (n < 5) return absl::InvalidArgumentError("generalized Pareto fit: fewer than 5 values");
  for (double v : x)
    if (!(v >= 0.0) || !std::isfinite(v))
      return absl::InvalidArgumentError("generalized Pareto fit: a negative or non-finite value");
  std::sort(x.begin(), x.end());
  const double nd = static_cast<double>(n);
  const double prior = 3.0;
  const std::size_t m = 30 + static_cast<std::size_t>(std::floor(std::sqrt(nd)));
  const double x_star = x(static_cast<std::size_t>(std::floor(nd / 4.0 + 0.5)) - 1);  // first quartile
  if (!(x(n - 1) > 0.0) || !(x_star > 0.0))
    return absl::InvalidArgumentError("generalized Pareto fit: degenerate values");
  // Profile log likelihood of theta = -k / sigma on Zhang and Stephens' grid.
  std::vector<double> theta(m), log_lik(m);
  for (std::size_t j = 0; j < m; ++j) {
    theta[j] = 1.0 / x(n - 1) +
               (1.0 - std::sqrt(static_cast<double>(m) / (static_cast<double>(j) + 0.5))) /
                   (prior * x_star);
    double k = 0.0;
    for (double v : x) k += std::log1p(-theta[j] * v);
    k /= nd;
    log_lik[j] = nd * (std::log(-theta[j] / k) - k - 1.0);
  }
  const double top = *std::max_element(log_lik.begin(), log_lik.end());
  double total = 0.0, theta_hat = 0.0;
  for (std::size_t j = 0; j < m; ++j) total += std::exp(log_lik[j] - top);
  for (std::size_t j = 0; j < m; ++j) theta_hat += theta[j] * std::exp(log_lik[j] - top) / total;
  double k = 0.0;
  for (double v : x) k += std::log1p(-theta_hat * v);
  k /= nd;
  const double sigma = -k / theta_hat;
  // The weakly informative prior of the PSIS paper: shrink toward 0.5.
  k = k * nd / (nd + 10.0) + 10.0 * 0.5 / (nd + 10.0);
  if (!std::isfinite(k) || !std::isfinite(sigma) || !(sigma > 0.0))
    return absl::InvalidArgumentError("generalized Pareto fit: no finite fit");
  return GeneralizedPareto{k, sigma};
}

double psis_k_threshold(std::size_t num_draws) {
  return std::min(1.0 - 1.0 / std::log10(static_cast<double>(num_draws)), 0.7);
}

absl::StatusOr<PsisResult> psis(const Vec& log_ratios) {
  const std::size_t s = log_ratios.size();
  double top = -std::numeric_limits<double>::infinity();
  for (double r : log_ratios) {
    if (std::isnan(r)) return absl::InvalidArgumentError("psis: a NaN log ratio");
    top = std::max(top, r);
  }
  if (!std::isfinite(top)) return absl::InvalidArgumentError("psis: no finite log ratio");
  PsisResult out;
  out.log_weights = log_ratios - top;  // largest is 0
  out.k_hat = std::nan("");
  const double sd = static_cast<double>(s);
  const std::size_t m =
      static_cast<std::size_t>(std::ceil(std::min(0.2 * sd, 3.0 * std::sqrt(sd))));
  if (m >= 5 && m < s) {
    std::vector<std::size_t> order(s);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return out.log_weights(a) < out.log_weights(b); });
    const double cutoff = out.log_weights(order[s - m - 1]);
    if (std::isfinite(cutoff)) {
      const double exp_cutoff = std::exp(cutoff);
      Vec tail = Vec::from_shape({m});
      for (std::size_t z = 0; z < m; ++z)
        tail(z) = std::exp(out.log_weights(order[s - m + z])) - exp_cutoff;
      auto fit = fit_generalized_pareto(tail);
      if (fit.ok()) {
        out.k_hat = fit->k;
        out.tail_length = m;
        for (std::size_t z = 0; z < m; ++z) {
          const double p = (static_cast<double>(z) + 0.5) / static_cast<double>(m);
          // GPD quantile sigma ((1 - p)^-k - 1) / k (the k -> 0 limit is exponential).
          const double q = std::abs(fit->k) < 1e-12
                               ? -fit->sigma * std::log1p(-p)
                               : fit->sigma * std::expm1(-fit->k * std::log1p(-p)) / fit->k;
          out.log_weights(order[s - m + z]) = std::min(0.0, std::log(q + exp_cutoff));
        }
      }
    }
  }
  double total = 0.0;
  for (double w : out.log_weights) total += std::exp(w);
  out.log_weights -= std::log(total);
  return out;
}

}  // namespace nutshell::vi
