#include "nutshell/diagnostics/unchecked.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <xtensor/xtensor.hpp>

#include "nutshell/diagnostics/autocovariance.hpp"
#include "nutshell/diagnostics/moments.hpp"

namespace nutshell::diagnostics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Smallest and largest of x[0..n), n >= 1, one accumulator per lane in
// blocks of a fixed 8 so GCC's -O2 cost model vectorises the loop (as
// core/vector_ops.hpp's NUTSHELL_SIMD_FOR, which diagnostics, depending on
// nothing of ours, does not include). std::minmax_element returns
// positions and stays scalar; it was a tenth of a convergence check. The
// inputs are finite, so the order of the comparisons cannot change the
// result.
void min_max(const double* __restrict x, std::size_t n, double& lo_out, double& hi_out) {
  constexpr std::size_t kLanes = 8;
  double lo[kLanes], hi[kLanes];
  for (std::size_t l = 0; l < kLanes; ++l) lo[l] = hi[l] = x[0];
  std::size_t base = 0;
  for (; base + kLanes <= n; base += kLanes)
    for (std::size_t l = 0; l < kLanes; ++l) {
      const double v = x[base + l];
      lo[l] = v < lo[l] ? v : lo[l];
      hi[l] = v > hi[l] ? v : hi[l];
    }
  for (std::size_t i = base; i < n; ++i) {
    lo[0] = x[i] < lo[0] ? x[i] : lo[0];
    hi[0] = x[i] > hi[0] ? x[i] : hi[0];
  }
  lo_out = *std::min_element(lo, lo + kLanes);
  hi_out = *std::max_element(hi, hi + kLanes);
}

// Each chain's smallest and largest draw into w.lo / w.hi; true when all
// draws are equal to within machine epsilon, an absolute tolerance
// (posterior's should_return_NA: such draws carry no information about
// mixing).
bool chains_constant(ChainsView x, Workspace& w) {
  w.lo.resize(x.chains);
  w.hi.resize(x.chains);
  for (std::size_t c = 0; c < x.chains; ++c)
    min_max(x.data + c * x.draws, x.draws, w.lo[c], w.hi[c]);
  const double lo = *std::min_element(w.lo.begin(), w.lo.end());
  const double hi = *std::max_element(w.hi.begin(), w.hi.end());
  return std::abs(hi - lo) < std::numeric_limits<double>::epsilon();
}

void moments(ChainsView x, Workspace& w) {
  w.means.resize(x.chains);
  w.variances.resize(x.chains);
  row_moments(x.data, x.chains, x.draws, w.means.data(), w.variances.data());
}

// posterior's .rhat, given the chains' moments.
double rhat_from_moments(ChainsView x, const Workspace& w) {
  const double n = static_cast<double>(x.draws);
  const double var_between = n * variance(w.means);
  const double var_within = mean(w.variances);
  return std::sqrt((var_between / var_within + n - 1) / n);
}

// The chains' mean autocovariance at lag t >= 1, summed directly: each
// chain's sum_i y_i y_{i+t} / n with y = x - chain mean (computed on the
// fly: the same doubles as a centred copy), four partial sums so it
// vectorises, chains summed in order as the FFT path does. A chain whose
// draws are all equal contributes nothing, as in the FFT path.
double direct_lag(ChainsView x, const Workspace& w, std::size_t t) {
  const std::size_t n = x.draws;
  double total = 0.0;
  for (std::size_t c = 0; c < x.chains; ++c) {
    if (w.constant[c]) continue;
    const double* v = x.data + c * n;
    const double mu = w.means[c];
    const std::size_t len = n - t;
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    std::size_t i = 0;
    for (; i + 4 <= len; i += 4) {
      s0 += (v[i] - mu) * (v[i + t] - mu);
      s1 += (v[i + 1] - mu) * (v[i + 1 + t] - mu);
      s2 += (v[i + 2] - mu) * (v[i + 2 + t] - mu);
      s3 += (v[i + 3] - mu) * (v[i + 3 + t] - mu);
    }
    for (; i < len; ++i) s0 += (v[i] - mu) * (v[i + t] - mu);
    total += ((s0 + s1) + (s2 + s3)) / static_cast<double>(n);
  }
  return total / static_cast<double>(x.chains);
}

