// Adam (Kingma and Ba 2015) as a pure state/update pair: the stochastic
// optimiser of Gaussian VI. Small enough that a dependency is not worth it.
#pragma once

#include <cmath>
#include <cstddef>

#include "nutshell/core/types.hpp"

namespace nutshell::vi {

/// Adam's constants. The defaults are the paper's, except the learning rate,
/// which VI usually wants larger than 1e-3 to converge in a few hundred steps.
struct AdamOptions {
  double learning_rate = 0.05;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
};

/// Adam's moment estimates: a plain value, one per parameter vector.
struct AdamState {
  Vec m;                  ///< first-moment (mean) estimate of the gradient
  Vec v;                  ///< second-moment (uncentred variance) estimate
  std::size_t count = 0;  ///< updates taken so far (for the bias correction)
};

/// A fresh Adam state for `dim` parameters.
inline AdamState adam_init(std::size_t dim) {
  return AdamState{xt::zeros<double>({dim}), xt::zeros<double>({dim}), 0};
}

/// One Adam step that *descends* `grad` (the gradient of a loss, e.g. the
/// negative ELBO): updates `params` in place and returns the new state.
/// `grad` and `params` must have the state's size; allocates nothing.
inline AdamState adam_update(AdamState state, const Vec& grad, Vec& params,
                             const AdamOptions& options) {
  state.count += 1;
  const double t = static_cast<double>(state.count);
  const double c1 = 1.0 - std::pow(options.beta1, t);
  const double c2 = 1.0 - std::pow(options.beta2, t);
  for (std::size_t i = 0; i < params.size(); ++i) {
    state.m(i) = options.beta1 * state.m(i) + (1.0 - options.beta1) * grad(i);
    state.v(i) = options.beta2 * state.v(i) + (1.0 - options.beta2) * grad(i) * grad(i);
    const double m_hat = state.m(i) / c1, v_hat = state.v(i) / c2;
    params(i) -= options.learning_rate * m_hat / (std::sqrt(v_hat) + options.epsilon);
  }
  return state;
}

}  // namespace nutshell::vi
