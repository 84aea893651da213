#include "nutshell/diagnostics/diagnostics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <span>
#include <vector>

#include <xtensor/xbuilder.hpp>

#include "absl/strings/str_cat.h"
#include "nutshell/diagnostics/autocovariance.hpp"
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
std::span<const double> chain(const ChainDraws& x, std::size_t c) {
  const std::size_t n = x.shape()[1];
  return {x.data() + c * n, n};
}

// posterior's should_return_NA: draws equal to within machine epsilon
// (an absolute tolerance) carry no information about mixing.
bool is_constant(const ChainDraws& x) {
  const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
  return std::abs(*hi - *lo) < std::numeric_limits<double>::epsilon();
}

// posterior's .rhat: the potential scale reduction of (possibly split,
// possibly transformed) chains.
double rhat_of(const ChainDraws& x) {
  if (is_constant(x)) return kNaN;
  const std::size_t m = x.shape()[0];
  const double n = static_cast<double>(x.shape()[1]);
  std::vector<double> chain_var(m), means(m);
  row_moments(x.data(), m, x.shape()[1], means.data(), chain_var.data());
  const double var_between = n * variance(means);
  const double var_within = mean(chain_var);
  return std::sqrt((var_between / var_within + n - 1) / n);
}

// posterior's .ess: Geyer's initial positive sequence on paired
// autocorrelations, made monotone, with tau capped below at 1 / log10(S).
// The chains' mean autocovariance at each lag, computed lazily: Geyer's
// truncation usually stops after a few lags (well-mixing chains), where
// direct sums over the lags in use cost O(n) each against O(n log n) for
// the FFT of all lags. Past kDirectLags lags (slowly mixing chains) it
// switches to the FFT of autocovariance.hpp for every lag, so the cost is
// never much more than the FFT's. The direct sums agree with the FFT to
// rounding (~1e-15 relative to lag 0; tests/diagnostics checks that the
// ESS matches the all-FFT computation to 1e-12). Lag 0 is the biased
// variance computed as the FFT path normalises it, so the two agree there.
class MeanAutocovariance {
 public:
  static constexpr std::size_t kDirectLags = 32;

  // `means` and `variances`: mean() and variance() of each chain.
  MeanAutocovariance(const ChainDraws& x, const std::vector<double>& means,
                     const std::vector<double>& variances)
      : x_(x), m_(x.shape()[0]), n_(x.shape()[1]), centred_(x.size()), constant_(m_) {
    const double dn = static_cast<double>(n_);
    values_.reserve(kDirectLags + 2);
    double lag0 = 0.0;
    for (std::size_t c = 0; c < m_; ++c) {
      const std::span<const double> v = chain(x, c);
      const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
      constant_[c] = *lo == *hi;
      const double mu = means[c];
      double* y = centred_.data() + c * n_;
      for (std::size_t i = 0; i < n_; ++i) y[i] = v[i] - mu;
      if (!constant_[c]) lag0 += variances[c] * (dn - 1) / dn;
    }
    values_.push_back(lag0 / static_cast<double>(m_));
  }

  double operator()(std::size_t t) {
    if (!fft_.empty()) return fft_[t];
    if (t > kDirectLags) {
      use_fft();
      return fft_[t];
    }
    while (values_.size() <= t) values_.push_back(direct(values_.size()));
    return values_[t];
  }

 private:
  // Sum over chains (in chain order, as the FFT path) of each chain's
  // sum_i y_i y_{i+t} / n, with four partial sums so it vectorises.
  double direct(std::size_t t) const {
    double total = 0.0;
    for (std::size_t c = 0; c < m_; ++c) {
      if (constant_[c]) continue;
      const double* y = centred_.data() + c * n_;
      const std::size_t len = n_ - t;
      double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
      std::size_t i = 0;
      for (; i + 4 <= len; i += 4) {
        s0 += y[i] * y[i + t];
        s1 += y[i + 1] * y[i + 1 + t];
        s2 += y[i + 2] * y[i + 2 + t];
        s3 += y[i + 3] * y[i + 3 + t];
      }
      for (; i < len; ++i) s0 += y[i] * y[i + t];
      total += ((s0 + s1) + (s2 + s3)) / static_cast<double>(n_);
    }
    return total / static_cast<double>(m_);
  }

