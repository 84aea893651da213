// The tempered target log prior(x) + beta * log likelihood(x) that the
// mutation kernels of tempered SMC leave invariant.
#pragma once

#include <cmath>
#include <limits>
#include <utility>

#include "nutshell/core/logdensity.hpp"
#include "nutshell/core/types.hpp"

namespace nutshell::smc {

/// log prior + beta * log likelihood with its gradient: a LogDensity (and a
/// LogDensityValue, for gradient-free mutation kernels). Owns copies of the
/// prior and likelihood and a gradient buffer, so each thread uses its own
/// copy. At beta = 0 the likelihood is not evaluated (so a likelihood that
/// is -inf somewhere the prior is not never yields 0 * inf).
template <LogDensity Prior, LogDensity Likelihood>
class TemperedDensity {
 public:
  TemperedDensity(Prior prior, Likelihood likelihood, double beta = 0.0)
      : prior_(std::move(prior)), likelihood_(std::move(likelihood)), beta_(beta) {}

  /// log prior(x) + beta log likelihood(x); the gradient into `grad`.
  double operator()(const Vec& x, Vec& grad) {
    const double lp = prior_(x, grad);
    if (beta_ == 0.0 || !(lp > -std::numeric_limits<double>::infinity())) return lp;
    ensure_size(scratch_, x.size());
    const double ll = likelihood_(x, scratch_);
    for (std::size_t i = 0; i < x.size(); ++i) grad(i) += beta_ * scratch_(i);
    return lp + beta_ * ll;
  }
  /// Value-only form (the gradient goes to an internal buffer).
  double operator()(const Vec& x) {
    ensure_size(value_grad_, x.size());
    return (*this)(x, value_grad_);
  }
  /// The log likelihood alone (its gradient into `grad`).
  double loglikelihood(const Vec& x, Vec& grad) { return likelihood_(x, grad); }
  /// The log prior alone (its gradient into `grad`).
  double logprior(const Vec& x, Vec& grad) { return prior_(x, grad); }

  double beta() const { return beta_; }
  void set_beta(double beta) { beta_ = beta; }

 private:
  Prior prior_;
  Likelihood likelihood_;
  double beta_ = 0.0;
  Vec scratch_, value_grad_;
};

}  // namespace nutshell::smc
