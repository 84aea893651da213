// Mean-field Gaussian VI (Blackjax's meanfield_vi): q = N(mu, diag(exp(rho))^2),
// fitted by Adam on the reparameterised ELBO gradient.
//
//   auto vi = vi::meanfield_vi(logdensity);
//   auto fit = vi.fit(key, initial_position);      // stopping rule: vi_fit.hpp
//   Mat draws = vi::meanfield::sample(key2, fit->state, 1000);
//
// The ELBO gradient of draw z = mu + sigma * eps (eps ~ N(0, I)) comes from
// the log density's gradient g = grad log p(z). With `stl_estimator` (the
// default, Roeder et al. 2017 "sticking the landing") the entropy term is
// replaced by -grad_z log q(z) evaluated with q's parameters held fixed,
// which has the same expectation and zero variance when q equals the target.
#pragma once

#include <cmath>
#include <cstddef>
#include <numbers>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/key.hpp"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/core/types.hpp"
#include "nutshell/vi/adam.hpp"
#include "nutshell/vi/vi_fit.hpp"

namespace nutshell::vi::meanfield {

/// The variational parameters (mean and log standard deviations) and the
/// optimiser's state over [mu, rho].
struct State {
  Vec mu;
  Vec rho;
  AdamState optimizer;
};

/// What one step measured: the Monte Carlo ELBO estimate at the parameters
/// the step started from.
struct Info {
  double elbo = 0.0;
};

/// Tunables of every step.
struct Options {
  std::size_t num_samples = 50;  ///< Monte Carlo draws per gradient estimate
  bool stl_estimator = true;     ///< sticking-the-landing gradient (see above)
  AdamOptions optimizer;
  double initial_log_scale = 0.0;  ///< rho at init (sigma = exp of it)
};

/// q centred at `position` with every sd exp(initial_log_scale). Errors: a
/// non-finite position, or a log density or gradient not finite there.
template <LogDensity F>
absl::StatusOr<State> init(const Vec& position, F& logdensity, const Options& options = {}) {
  if (position.size() == 0) return absl::InvalidArgumentError("meanfield_vi: empty position");
  if (!all_finite(position)) return absl::InvalidArgumentError("meanfield_vi: position not finite");
  Vec grad = xt::zeros<double>({position.size()});
  auto lp = evaluate(logdensity, position, grad);
  if (!lp.ok()) return lp.status();
  if (!std::isfinite(*lp) || !all_finite(grad))
    return absl::InvalidArgumentError(
        "meanfield_vi: the log density or its gradient is not finite at the initial position");
  const std::size_t d = position.size();
  return State{position, xt::zeros<double>({d}) + options.initial_log_scale, adam_init(2 * d)};
}

/// log q(z) for z = mu + sigma * eps, given eps.
inline double log_q(const State& state, const Vec& eps) {
  const double d = static_cast<double>(eps.size());
  return -0.5 * xt::sum(eps * eps)() - xt::sum(state.rho)() -
         0.5 * d * std::log(2.0 * std::numbers::pi);
}

/// The Monte Carlo ELBO estimate at `state` with `options.num_samples`
/// draws (draw s uses fold_in(key, s)); writes the gradient of the negative
/// ELBO with respect to [mu, q's scale parameters] into `grad`. Errors: a log
/// density that throws, or a non-finite log density, gradient or ELBO at a
/// draw of q (q has wandered where the target is not defined, or the
/// learning rate is too large).
template <LogDensity F>
absl::StatusOr<double> elbo_gradient(const Key& key, const State& state, F& logdensity,
                                     const Options& options, Vec& grad) {
  const std::size_t d = state.mu.size();
  if (options.num_samples == 0) return absl::InvalidArgumentError("meanfield_vi: num_samples = 0");
  Vec eps = Vec::from_shape({d}), z = Vec::from_shape({d}), g = Vec::from_shape({d});
  grad = xt::zeros<double>({2 * d});  // gradient of the negative ELBO over [mu, rho]
  const Vec sigma = xt::exp(state.rho);
  double elbo = 0.0;
  for (std::size_t s = 0; s < options.num_samples; ++s) {
    normal(fold_in(key, s), eps);
    z = state.mu + sigma * eps;
    auto lp = evaluate(logdensity, z, g);
    if (!lp.ok()) return lp.status();
    if (!std::isfinite(*lp) || !all_finite(g))
      return absl::InvalidArgumentError(
          "meanfield_vi: non-finite log density or gradient at a draw of q (non-finite ELBO)");
    elbo += *lp - log_q(state, eps);
    for (std::size_t i = 0; i < d; ++i) {
      const double h = options.stl_estimator ? g(i) + eps(i) / sigma(i) : g(i);
      grad(i) -= h;
      grad(d + i) -= h * eps(i) * sigma(i);
    }
  }
  const double n = static_cast<double>(options.num_samples);
  grad /= n;
  if (!options.stl_estimator) xt::view(grad, xt::range(d, 2 * d)) -= 1.0;  // entropy = sum rho
  elbo /= n;
  if (!std::isfinite(elbo)) return absl::InvalidArgumentError("meanfield_vi: non-finite ELBO");
  return elbo;
}

/// One Adam step on the ELBO with `options.num_samples` draws (draw s uses
/// fold_in(key, s)). Errors: a log density that throws, or a non-finite log
/// density, gradient or ELBO at a draw of q (q has wandered where the target
/// is not defined, or the step size is too large).
template <LogDensity F>
absl::StatusOr<Transition<State, Info>> step(const Key& key, State state, F& logdensity,
                                             const Options& options) {
  Vec grad;
  auto elbo = elbo_gradient(key, state, logdensity, options, grad);
  if (!elbo.ok()) return elbo.status();
  const std::size_t d = state.mu.size();
  Vec params = xt::concatenate(xt::xtuple(state.mu, state.rho));
  state.optimizer = adam_update(std::move(state.optimizer), grad, params, options.optimizer);
  state.mu = xt::view(params, xt::range(0, d));
  state.rho = xt::view(params, xt::range(d, 2 * d));
  return Transition<State, Info>{std::move(state), Info{*elbo}};
}

/// `num_samples` draws of q, one per row (row r uses fold_in(key, r)).
inline Mat sample(const Key& key, const State& state, std::size_t num_samples) {
  const std::size_t d = state.mu.size();
  Mat out = Mat::from_shape({num_samples, d});
  Vec eps = Vec::from_shape({d});
  const Vec sigma = xt::exp(state.rho);
  for (std::size_t r = 0; r < num_samples; ++r) {
    normal(fold_in(key, r), eps);
    xt::view(out, r, xt::all()) = state.mu + sigma * eps;
  }
  return out;
}

/// The fitted variances exp(2 rho).
inline Vec variances(const State& state) { return xt::exp(2.0 * state.rho); }

/// Mean-field VI bound to a log density and options (Blackjax's VIAlgorithm).
/// Holds the log density by value (wrap it in std::ref to share one).
template <LogDensity F>
struct Algorithm {
  F logdensity;
  Options options;
  absl::StatusOr<State> init(const Vec& position) {
    return meanfield::init(position, logdensity, options);
  }
  absl::StatusOr<Transition<State, Info>> step(const Key& key, State state) {
    return meanfield::step(key, std::move(state), logdensity, options);
  }
  Mat sample(const Key& key, const State& state, std::size_t n) const {
    return meanfield::sample(key, state, n);
  }
  /// init at `position`, then steps until the stopping rule fires.
  absl::StatusOr<FitResult<State>> fit(const Key& key, const Vec& position,
                                       const FitOptions& fit_options = {}) {
    auto state = init(position);
    if (!state.ok()) return state.status();
    return run_fit(key, *std::move(state),
                   [this](const Key& k, State s) { return step(k, std::move(s)); }, fit_options);
  }
};

}  // namespace nutshell::vi::meanfield

namespace nutshell::vi {
/// Mean-field Gaussian VI on `logdensity` (see meanfield::Algorithm).
template <class F>
meanfield::Algorithm<std::decay_t<F>> meanfield_vi(F&& logdensity, meanfield::Options options = {}) {
  return {std::forward<F>(logdensity), std::move(options)};
}
}  // namespace nutshell::vi
