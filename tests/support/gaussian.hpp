// Gaussian targets with known answers, for statistical tests.
#pragma once

#include <cmath>
#include <stdexcept>

#include "nutshell/core/types.hpp"

namespace nutshell::testing {

/// N(mean, covariance) as a differentiable log density (full constant
/// included). Counts its evaluations, so tests can check gradient budgets.
class Gaussian {
 public:
  /// The precision and the log normalising constant are computed here, in
  /// gaussian.cpp, so the tests including this header do not parse
  /// xtensor-blas.
  Gaussian(Vec mean, Mat covariance);
  /// Independent coordinates with the given standard deviations, mean zero.
  static Gaussian independent(const Vec& sd) {
    const std::size_t n = sd.size();
    Mat cov = xt::zeros<double>({n, n});
    for (std::size_t i = 0; i < n; ++i) cov(i, i) = sd(i) * sd(i);
    return Gaussian(xt::zeros<double>({n}), cov);
  }
  /// The 2-D correlated Gaussian of Blackjax's MCSE test: loc (0, 3),
  /// scales (1, 2), correlation 0.75.
  static Gaussian correlated_2d() {
    Mat cov = {{1.0, 0.75 * 2.0}, {0.75 * 2.0, 4.0}};
    return Gaussian(Vec{0.0, 3.0}, cov);
  }
  /// 10-D independent Gaussian with standard deviations log-spaced 0.1..10.
  static Gaussian scales_10d() {
    Vec sd = Vec::from_shape({10});
    for (std::size_t i = 0; i < 10; ++i) sd(i) = std::pow(10.0, -1.0 + 2.0 * i / 9.0);
    return independent(sd);
  }

  double operator()(const Vec& x, Vec& grad) {
    ++evaluations;
    const std::size_t n = mean_.size();
    if (x.size() != n) throw std::invalid_argument("Gaussian: wrong dimension");
    for (std::size_t i = 0; i < n; ++i) diff_(i) = x(i) - mean_(i);
    double q = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      double row = 0.0;
      for (std::size_t j = 0; j < n; ++j) row += precision_(i, j) * diff_(j);
      grad(i) = -row;
      q += diff_(i) * row;
    }
    return log_norm_ - 0.5 * q;
  }
  double operator()(const Vec& x) { return (*this)(x, scratch_grad_); }

  const Vec& mean() const { return mean_; }
  const Mat& covariance() const { return cov_; }
  std::size_t dim() const { return mean_.size(); }
  long evaluations = 0;

 private:
  Vec mean_;
  Mat cov_;
  Mat precision_;
  double log_norm_ = 0.0;
  Vec diff_;
  Vec scratch_grad_;
};

}  // namespace nutshell::testing
