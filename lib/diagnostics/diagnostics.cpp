#include "nutshell/diagnostics/diagnostics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <vector>

#include <xtensor/xbuilder.hpp>

#include "absl/strings/str_cat.h"
#include "nutshell/diagnostics/moments.hpp"
#include "nutshell/diagnostics/quantile.hpp"
#include "nutshell/diagnostics/special_functions.hpp"
#include "nutshell/diagnostics/transforms.hpp"
#include "nutshell/diagnostics/unchecked.hpp"

namespace nutshell::diagnostics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::span<const double> all_draws(const ChainDraws& x) {
  return {x.data(), x.size()};
}

// posterior's should_return_NA: draws equal to within machine epsilon
// (an absolute tolerance) carry no information about mixing.
bool is_constant(const ChainDraws& x) {
  const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
  return std::abs(*hi - *lo) < std::numeric_limits<double>::epsilon();
}

ChainDraws indicator_below(const ChainDraws& x, double threshold) {
  ChainDraws out(x.shape());
  std::transform(x.begin(), x.end(), out.begin(),
                 [threshold](double v) { return v <= threshold ? 1.0 : 0.0; });
  return out;
}

double ess_quantile_of(const ChainDraws& x, double prob) {
  if (is_constant(x)) return kNaN;
  if (prob == 1.0) {
    const double len = static_cast<double>(x.size());
    prob = (len - 0.5) / len;
  }
  return ess_unchecked(split_chains(indicator_below(x, quantile(all_draws(x), prob))));
}

double ess_tail_of(const ChainDraws& x) {
  const double q05 = ess_quantile_of(x, 0.05);
  const double q95 = ess_quantile_of(x, 0.95);
  if (std::isnan(q05) || std::isnan(q95)) return kNaN;
  return std::min(q05, q95);
}

double mcse_quantile_of(const ChainDraws& x, double prob) {
  const double ess = ess_quantile_of(x, prob);
  if (std::isnan(ess)) return kNaN;
  // posterior's rounded Phi(-1) and Phi(1).
  const double a1 = beta_inc_inv(ess * prob + 1, ess * (1 - prob) + 1, 0.1586553);
  const double a2 = beta_inc_inv(ess * prob + 1, ess * (1 - prob) + 1, 0.8413447);
  const double s = static_cast<double>(x.size());
  const double i1 = std::max(std::floor(a1 * s), 1.0);
  const double i2 = std::min(std::ceil(a2 * s), s);
  // Two order statistics by selection rather than a full sort.
  std::vector<double> v(x.begin(), x.end());
  const auto nth = [&v](double i) {
    const auto it = v.begin() + static_cast<std::ptrdiff_t>(i) - 1;
    std::nth_element(v.begin(), it, v.end());
    return *it;
  };
  const double th1 = nth(i1);
  const double th2 = nth(i2);
  return (th2 - th1) / 2;
}

double mcse_sd_of(const ChainDraws& x) {
  const double m = mean(all_draws(x));
  ChainDraws squared(x.shape());
  std::vector<double> fourth(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double c = x.data()[i] - m;
    squared.data()[i] = c * c;
    fourth[i] = (c * c) * (c * c);
  }
  const double ess = ess_unchecked(split_chains(squared));
  const double e_var = mean(all_draws(squared));
  const double var_var = (mean(fourth) - e_var * e_var) / ess;
  return std::sqrt(var_var / e_var / 4);
}

absl::Status check_prob(double prob) {
  if (!(prob >= 0.0 && prob <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("probability must be in [0, 1], got ", prob));
  }
  return absl::OkStatus();
}

template <class F>
absl::StatusOr<double> on_chains(const ChainDraws& x, F f) {
  if (absl::Status s = validate_draws(x); !s.ok()) return s;
  return f(x);
}

// Applies a [chain, draw] diagnostic to each dimension in turn.
template <class F>
absl::StatusOr<PerDimension> per_dimension(const Draws& x, F f) {
  if (absl::Status s = validate_draws(x); !s.ok()) return s;
  const std::size_t m = x.shape()[0], n = x.shape()[1], d = x.shape()[2];
  PerDimension out = xt::zeros<double>({d});
  ChainDraws slice({m, n});
  for (std::size_t k = 0; k < d; ++k) {
    for (std::size_t i = 0; i < m * n; ++i) slice.data()[i] = x.data()[i * d + k];
    out(k) = f(slice);
  }
  return out;
}

absl::Status validate_shape(std::size_t chains, std::size_t draws) {
  if (chains == 0) return absl::InvalidArgumentError("draws have no chain");
  if (draws < kMinDraws) {
    return absl::InvalidArgumentError(absl::StrCat(
        "diagnostics need at least ", kMinDraws, " draws per chain, got ", draws));
  }
  return absl::OkStatus();
}

