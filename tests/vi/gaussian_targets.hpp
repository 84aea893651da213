// Gaussian targets with known answers for the VI tests.
#pragma once

#include <cmath>
#include <cstddef>

#include "nutshell/core/types.hpp"

namespace nutshell::vi::testing {

/// log N(x; mean, cov) up to a constant, given the precision matrix.
struct GaussianTarget {
  Vec mean;
  Mat covariance;
  Mat precision;
  double operator()(const Vec& x, Vec& grad) const {
    const std::size_t d = mean.size();
    double lp = 0.0;
    for (std::size_t i = 0; i < d; ++i) {
      double acc = 0.0;
      for (std::size_t j = 0; j < d; ++j) acc += precision(i, j) * (x(j) - mean(j));
      grad(i) = -acc;
      lp -= 0.5 * (x(i) - mean(i)) * acc;
    }
    return lp;
  }
};

/// 10-D diagonal: sds log-spaced from 0.1 to 10, means i - 4.5.
inline GaussianTarget diagonal_10() {
  const std::size_t d = 10;
  GaussianTarget t{Vec::from_shape({d}), xt::zeros<double>({d, d}), xt::zeros<double>({d, d})};
  for (std::size_t i = 0; i < d; ++i) {
    const double sd = std::pow(10.0, -1.0 + 2.0 * static_cast<double>(i) / (d - 1));
    t.mean(i) = static_cast<double>(i) - 4.5;
    t.covariance(i, i) = sd * sd;
    t.precision(i, i) = 1.0 / (sd * sd);
  }
  return t;
}

/// 5-D correlated: sds (1, 2, 0.5, 3, 1.5), correlation 0.6^|i-j|.
inline GaussianTarget correlated_5() {
  const std::size_t d = 5;
  const double sd[d] = {1.0, 2.0, 0.5, 3.0, 1.5};
  GaussianTarget t{Vec::from_shape({d}), Mat::from_shape({d, d}), Mat::from_shape({d, d})};
  for (std::size_t i = 0; i < d; ++i) {
    t.mean(i) = 1.0 - 0.5 * static_cast<double>(i);
    for (std::size_t j = 0; j < d; ++j)
      t.covariance(i, j) =
          sd[i] * sd[j] * std::pow(0.6, std::abs(static_cast<double>(i) - static_cast<double>(j)));
  }
  // Precision by Gauss-Jordan on [C | I] (5 x 5, well conditioned).
  Mat a = t.covariance;
  Mat inv = xt::eye<double>(d);
  for (std::size_t c = 0; c < d; ++c) {
    const double p = a(c, c);
    for (std::size_t j = 0; j < d; ++j) a(c, j) /= p, inv(c, j) /= p;
    for (std::size_t r = 0; r < d; ++r) {
      if (r == c) continue;
      const double f = a(r, c);
      for (std::size_t j = 0; j < d; ++j) a(r, j) -= f * a(c, j), inv(r, j) -= f * inv(c, j);
    }
  }
  t.precision = inv;
  return t;
}

}  // namespace nutshell::vi::testing
