// Full-rank Gaussian VI (Blackjax's fullrank_vi): q = N(mu, L L^T) with L
// lower triangular, its diagonal on the log scale so that L stays invertible;
// fitted by Adam on the reparameterised ELBO gradient (see meanfield_vi.hpp
// for the estimator; here z = mu + L eps and grad_z log q(z) = -L^{-T} eps).
#pragma once

#include <cmath>
#include <cstddef>
#include <numbers>

#include "absl/status/statusor.h"
#include "nutshell/core/key.hpp"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/core/types.hpp"
#include "nutshell/vi/adam.hpp"
#include "nutshell/vi/vi_fit.hpp"

namespace nutshell::vi::fullrank {

/// The variational parameters and the optimiser's state over [mu, chol_params].
/// `chol_params` packs L's lower triangle row by row (entry (i, j), j <= i,
/// at i(i+1)/2 + j), with log L_ii in place of the diagonal.
struct State {
  Vec mu;
  Vec chol_params;
  AdamState optimizer;
};

/// What one step measured: the ELBO estimate at the starting parameters.
struct Info {
  double elbo = 0.0;
};

/// Tunables of every step (as meanfield::Options).
struct Options {
  std::size_t num_samples = 50;
  bool stl_estimator = true;
  AdamOptions optimizer;
  double initial_log_scale = 0.0;  ///< L = exp(initial_log_scale) I at init
};

namespace detail {
inline std::size_t packed(std::size_t i, std::size_t j) { return i * (i + 1) / 2 + j; }
}  // namespace detail

/// The Cholesky factor L of q's covariance.
inline Mat cholesky(const State& state) {
  const std::size_t d = state.mu.size();
  Mat l = xt::zeros<double>({d, d});
  for (std::size_t i = 0; i < d; ++i) {
    for (std::size_t j = 0; j < i; ++j) l(i, j) = state.chol_params(detail::packed(i, j));
    l(i, i) = std::exp(state.chol_params(detail::packed(i, i)));
  }
  return l;
}

/// q's covariance L L^T.
inline Mat covariance(const State& state) {
  const Mat l = cholesky(state);
  const std::size_t d = l.shape(0);
  Mat c = xt::zeros<double>({d, d});
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = 0; j < d; ++j)
      for (std::size_t k = 0; k <= std::min(i, j); ++k) c(i, j) += l(i, k) * l(j, k);
  return c;
}

/// q centred at `position` with covariance exp(2 initial_log_scale) I.
/// Errors as meanfield::init.
template <LogDensity F>
absl::StatusOr<State> init(const Vec& position, F& logdensity, const Options& options = {}) {
  if (position.size() == 0) return absl::InvalidArgumentError("fullrank_vi: empty position");
  if (!all_finite(position)) return absl::InvalidArgumentError("fullrank_vi: position not finite");
  Vec grad = xt::zeros<double>({position.size()});
  auto lp = evaluate(logdensity, position, grad);
  if (!lp.ok()) return lp.status();
  if (!std::isfinite(*lp) || !all_finite(grad))
    return absl::InvalidArgumentError(
        "fullrank_vi: the log density or its gradient is not finite at the initial position");
  const std::size_t d = position.size(), p = d * (d + 1) / 2;
  Vec chol = xt::zeros<double>({p});
  for (std::size_t i = 0; i < d; ++i) chol(detail::packed(i, i)) = options.initial_log_scale;
  return State{position, std::move(chol), adam_init(d + p)};
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
  const std::size_t d = state.mu.size(), p = d * (d + 1) / 2;
  if (options.num_samples == 0) return absl::InvalidArgumentError("fullrank_vi: num_samples = 0");
  const Mat l = cholesky(state);
  double log_det = 0.0;
  for (std::size_t i = 0; i < d; ++i) log_det += std::log(l(i, i));
  const double log_norm = 0.5 * static_cast<double>(d) * std::log(2.0 * std::numbers::pi);
  Vec eps = Vec::from_shape({d}), z = Vec::from_shape({d}), g = Vec::from_shape({d});
  Vec h = Vec::from_shape({d}), w = Vec::from_shape({d});
  grad = xt::zeros<double>({d + p});  // gradient of the negative ELBO
  double elbo = 0.0;
  for (std::size_t s = 0; s < options.num_samples; ++s) {
    normal(fold_in(key, s), eps);
    for (std::size_t i = 0; i < d; ++i) {
      double zi = state.mu(i);
      for (std::size_t j = 0; j <= i; ++j) zi += l(i, j) * eps(j);
      z(i) = zi;
    }
    auto lp = evaluate(logdensity, z, g);
    if (!lp.ok()) return lp.status();
    if (!std::isfinite(*lp) || !all_finite(g))
      return absl::InvalidArgumentError(
          "fullrank_vi: non-finite log density or gradient at a draw of q (non-finite ELBO)");
    elbo += *lp - (-0.5 * xt::sum(eps * eps)() - log_det - log_norm);
    h = g;
    if (options.stl_estimator) {
      // w = L^{-T} eps by back substitution; h = g - grad_z log q = g + w.
      for (std::size_t ii = d; ii-- > 0;) {
        double acc = eps(ii);
        for (std::size_t k = ii + 1; k < d; ++k) acc -= l(k, ii) * w(k);
        w(ii) = acc / l(ii, ii);
      }
      h += w;
    }
    for (std::size_t i = 0; i < d; ++i) {
      grad(i) -= h(i);
      for (std::size_t j = 0; j < i; ++j) grad(d + detail::packed(i, j)) -= h(i) * eps(j);
      grad(d + detail::packed(i, i)) -= h(i) * eps(i) * l(i, i);  // chain rule through exp
    }
  }
  const double n = static_cast<double>(options.num_samples);
  grad /= n;
  if (!options.stl_estimator)  // entropy = sum log L_ii: d/d(log L_ii) = 1
    for (std::size_t i = 0; i < d; ++i) grad(d + detail::packed(i, i)) -= 1.0;
  elbo /= n;
  if (!std::isfinite(elbo)) return absl::InvalidArgumentError("fullrank_vi: non-finite ELBO");
  return elbo;
}