absl::Status validate_finite(std::span<const double> x) {
  const auto bad = std::find_if(x.begin(), x.end(),
                                [](double v) { return !std::isfinite(v); });
  if (bad != x.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("draw ", bad - x.begin(), " (flat index) is not finite: ", *bad));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status validate_draws(const ChainDraws& x) {
  if (absl::Status s = validate_shape(x.shape()[0], x.shape()[1]); !s.ok()) return s;
  return validate_finite(all_draws(x));
}

absl::Status validate_draws(const Draws& x) {
  if (absl::Status s = validate_shape(x.shape()[0], x.shape()[1]); !s.ok()) return s;
  if (x.shape()[2] == 0) return absl::InvalidArgumentError("draws have no dimension");
  return validate_finite({x.data(), x.size()});
}

namespace {
double rhat_rank(const ChainDraws& x) {
  const double bulk = rhat_unchecked(z_scale(split_chains(x)));
  const double tail = rhat_unchecked(z_scale(split_chains(fold_draws(x))));
  if (std::isnan(bulk) || std::isnan(tail)) return kNaN;
  return std::max(bulk, tail);
}
double rhat_basic_of(const ChainDraws& x, bool split) {
  return rhat_unchecked(split ? split_chains(x) : x);
}
double ess_bulk_of(const ChainDraws& x) { return ess_unchecked(z_scale(split_chains(x))); }
double ess_basic_of(const ChainDraws& x, bool split) {
  return ess_unchecked(split ? split_chains(x) : x);
}
double mcse_mean_of(const ChainDraws& x) {
  return sd(all_draws(x)) / std::sqrt(ess_unchecked(split_chains(x)));
}
}  // namespace

absl::StatusOr<double> rhat(const ChainDraws& x) { return on_chains(x, rhat_rank); }
absl::StatusOr<PerDimension> rhat(const Draws& x) { return per_dimension(x, rhat_rank); }

absl::StatusOr<double> rhat_basic(const ChainDraws& x, bool split) {
  return on_chains(x, [split](const ChainDraws& c) { return rhat_basic_of(c, split); });
}
absl::StatusOr<PerDimension> rhat_basic(const Draws& x, bool split) {
  return per_dimension(x, [split](const ChainDraws& c) { return rhat_basic_of(c, split); });
}

absl::StatusOr<double> ess_bulk(const ChainDraws& x) { return on_chains(x, ess_bulk_of); }
absl::StatusOr<PerDimension> ess_bulk(const Draws& x) {
  return per_dimension(x, ess_bulk_of);
}

absl::StatusOr<double> ess_tail(const ChainDraws& x) { return on_chains(x, ess_tail_of); }
absl::StatusOr<PerDimension> ess_tail(const Draws& x) {
  return per_dimension(x, ess_tail_of);
}

absl::StatusOr<double> ess_basic(const ChainDraws& x, bool split) {
  return on_chains(x, [split](const ChainDraws& c) { return ess_basic_of(c, split); });
}
absl::StatusOr<PerDimension> ess_basic(const Draws& x, bool split) {
  return per_dimension(x, [split](const ChainDraws& c) { return ess_basic_of(c, split); });
}

absl::StatusOr<double> ess_quantile(const ChainDraws& x, double prob) {
  if (absl::Status s = check_prob(prob); !s.ok()) return s;
  return on_chains(x, [prob](const ChainDraws& c) { return ess_quantile_of(c, prob); });
}
absl::StatusOr<PerDimension> ess_quantile(const Draws& x, double prob) {
  if (absl::Status s = check_prob(prob); !s.ok()) return s;
  return per_dimension(x, [prob](const ChainDraws& c) { return ess_quantile_of(c, prob); });
}

absl::StatusOr<double> mcse_mean(const ChainDraws& x) { return on_chains(x, mcse_mean_of); }
absl::StatusOr<PerDimension> mcse_mean(const Draws& x) {
  return per_dimension(x, mcse_mean_of);
}

absl::StatusOr<double> mcse_sd(const ChainDraws& x) { return on_chains(x, mcse_sd_of); }
absl::StatusOr<PerDimension> mcse_sd(const Draws& x) { return per_dimension(x, mcse_sd_of); }

absl::StatusOr<double> mcse_quantile(const ChainDraws& x, double prob) {
  if (absl::Status s = check_prob(prob); !s.ok()) return s;
  return on_chains(x, [prob](const ChainDraws& c) { return mcse_quantile_of(c, prob); });
}
absl::StatusOr<PerDimension> mcse_quantile(const Draws& x, double prob) {
  if (absl::Status s = check_prob(prob); !s.ok()) return s;
  return per_dimension(x,
                       [prob](const ChainDraws& c) { return mcse_quantile_of(c, prob); });
}

}  // namespace nutshell::diagnostics