// posterior's .ess given the chains' moments and min / max: Geyer's initial
// positive sequence on paired autocorrelations, made monotone, with tau
// capped below at 1 / log10(S). The mean autocovariance is computed lazily:
// Geyer's truncation usually stops after a few lags (well-mixing chains),
// where direct sums cost O(n) each against O(n log n) for the FFT of all
// lags. Past kDirectLags lags (slowly mixing chains) it switches to the FFT
// of autocovariance.hpp for every lag, so the cost is never much more than
// the FFT's. The direct sums agree with the FFT to rounding (~1e-15
// relative to lag 0; tests/diagnostics checks that the ESS matches the
// all-FFT computation to 1e-12). Lag 0 is the biased variance computed as
// the FFT path normalises it, so the two agree there.
double ess_from_moments(ChainsView x, Workspace& w) {
  constexpr std::size_t kDirectLags = 32;
  const std::size_t m = x.chains, n = x.draws;
  const double dn = static_cast<double>(n);
  w.constant.resize(m);
  double lag0 = 0.0;
  for (std::size_t c = 0; c < m; ++c) {
    w.constant[c] = w.lo[c] == w.hi[c];
    if (!w.constant[c]) lag0 += w.variances[c] * (dn - 1) / dn;
  }
  w.lags.clear();
  w.lags.push_back(lag0 / static_cast<double>(m));
  bool fft = false;
  auto acov_mean = [&](std::size_t t) {
    if (!fft && t > kDirectLags) {
      xt::xtensor<double, 2> chains = xt::xtensor<double, 2>::from_shape({m, n});
      std::copy(x.data, x.data + m * n, chains.data());
      const xt::xtensor<double, 2> acov = autocovariance(chains);
      w.lags.assign(n, 0.0);
      for (std::size_t c = 0; c < m; ++c)
        for (std::size_t s = 0; s < n; ++s) w.lags[s] += acov(c, s);
      for (double& a : w.lags) a /= static_cast<double>(m);
      fft = true;
    }
    while (w.lags.size() <= t) w.lags.push_back(direct_lag(x, w, w.lags.size()));
    return w.lags[t];
  };
  const double mean_var = acov_mean(0) * dn / (dn - 1);
  double var_plus = mean_var * (dn - 1) / dn;
  if (m > 1) var_plus += variance(w.means);

  std::vector<double>& rho = w.rho;
  rho.assign(n, 0.0);
  auto rho_at = [&](std::size_t t) { return 1 - (mean_var - acov_mean(t)) / var_plus; };
  std::size_t t = 0;
  double rho_even = 1.0, rho_odd = rho_at(1);
  rho[0] = rho_even;
  rho[1] = rho_odd;
  while (t + 5 < n && !std::isnan(rho_even + rho_odd) && rho_even + rho_odd > 0) {
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
      std::accumulate(rho.begin(), rho.begin() + std::max<std::size_t>(max_t, 1), 0.0L);
  double tau = -1 + 2 * static_cast<double>(rho_sum) + rho[max_t];
  tau = std::max(tau, 1 / std::log10(draws));
  return draws / tau;
}

ChainsView view_of(const ChainDraws& x) { return {x.data(), x.shape()[0], x.shape()[1]}; }

}  // namespace

double rhat_unchecked(ChainsView x, Workspace& w) {
  if (chains_constant(x, w)) return kNaN;
  moments(x, w);
  return rhat_from_moments(x, w);
}

double ess_unchecked(ChainsView x, Workspace& w) {
  if (x.draws < 3 || chains_constant(x, w)) return kNaN;
  moments(x, w);
  return ess_from_moments(x, w);
}

RhatEss rhat_ess_unchecked(ChainsView x, Workspace& w) {
  if (chains_constant(x, w)) return {kNaN, kNaN};
  moments(x, w);
  const double rhat = rhat_from_moments(x, w);
  return {rhat, x.draws < 3 ? kNaN : ess_from_moments(x, w)};
}

double rhat_unchecked(const ChainDraws& x) {
  Workspace w;
  return rhat_unchecked(view_of(x), w);
}

double ess_unchecked(const ChainDraws& x) {
  Workspace w;
  return ess_unchecked(view_of(x), w);
}

}  // namespace nutshell::diagnostics
