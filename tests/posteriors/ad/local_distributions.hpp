// A density the distributions module does not offer yet, written here over
// double and ad::var with one tape node (ad::precomputed): Stan's
// bernoulli_logit_glm_lpmf. (A candidate to move into nutshell/distributions/.)
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <type_traits>

#include "nutshell/ad/ad.hpp"
#include "nutshell/ad/vector_kernels.hpp"

namespace nutshell::posteriors {

/// sum_i log Bernoulli(y_i | inv_logit(alpha + X_i . beta)), X data (rows x K).
template <class T>
T bernoulli_logit_glm_lpmf(std::span<const double> y, ad::MatrixView<const double> X,
                           const T& alpha, std::span<const T> beta) {
  if constexpr (!std::is_same_v<T, double> && !ad::is_var_v<T> && !std::is_same_v<T, ad::dual>) {
    // Nested scalars (fvar<var>, Hessian-vector products): written out.
    T lp = 0.0;
    for (std::size_t i = 0; i < X.rows; ++i) {
      const T eta = alpha + ad::dot(beta, X.row(i));
      lp += y[i] * eta - ad::log1p_exp(eta);
    }
    return lp;
  }
  const std::size_t n = X.rows, k = X.cols;
  double* partials = ad::arena_alloc<double>(k + 1);  // d/dalpha, d/dbeta
  double* b = ad::arena_alloc<double>(k);             // beta's values, read once
  double* eta = ad::arena_alloc<double>(n);
  double* r = ad::arena_alloc<double>(n);
  for (std::size_t j = 0; j < k; ++j) b[j] = ad::value_of(beta[j]);
  // eta = alpha + X beta; lp = y . eta - sum log(1 + exp(eta)); r = y - inv_logit(eta);
  // d/dalpha = sum r, d/dbeta = X^T r. ad's SIMD kernels do the loops.
  ad::kernels::gemv(X.data, n, k, b, eta);
  const double a0 = ad::value_of(alpha);
  double y_eta = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    eta[i] += a0;
    y_eta += y[i] * eta[i];
  }
  const double lp = y_eta - ad::kernels::sum_log1p_exp(eta, n, r);
  double sum_r = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    r[i] = y[i] - r[i];
    sum_r += r[i];
  }
  partials[0] = sum_r;
  for (std::size_t j = 0; j < k; ++j) partials[j + 1] = 0.0;
  ad::kernels::gemv_t_add(X.data, n, k, r, partials + 1);
  if constexpr (ad::is_var_v<T>) {
    ad::var* operands = ad::arena_alloc<ad::var>(k + 1);
    operands[0] = alpha;
    for (std::size_t j = 0; j < k; ++j) operands[j + 1] = beta[j];
    return ad::precomputed(lp, std::span<const ad::var>(operands, k + 1),
                           std::span<const double>(partials, k + 1));
  } else if constexpr (std::is_same_v<T, ad::dual>) {
    // Forward mode: the partials times the tangents.
    double tangent = partials[0] * alpha.d_;
    for (std::size_t j = 0; j < k; ++j) tangent += partials[j + 1] * beta[j].d_;
    return ad::dual(lp, tangent);
  } else {
    return lp;
  }
}

}  // namespace nutshell::posteriors
