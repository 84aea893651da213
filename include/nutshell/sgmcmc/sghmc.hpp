// Stochastic gradient Hamiltonian Monte Carlo (Chen, Fox and Guestrin 2014).
//
// Each transition draws a fresh momentum p ~ N(0, T M) and takes
// `num_integration_steps` steps of the discretised underdamped Langevin
// diffusion with friction alpha and a minibatch gradient g_hat:
//   theta <- theta + h M^-1 p
//   p     <- (1 - alpha h) p + h g_hat(theta) + sqrt(h T (2 alpha - h T beta)) n,  n ~ N(0, M)
// with Blackjax's parameterisation of the friction and noise
// (`sgmcmc.diffusions.sghmc`, alpha and beta scaled as in Ma et al. 2015) and
// defaults alpha = 0.01, beta = 0, 10 steps; beta estimates the gradient
// noise, which the injected noise then leaves out. No Metropolis correction.
//
// One deliberate difference from Blackjax: the gradient is evaluated at the
// *updated* position, as in Chen et al.'s Algorithm 2. Blackjax evaluates it
// at the position before the update, which makes its step explicit Euler for
// the Hamiltonian part: on a Gaussian with scale s the map then grows energy
// by (1 + h^2/s^2) per step, against (1 - alpha h)^2 of friction, so it is
// stable only for h below about alpha s^2 (1e-4 for s = 0.1 at the default
// alpha). Evaluating after the move makes it symplectic Euler, stable up to
// h = 2 s, at the same cost of one gradient per step. Its stationary law on
// that Gaussian with exact gradients is known in closed form (the tests check
// it). The momentum is drawn with variance T (Blackjax draws N(0, I) at any
// temperature); the two agree at T = 1.
//
//   sghmc::init(position)                        -> State {position, step}
//   sghmc::build_kernel(alpha, beta)             -> Kernel; kernel(key, state, estimator, params)
//   sghmc::sampler(estimator, params, kernel)    -> bundle with .init / .step
#pragma once

#include <cmath>
#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/key.hpp"
#include "nutshell/core/metric.hpp"
#include "nutshell/sgmcmc/gradient_estimator.hpp"
#include "nutshell/core/validation.hpp"

namespace nutshell::sghmc {

using State = sgmcmc::State;

/// Tunables of an SGHMC transition.
template <sgmcmc::StepSizeSchedule S = sgmcmc::ConstantStepSize>
struct Params {
  S step_size{};
  int num_integration_steps = 10;
  double temperature = 1.0;
  /// Constant mass matrix (as an inverse); none is the identity, as Blackjax.
  std::optional<Metric> inverse_mass_matrix{};
};

/// What happened in one transition.
struct Info {
  double step_size = 0.0;     ///< the scheduled step size used
  bool is_divergent = false;  ///< the trajectory went non-finite; the state was kept
};

/// Scratch reused across transitions (allocation-free in steady state).
struct Workspace {
  sgmcmc::BatchWorkspace batch;
  Vec momentum;
  Vec grad;
  Vec noise;
  Vec velocity;
  /// Sizes every buffer for `dim`; a no-op once sized, so it never allocates
  /// in steady state.
  void resize(std::size_t dim) {
    ensure_size(momentum, dim);
    ensure_size(grad, dim);
    ensure_size(noise, dim);
    ensure_size(velocity, dim);
  }
};

/// A validated starting state: the momentum is not part of it, since every
/// transition redraws it.
inline absl::StatusOr<State> init(const Vec& position) { return sgmcmc::init_state(position); }

/// The SGHMC transition for a given friction (alpha) and gradient-noise
/// estimate (beta), the structural options of Blackjax's `build_kernel`.
struct Kernel {
  using State = sghmc::State;
  using Info = sghmc::Info;
  using Workspace = sghmc::Workspace;

  double alpha = 0.01;
  double beta = 0.0;

  /// sghmc::init (the estimator is not evaluated), where BoundSampler looks
  /// for it.
  template <class E>
  static absl::StatusOr<State> init(const Vec& position, const E& /*estimator*/) {
    return sghmc::init(position);
  }

