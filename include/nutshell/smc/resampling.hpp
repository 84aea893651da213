// Resampling schemes: each draws `out.size()` ancestor indices from
// normalised-or-not weights, a pure function of the key and the weights
// (Blackjax's `resampling.systematic(key, weights, num_samples)` etc.).
// All four are unbiased: the expected number of copies of particle i is
// M * w_i / sum(w). Systematic and stratified have lower variance than
// multinomial; residual copies floor(M w_i) deterministically and draws the
// remainder multinomially. The `_into` forms allocate nothing.
#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/key.hpp"

namespace nutshell::smc {

/// The resampling schemes.
enum class Resampling { kSystematic, kStratified, kMultinomial, kResidual };

namespace detail {

// Sum of the weights after checking they are finite, >= 0 and not all zero.
inline absl::StatusOr<double> checked_total(std::span<const double> w, std::size_t m) {
  if (w.empty()) return absl::InvalidArgumentError("resampling: no weights");
  if (m == 0) return absl::InvalidArgumentError("resampling: zero samples requested");
  double total = 0.0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (!std::isfinite(w[i]) || w[i] < 0.0)
      return absl::InvalidArgumentError(
          absl::StrCat("resampling: weight ", i, " is ", w[i], " (must be finite and >= 0)"));
    total += w[i];
  }
  if (!(total > 0.0)) return absl::InvalidArgumentError("resampling: every weight is zero");
  return total;
}

// Index of the last positive weight: where rounding at the top of the
// cumulative sum must land, never on a zero-weight particle.
inline std::size_t last_positive(std::span<const double> w) {
  std::size_t last = 0;
  for (std::size_t i = 0; i < w.size(); ++i)
    if (w[i] > 0.0) last = i;
  return last;
}

// Given increasing points in [0, 1), writes the inverse-CDF index of each.
// `point(k)` must be non-decreasing in k.
template <class PointFn>
void inverse_cdf(std::span<const double> w, double total, PointFn point, std::span<std::size_t> out) {
  const std::size_t last = last_positive(w);
  std::size_t j = 0;
  double cum = w[0] / total;
  for (std::size_t k = 0; k < out.size(); ++k) {
    const double u = point(k);
    while (j < last && (u >= cum || w[j] == 0.0)) cum += w[++j] / total;
    out[k] = j;
  }
}

inline absl::Status multinomial_unchecked(const Key& key, std::span<const double> w, double total,
                                          std::span<std::size_t> out) {
  // Sorted uniforms from normalised exponential spacings: O(N + M), no sort.
  const std::size_t m = out.size();
  Stream s(key);
  double sum = 0.0;
  for (std::size_t k = 0; k <= m; ++k) sum += s.exponential();
  Stream again(key);  // replay the same spacings, now cumulating
  double acc = 0.0;
  inverse_cdf(
      w, total,
      [&](std::size_t) {
        acc += again.exponential();
        return acc / sum;
      },
      out);
  return absl::OkStatus();
}

}  // namespace detail

/// Systematic resampling: one uniform u, points (u + k) / M.
inline absl::Status systematic_into(const Key& key, std::span<const double> weights,
                                    std::span<std::size_t> out) {
  auto total = detail::checked_total(weights, out.size());
  if (!total.ok()) return total.status();
  const double u = uniform(key);
  const double m = static_cast<double>(out.size());
  detail::inverse_cdf(weights, *total, [&](std::size_t k) { return (u + k) / m; }, out);
  return absl::OkStatus();
}

/// Stratified resampling: one uniform per stratum, points (u_k + k) / M.
inline absl::Status stratified_into(const Key& key, std::span<const double> weights,
                                    std::span<std::size_t> out) {
  auto total = detail::checked_total(weights, out.size());
  if (!total.ok()) return total.status();
  Stream s(key);
  const double m = static_cast<double>(out.size());
  detail::inverse_cdf(weights, *total, [&](std::size_t k) { return (s.uniform() + k) / m; }, out);
  return absl::OkStatus();
}

/// Multinomial resampling: M independent draws from the weights (returned
/// in increasing index order).
inline absl::Status multinomial_into(const Key& key, std::span<const double> weights,
                                     std::span<std::size_t> out) {
  auto total = detail::checked_total(weights, out.size());
  if (!total.ok()) return total.status();
  return detail::multinomial_unchecked(key, weights, *total, out);
}

/// Residual resampling: floor(M w_i) copies of each particle, the remaining
/// R draws multinomial on the residual weights M w_i - floor(M w_i).
/// `scratch` holds the N residual weights (resized if needed).
inline absl::Status residual_into(const Key& key, std::span<const double> weights,
                                  std::span<std::size_t> out, std::vector<double>& scratch) {
  auto total = detail::checked_total(weights, out.size());
  if (!total.ok()) return total.status();
  const std::size_t n = weights.size(), m = out.size();
  scratch.resize(n);
  std::size_t filled = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double expected = static_cast<double>(m) * weights[i] / *total;
    std::size_t copies = static_cast<std::size_t>(std::floor(expected));
    if (filled + copies > m) copies = m - filled;  // rounding guard
    for (std::size_t c = 0; c < copies; ++c) out[filled++] = i;
    scratch[i] = std::max(0.0, expected - static_cast<double>(copies));
  }
  if (filled == m) return absl::OkStatus();
  double residual_total = 0.0;
  for (double r : scratch) residual_total += r;
  if (!(residual_total > 0.0)) {  // only rounding left: top up from the weights
    return detail::multinomial_unchecked(key, weights, *total, out.subspan(filled));
  }
  return detail::multinomial_unchecked(key, scratch, residual_total, out.subspan(filled));
}

/// Dispatches to the scheme `method` (scratch is used by residual only).
inline absl::Status resample_into(Resampling method, const Key& key, std::span<const double> weights,
                                  std::span<std::size_t> out, std::vector<double>& scratch) {
  switch (method) {
    case Resampling::kSystematic:
      return systematic_into(key, weights, out);
    case Resampling::kStratified:
      return stratified_into(key, weights, out);
    case Resampling::kMultinomial:
      return multinomial_into(key, weights, out);
    case Resampling::kResidual:
      return residual_into(key, weights, out, scratch);
  }
  return absl::InvalidArgumentError("unknown resampling method");
}

/// `num_samples` ancestor indices drawn by `method` (allocating form).
inline absl::StatusOr<std::vector<std::size_t>> resample(Resampling method, const Key& key,
                                                         std::span<const double> weights,
                                                         std::size_t num_samples) {
  std::vector<std::size_t> out(num_samples);
  std::vector<double> scratch;
  if (auto s = resample_into(method, key, weights, out, scratch); !s.ok()) return s;
  return out;
}

}  // namespace nutshell::smc
