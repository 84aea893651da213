// Random draws from the multivariate families, into caller-owned spans
// (nothing allocated), as pure functions of a key.
//
// Matrices are row-major spans of dim * dim doubles; a Cholesky factor is
// lower-triangular (its upper triangle is never read).
#pragma once

#include <cmath>
#include <span>
#include <string>

#include "nutshell/core/key.hpp"
#include "nutshell/distributions/checks.hpp"
#include "nutshell/distributions/rng_continuous.hpp"

namespace nutshell::distributions {

/// Fills `out` (size K) with a draw from Dirichlet(alpha) (size K >= 1,
/// alpha_k > 0), normalising log-gamma draws so that small concentrations do
/// not give 0 / 0.
inline void dirichlet_rng(const Key& key, std::span<const double> alpha, std::span<double> out) {
  if (alpha.empty() || out.size() != alpha.size())
    detail::throw_size("dirichlet_rng", "alpha must be non-empty and out the same size");
  for (double a : alpha) detail::check_positive_finite("dirichlet_rng", "concentration", a);
  Stream s(key);
  double m = -std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; k < alpha.size(); ++k) {
    out[k] = detail::log_gamma_draw(s, alpha[k]);
    m = std::max(m, out[k]);
  }
  double total = 0.0;
  for (double& x : out) total += (x = std::exp(x - m));
  for (double& x : out) x /= total;
}

/// Fills `out` (size dim) with a draw from MultiNormal(mu, L L^T): mu + L z.
/// L is a lower-triangular dim x dim row-major Cholesky factor with a
/// positive diagonal.
inline void multi_normal_cholesky_rng(const Key& key, std::span<const double> mu,
                                      std::span<const double> L, std::span<double> out) {
  const std::size_t d = mu.size();
  if (L.size() != d * d || out.size() != d)
    detail::throw_size("multi_normal_cholesky_rng", "L must be dim x dim and out of size dim");
  for (double m : mu) detail::check_finite("multi_normal_cholesky_rng", "location", m);
  for (std::size_t i = 0; i < d; ++i)
    detail::check_positive_finite("multi_normal_cholesky_rng", "Cholesky diagonal", L[i * d + i]);
  // z in `out` first, then overwrite from the bottom row up (row i of L z
  // reads z_0..z_i only).
  normal(key, out);
  for (std::size_t i = d; i-- > 0;) {
    double acc = 0.0;
    for (std::size_t j = 0; j <= i; ++j) acc += L[i * d + j] * out[j];
    out[i] = mu[i] + acc;
  }
}

/// Fills `L` (dim x dim row-major, dim = sqrt(L.size())) with the Cholesky
/// factor of a correlation matrix drawn from LKJ(eta), eta > 0, by the C-vine
/// method (Lewandowski, Kurowicka and Joe 2009): the partial correlation of
/// (i, j) given 0..i-1 is 2 Beta(b_i, b_i) - 1 with b_i = eta + (dim-2-i)/2,
/// and each row of L is built from its row's partial correlations.
inline void lkj_corr_cholesky_rng(const Key& key, double eta, std::span<double> L) {
  detail::check_positive_finite("lkj_corr_cholesky_rng", "shape", eta);
  std::size_t d = 0;
  while (d * d < L.size()) ++d;
  if (d == 0 || d * d != L.size()) detail::throw_size("lkj_corr_cholesky_rng", "L must be dim x dim");
  for (double& x : L) x = 0.0;
  L[0] = 1.0;
  // Row j: L_j0 = c_0j, L_ji = c_ij * prod_{k<i} sqrt(1 - c_kj^2), and the
  // diagonal takes the remaining length so the row has unit norm.
  for (std::size_t j = 1; j < d; ++j) {
    double remaining = 1.0;  // prod_{k<i} (1 - c_kj^2)
    for (std::size_t i = 0; i < j; ++i) {
      const double b = eta + 0.5 * static_cast<double>(d - 2 - i);
      const double c = 2.0 * beta_rng(fold_in(key, j * d + i), b, b) - 1.0;
      L[j * d + i] = c * std::sqrt(remaining);
      remaining *= 1.0 - c * c;
    }
    L[j * d + j] = std::sqrt(remaining);
  }
}

}  // namespace nutshell::distributions