  /// One transition from `state` into `out` (must not alias `state`).
  /// Errors: invalid schedule value, temperature, number of steps, friction,
  /// preconditioner dimension, negative noise variance (2 alpha < h T beta),
  /// or a throwing gradient. A non-finite trajectory is abandoned: the old
  /// position is kept and `info.is_divergent` set.
  template <sgmcmc::StochasticGradient E, class S>
  absl::Status step_into(const Key& key, const State& state, E& estimator, const Params<S>& params,
                         State& out, Info& info, Workspace& ws) const {
    const std::size_t dim = state.position.size();
    if (dim == 0) return absl::InvalidArgumentError("state position is empty");
    auto h = sgmcmc::detail::scheduled_step_size(params.step_size, state.step);
    if (!h.ok()) return h.status();
    if (auto s = sgmcmc::detail::check_temperature(params.temperature); !s.ok()) return s;
    if (params.num_integration_steps < 1)
      return absl::InvalidArgumentError("num_integration_steps must be >= 1");
    if (!std::isfinite(alpha) || alpha < 0.0 || !std::isfinite(beta))
      return absl::InvalidArgumentError(
          absl::StrCat("friction alpha must be finite and >= 0 and beta finite; got ", alpha,
                       " and ", beta));
    const double T = params.temperature;
    const double noise_var = *h * T * (2.0 * alpha - *h * T * beta);
    if (noise_var < 0.0)
      return absl::InvalidArgumentError(absl::StrCat(
          "noise variance h T (2 alpha - h T beta) is negative (", noise_var, ") at step size ", *h));
    const Metric* metric = params.inverse_mass_matrix ? &*params.inverse_mass_matrix : nullptr;
    if (metric)
      if (auto s = nutshell::detail::check_metric(*metric, dim); !s.ok()) return s;

    ws.resize(dim);
    const auto keys = split<2>(key);
    sample(metric, keys[0], ws.momentum);
    const double sqrt_t = std::sqrt(T);
    for (double& p : ws.momentum) p *= sqrt_t;
    ops::copy(state.position, out.position);
    const double friction = 1.0 - alpha * *h, noise_scale = std::sqrt(noise_var);
    bool finite = true;
    for (int i = 0; i < params.num_integration_steps && finite; ++i) {
      const auto step_keys = split<2>(fold_in(keys[1], static_cast<std::uint64_t>(i)));
      velocity(metric, ws.momentum, ws.velocity);
      ops::axpy(*h, ws.velocity, out.position);
      if (auto s = estimator.estimate(step_keys[0], out.position, ws.grad, ws.batch); !s.ok())
        return s;
      sample(metric, step_keys[1], ws.noise);
      for (std::size_t j = 0; j < dim; ++j)
        ws.momentum(j) = friction * ws.momentum(j) + *h * ws.grad(j) + noise_scale * ws.noise(j);
      finite = all_finite(out.position) && all_finite(ws.momentum);
    }
    info.step_size = *h;
    info.is_divergent = !finite;
    if (!finite) ops::copy(state.position, out.position);
    out.step = state.step + 1;
    return absl::OkStatus();
  }

  /// Pure form (see pure_step): returns a new state and info, allocated.
  template <sgmcmc::StochasticGradient E, class S>
  absl::StatusOr<Transition<State, Info>> operator()(const Key& key, const State& state,
                                                     E& estimator, const Params<S>& params) const {
    return pure_step(*this, key, state, estimator, params);
  }

 private:
  // p ~ N(0, M), the identity when there is no metric.
  static void sample(const Metric* metric, const Key& key, Vec& p) {
    if (metric)
      metric->sample_momentum(key, p);
    else
      normal(key, p);
  }
  static void velocity(const Metric* metric, const Vec& p, Vec& v) {
    if (metric)
      metric->velocity(p, v);
    else
      ops::copy(p, v);
  }
};

/// The SGHMC kernel with friction alpha and gradient-noise estimate beta
/// (Blackjax's defaults).
inline Kernel build_kernel(double alpha = 0.01, double beta = 0.0) { return Kernel{alpha, beta}; }

/// An estimator, SGHMC parameters and kernel options bound together (see
/// sgmcmc::EstimatorSampler). Holds its scratch: one chain at a time.
template <sgmcmc::StochasticGradient E, class S = sgmcmc::ConstantStepSize>
using Sampler = sgmcmc::EstimatorSampler<Kernel, E, Params<S>>;

/// Binds a gradient estimator, SGHMC parameters and kernel options.
template <sgmcmc::StochasticGradient E, class S>
Sampler<std::decay_t<E>, S> sampler(E&& estimator, Params<S> params, Kernel kernel = {}) {
  return {std::forward<E>(estimator), std::move(params), kernel};
}

}  // namespace nutshell::sghmc