/// One Adam step on the ELBO (draw s uses fold_in(key, s)). Errors as
/// meanfield::step.
template <LogDensity F>
absl::StatusOr<Transition<State, Info>> step(const Key& key, State state, F& logdensity,
                                             const Options& options) {
  Vec grad;
  auto elbo = elbo_gradient(key, state, logdensity, options, grad);
  if (!elbo.ok()) return elbo.status();
  const std::size_t d = state.mu.size(), p = state.chol_params.size();
  Vec params = xt::concatenate(xt::xtuple(state.mu, state.chol_params));
  state.optimizer = adam_update(std::move(state.optimizer), grad, params, options.optimizer);
  state.mu = xt::view(params, xt::range(0, d));
  state.chol_params = xt::view(params, xt::range(d, d + p));
  return Transition<State, Info>{std::move(state), Info{*elbo}};
}

/// `num_samples` draws of q, one per row (row r uses fold_in(key, r)).
inline Mat sample(const Key& key, const State& state, std::size_t num_samples) {
  const std::size_t d = state.mu.size();
  const Mat l = cholesky(state);
  Mat out = Mat::from_shape({num_samples, d});
  Vec eps = Vec::from_shape({d});
  for (std::size_t r = 0; r < num_samples; ++r) {
    normal(fold_in(key, r), eps);
    for (std::size_t i = 0; i < d; ++i) {
      double zi = state.mu(i);
      for (std::size_t j = 0; j <= i; ++j) zi += l(i, j) * eps(j);
      out(r, i) = zi;
    }
  }
  return out;
}

/// Full-rank VI bound to a log density and options (Blackjax's VIAlgorithm).
template <LogDensity F>
struct Algorithm {
  F logdensity;
  Options options;
  absl::StatusOr<State> init(const Vec& position) {
    return fullrank::init(position, logdensity, options);
  }
  absl::StatusOr<Transition<State, Info>> step(const Key& key, State state) {
    return fullrank::step(key, std::move(state), logdensity, options);
  }
  Mat sample(const Key& key, const State& state, std::size_t n) const {
    return fullrank::sample(key, state, n);
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

}  // namespace nutshell::vi::fullrank

namespace nutshell::vi {
/// Full-rank Gaussian VI on `logdensity` (see fullrank::Algorithm).
template <class F>
fullrank::Algorithm<std::decay_t<F>> fullrank_vi(F&& logdensity, fullrank::Options options = {}) {
  return {std::forward<F>(logdensity), std::move(options)};
}
}  // namespace nutshell::vi