  void use_fft() {
    const xt::xtensor<double, 2> acov = autocovariance(x_);
    fft_.assign(n_, 0.0);
    for (std::size_t c = 0; c < m_; ++c) {
      for (std::size_t t = 0; t < n_; ++t) fft_[t] += acov(c, t);
    }
    for (double& a : fft_) a /= static_cast<double>(m_);
  }

  const ChainDraws& x_;
  std::size_t m_, n_;
  std::vector<double> centred_;
  std::vector<char> constant_;
  std::vector<double> values_;
  std::vector<double> fft_;
};

double ess_of(const ChainDraws& x) {
  const std::size_t m = x.shape()[0], n = x.shape()[1];
  if (n < 3 || is_constant(x)) return kNaN;
  // Every chain's mean and variance in one interleaved pass (moments.hpp).
  std::vector<double> means(m), variances(m);
  row_moments(x.data(), m, n, means.data(), variances.data());
  MeanAutocovariance acov_mean(x, means, variances);
  const double dn = static_cast<double>(n);
  const double mean_var = acov_mean(0) * dn / (dn - 1);
  double var_plus = mean_var * (dn - 1) / dn;
  if (m > 1) var_plus += variance(means);

  std::vector<double> rho(n, 0.0);
  auto rho_at = [&](std::size_t t) {
    return 1 - (mean_var - acov_mean(t)) / var_plus;
  };
  std::size_t t = 0;
  double rho_even = 1.0, rho_odd = rho_at(1);
  rho[0] = rho_even;
  rho[1] = rho_odd;
  while (t + 5 < n && !std::isnan(rho_even + rho_odd) &&
         rho_even + rho_odd > 0) {
    t += 2;
    rho_even = rho_at(t);
    rho_odd = rho_at(t + 1);
    if (rho_even + rho_odd >= 0) {
      rho[t] = rho_even;
      rho[t + 1] = rho_odd;
    }
  }
  const std::size_t max_t = t;
  if (rho_even > 0) rho[max_t] = rho_even;
  // Initial monotone sequence: pair sums may not increase.
  for (t = 2; t + 2 <= max_t; t += 2) {
    if (rho[t] + rho[t + 1] > rho[t - 2] + rho[t - 1]) {
      rho[t] = (rho[t - 2] + rho[t - 1]) / 2;
      rho[t + 1] = rho[t];
    }
  }
  const double draws = static_cast<double>(m * n);
  // R's sum(rho[1:max_t]) includes rho[1] even when max_t is 0 (1:0).
  const long double rho_sum =
      std::accumulate(rho.begin(), rho.begin() + std::max<std::size_t>(max_t, 1),
                      0.0L);
  double tau = -1 + 2 * static_cast<double>(rho_sum) + rho[max_t];
  tau = std::max(tau, 1 / std::log10(draws));
  return draws / tau;
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
  return ess_of(split_chains(indicator_below(x, quantile(all_draws(x), prob))));
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
  const double ess = ess_of(split_chains(squared));
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
  const double bulk = rhat_of(z_scale(split_chains(x)));
  const double tail = rhat_of(z_scale(split_chains(fold_draws(x))));
  if (std::isnan(bulk) || std::isnan(tail)) return kNaN;
  return std::max(bulk, tail);
}
double rhat_basic_of(const ChainDraws& x, bool split) {
  return rhat_of(split ? split_chains(x) : x);
}
double ess_bulk_of(const ChainDraws& x) { return ess_of(z_scale(split_chains(x))); }
double ess_basic_of(const ChainDraws& x, bool split) {
  return ess_of(split ? split_chains(x) : x);
}
double mcse_mean_of(const ChainDraws& x) {
  return sd(all_draws(x)) / std::sqrt(ess_of(split_chains(x)));
}
}  // namespace

double rhat_unchecked(const ChainDraws& x) { return rhat_of(x); }
double ess_unchecked(const ChainDraws& x) { return ess_of(x); }

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
