// Stochastic gradient Langevin dynamics (Welling and Teh 2011).
//
// One Euler-Maruyama step of the overdamped Langevin diffusion with a
// minibatch gradient, in Blackjax's convention (`sgmcmc.diffusions.
// overdamped_langevin`):
//   theta' = theta + h * g_hat(theta) + sqrt(2 * T * h) * z,   z ~ N(0, I)
// Welling and Teh write eps/2 * g + N(0, eps); Blackjax's h is their eps/2.
// There is no Metropolis correction: for a fixed step the chain is biased
// (for a Gaussian with variance s^2 and exact gradients, its stationary
// variance is s^2 / (1 - h / (2 s^2)) at T = 1), and a decreasing schedule
// removes the bias asymptotically.
//
// Optional preconditioning by a constant inverse mass matrix M^-1 (not in
// Blackjax, which has none): theta' = theta + h M^-1 g + sqrt(2 T h) xi with
// xi ~ N(0, M^-1), the Euler step of the preconditioned diffusion with the
// same invariant law. With M^-1 = posterior covariance, every direction
// relaxes at the same rate, which badly scaled targets need.
//
//   sgld::init(position)                        -> State {position, step}
//   sgld::build_kernel()                        -> Kernel; kernel(key, state, estimator, params)
//   sgld::sampler(estimator, params)            -> bundle with .init / .step
#pragma once

#include <cmath>
#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "nutshell/core/key.hpp"
#include "nutshell/core/metric.hpp"
#include "nutshell/sgmcmc/gradient_estimator.hpp"
#include "nutshell/core/validation.hpp"

namespace nutshell::sgld {

using State = sgmcmc::State;

/// Tunables of an SGLD transition. The step size is a schedule over the
/// transition counter (`sgmcmc::ConstantStepSize` or
/// `sgmcmc::PolynomialDecay`, or any callable of the step index).
template <sgmcmc::StepSizeSchedule S = sgmcmc::ConstantStepSize>
struct Params {
  S step_size{};
  /// Scales the injected noise: 1 samples the posterior, 0 is stochastic
  /// gradient ascent, other values sample p^(1/T).
  double temperature = 1.0;
  /// Constant preconditioner; none (the default) is the identity, as Blackjax.
  std::optional<Metric> inverse_mass_matrix{};
};

/// What happened in one transition.
struct Info {
  double step_size = 0.0;     ///< the scheduled step size used
  bool is_divergent = false;  ///< the new position was not finite; the state was kept
};

/// Scratch reused across transitions (allocation-free in steady state).
struct Workspace {
  sgmcmc::BatchWorkspace batch;
  Vec grad;
  Vec noise;
  Vec velocity;
  /// Sizes every buffer for `dim`; a no-op once sized, so it never allocates
  /// in steady state.
  void resize(std::size_t dim) {
    ensure_size(grad, dim);
    ensure_size(noise, dim);
    ensure_size(velocity, dim);
  }
};

/// A validated starting state (Blackjax's SGLD state is the position alone;
/// the step counter drives the schedule).
inline absl::StatusOr<State> init(const Vec& position) { return sgmcmc::init_state(position); }

/// The SGLD transition.
struct Kernel {
  using State = sgld::State;
  using Info = sgld::Info;
  using Workspace = sgld::Workspace;

  /// sgld::init (the estimator is not evaluated), where BoundSampler looks
  /// for it.
  template <class E>
  static absl::StatusOr<State> init(const Vec& position, const E& /*estimator*/) {
    return sgld::init(position);
  }

  /// One transition from `state` into `out` (must not alias `state`).
  /// Errors: an invalid schedule value, temperature or preconditioner
  /// dimension, or a throwing gradient. A non-finite new position is never
  /// stored: the old one is kept and `info.is_divergent` set; the step counter
  /// advances either way, so the schedule does not stall.
  template <sgmcmc::StochasticGradient E, class S>
  absl::Status step_into(const Key& key, const State& state, E& estimator, const Params<S>& params,
                         State& out, Info& info, Workspace& ws) const {
    const std::size_t dim = state.position.size();
    if (dim == 0) return absl::InvalidArgumentError("state position is empty");
    auto h = sgmcmc::detail::scheduled_step_size(params.step_size, state.step);
    if (!h.ok()) return h.status();
    if (auto s = sgmcmc::detail::check_temperature(params.temperature); !s.ok()) return s;
    const Metric* metric = params.inverse_mass_matrix ? &*params.inverse_mass_matrix : nullptr;
    if (metric)
      if (auto s = nutshell::detail::check_metric(*metric, dim); !s.ok()) return s;

    ws.resize(dim);
    const auto keys = split<2>(key);
    if (auto s = estimator.estimate(keys[0], state.position, ws.grad, ws.batch); !s.ok()) return s;
    const double noise_scale = std::sqrt(2.0 * params.temperature * *h);
    ensure_size(out.position, dim);
    if (metric) {
      metric->sample_momentum(keys[1], ws.velocity);  // N(0, M)
      metric->velocity(ws.velocity, ws.noise);        // M^-1 N(0, M) = N(0, M^-1)
      metric->velocity(ws.grad, ws.velocity);         // M^-1 g
    } else {
      normal(keys[1], ws.noise);
      ops::copy(ws.grad, ws.velocity);
    }
    for (std::size_t i = 0; i < dim; ++i)
      out.position(i) = state.position(i) + *h * ws.velocity(i) + noise_scale * ws.noise(i);
    info.step_size = *h;
    info.is_divergent = !all_finite(out.position);
    if (info.is_divergent) ops::copy(state.position, out.position);
    out.step = state.step + 1;
    return absl::OkStatus();
  }

  /// Pure form (see pure_step): returns a new state and info, allocated.
  template <sgmcmc::StochasticGradient E, class S>
  absl::StatusOr<Transition<State, Info>> operator()(const Key& key, const State& state,
                                                     E& estimator, const Params<S>& params) const {
    return pure_step(*this, key, state, estimator, params);
  }
};

/// The SGLD kernel (it has no structural options).
inline Kernel build_kernel() { return Kernel{}; }

/// An estimator and SGLD parameters bound together (see
/// sgmcmc::EstimatorSampler). Holds its scratch: one chain at a time; copy it
/// for another thread.
template <sgmcmc::StochasticGradient E, class S = sgmcmc::ConstantStepSize>
using Sampler = sgmcmc::EstimatorSampler<Kernel, E, Params<S>>;

/// Binds a gradient estimator and SGLD parameters.
template <sgmcmc::StochasticGradient E, class S>
Sampler<std::decay_t<E>, S> sampler(E&& estimator, Params<S> params) {
  return {std::forward<E>(estimator), std::move(params)};
}

}  // namespace nutshell::sgld
