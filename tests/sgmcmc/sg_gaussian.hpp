// A data set whose posterior is a given independent Gaussian, for testing
// stochastic-gradient kernels against closed forms.
//
// Rows y_i in R^d, i = 1..N, centred so their mean is exactly 0; datum
// log-likelihood -(y_ij - theta_j)^2 / (2 N s_j^2) and a flat prior give the
// posterior N(0, diag(s^2)) exactly. The minibatch estimate of the gradient
// is then -theta_j / s_j^2 + xi_j with xi_j = mean over the batch of
// y_ij / s_j^2: noise independent of theta, of mean 0, and variance
// (sampling n of N without replacement)
//   V_j = pop_var_j / n * (N - n) / (N - 1) / s_j^4,   pop_var_j = mean_i y_ij^2.
// Drawing with replacement would drop the finite-population factor, so the
// variance tests also check that batches have distinct rows.
#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

#include "nutshell/core/key.hpp"
#include "nutshell/sgmcmc/gradient_estimator.hpp"
#include "nutshell/core/types.hpp"

namespace nutshell::testing {

class GaussianData {
 public:
  /// N rows of d = sd.size() columns, y_ij = spread * sd_j * r_ij (r standard
  /// normal from `key`), then centred.
  GaussianData(const Vec& sd, std::size_t rows, double spread, const Key& key)
      : sd_(sd), n_rows_(rows), y_(rows * sd.size()) {
    const std::size_t d = sd.size();
    Stream draws(key);
    std::vector<double> mean(d, 0.0);
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < d; ++j) {
        y_[i * d + j] = spread * sd(j) * draws.normal();
        mean[j] += y_[i * d + j] / static_cast<double>(rows);
      }
    pop_var_ = Vec::from_shape({d});
    pop_var_.fill(0.0);
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < d; ++j) {
        y_[i * d + j] -= mean[j];
        pop_var_(j) += y_[i * d + j] * y_[i * d + j] / static_cast<double>(rows);
      }
  }

  std::size_t rows() const { return n_rows_; }
  std::size_t dim() const { return sd_.size(); }
  const Vec& sd() const { return sd_; }

  /// The per-datum gradient (adds into grad).
  auto datum_gradient() const {
    return [this](const Vec& theta, std::size_t i, Vec& grad) {
      const std::size_t d = sd_.size();
      const double n = static_cast<double>(n_rows_);
      for (std::size_t j = 0; j < d; ++j)
        grad(j) += (y_[i * d + j] - theta(j)) / (n * sd_(j) * sd_(j));
    };
  }

  /// Variance of the minibatch gradient noise xi_j for batches of `batch`.
  double noise_variance(std::size_t j, std::size_t batch) const {
    const double n = static_cast<double>(batch), big_n = static_cast<double>(n_rows_);
    const double s2 = sd_(j) * sd_(j);
    return pop_var_(j) / n * (big_n - n) / (big_n - 1.0) / (s2 * s2);
  }

 private:
  Vec sd_;
  std::size_t n_rows_;
  std::vector<double> y_;
  Vec pop_var_;
};

}  // namespace nutshell::testing
