// Hamiltonian Monte Carlo with a fixed number of integration steps.
//
// Three layers, as in Blackjax:
//   hmc::init(position, logdensity)            -> State
//   hmc::build_kernel(integrator, threshold)   -> Kernel; kernel(key, state, logdensity, params)
//   hmc::sampler(logdensity, params)           -> bundle with .init / .step
// The kernel takes the tunables (step size, inverse mass matrix) at each call,
// which is what lets window adaptation drive it.
#pragma once

#include <cmath>
#include <limits>
#include <utility>

#include "absl/status/statusor.h"
#include "nutshell/core/integrators.hpp"
#include "nutshell/core/kernel_api.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/core/metric.hpp"
#include "nutshell/core/state.hpp"
#include "nutshell/core/validation.hpp"

namespace nutshell::hmc {

using State = GradientState;

/// Tunables of one HMC transition.
struct Params {
  double step_size = 1.0;
  Metric inverse_mass_matrix;
  int num_integration_steps = 1;
};

/// What happened in one transition.
struct Info {
  Vec momentum;                  ///< the momentum drawn at the start
  double acceptance_rate = 0.0;  ///< min(1, exp(H0 - H1))
  bool is_accepted = false;
  bool is_divergent = false;     ///< energy error > threshold, or a non-finite proposal
  double energy = 0.0;           ///< Hamiltonian of the returned state
  int num_integration_steps = 0;
};

/// Scratch buffers reused across transitions so a steady-state step allocates
/// nothing. One per chain; never shared between threads.
struct Workspace {
  IntegratorState z;
  Vec velocity;
  void resize(std::size_t dim) {
    ensure_size(z.position, dim);
    ensure_size(z.momentum, dim);
    ensure_size(z.logdensity_grad, dim);
    ensure_size(velocity, dim);
  }
};

/// Evaluates the log density and gradient at `position` (validated).
template <LogDensity F>
absl::StatusOr<State> init(const Vec& position, F&& logdensity) {
  return init_gradient_state(position, logdensity);
}

/// The HMC transition for a fixed integrator and divergence threshold.
struct Kernel {
  using State = hmc::State;
  using Params = hmc::Params;
  using Info = hmc::Info;
  using Workspace = hmc::Workspace;

  Integrator integrator = velocity_verlet;
  double divergence_threshold = 1000.0;

  /// One transition from `state` into `out` (which must not alias `state`),
  /// using `ws` as scratch. Errors: invalid params or dimensions, or a log
  /// density that throws. A divergent or non-finite proposal is rejected and
  /// flagged in `info`, never stored.
  template <LogDensity F>
  absl::Status step_into(const Key& key, const State& state, F& logdensity, const Params& params,
                         State& out, Info& info, Workspace& ws) const {
    if (auto s = detail::check_step_size(params.step_size); !s.ok()) return s;
    if (params.num_integration_steps < 1)
      return absl::InvalidArgumentError("num_integration_steps must be >= 1");
    if (auto s = detail::check_gradient_state(state); !s.ok()) return s;
    const std::size_t dim = state.position.size();
    if (auto s = detail::check_metric(params.inverse_mass_matrix, dim); !s.ok()) return s;
    const Metric& metric = params.inverse_mass_matrix;

    const auto keys = split<2>(key);
    ws.resize(dim);
    ops::copy(state.position, ws.z.position);
    ops::copy(state.logdensity_grad, ws.z.logdensity_grad);
    ws.z.logdensity = state.logdensity;
    metric.sample_momentum(keys[0], ws.z.momentum);
    ops::copy(ws.z.momentum, info.momentum);
    metric.velocity(ws.z.momentum, ws.velocity);
    const double h0 = -state.logdensity + Metric::kinetic_energy(ws.z.momentum, ws.velocity);

    bool finite = true;
    for (int i = 0; i < params.num_integration_steps; ++i) {
      auto s = integrate_step(integrator, metric, logdensity, ws.z, params.step_size, ws.velocity);
      if (!s.ok()) return s;
      if (!std::isfinite(ws.z.logdensity)) {
        finite = false;  // no point integrating through NaN
        break;
      }
    }
    finite = finite && all_finite(ws.z.logdensity_grad) && all_finite(ws.z.position);
    double h1 = std::numeric_limits<double>::infinity();
    if (finite) {
      metric.velocity(ws.z.momentum, ws.velocity);
      h1 = -ws.z.logdensity + Metric::kinetic_energy(ws.z.momentum, ws.velocity);
      finite = std::isfinite(h1);
    }
    const double delta = finite ? h0 - h1 : -std::numeric_limits<double>::infinity();
    info.acceptance_rate = finite ? std::min(1.0, std::exp(delta)) : 0.0;
    info.is_divergent = !finite || (h1 - h0 > divergence_threshold);
    info.num_integration_steps = params.num_integration_steps;
    info.is_accepted = finite && uniform(keys[1]) < info.acceptance_rate;
    if (info.is_accepted) {
      ops::copy(ws.z.position, out.position);
      ops::copy(ws.z.logdensity_grad, out.logdensity_grad);
      out.logdensity = ws.z.logdensity;
      info.energy = h1;
    } else {
      assign(out, state);
      info.energy = h0;
    }
    return absl::OkStatus();
  }

  /// Pure form (see pure_step): returns a new state and info, allocated.
  template <LogDensity F>
  absl::StatusOr<Transition<State, Info>> operator()(const Key& key, const State& state,
                                                     F&& logdensity, const Params& params) const {
    return pure_step(*this, key, state, logdensity, params);
  }
};

/// The HMC kernel with the given integrator and divergence threshold.
inline Kernel build_kernel(Integrator integrator = velocity_verlet,
                           double divergence_threshold = 1000.0) {
  return Kernel{integrator, divergence_threshold};
}

/// A log density and parameters bound together (Blackjax's `blackjax.hmc(...)`).
/// Holds its own scratch, so one sampler object serves one chain at a time;
/// copy it for another thread.
template <LogDensity F>
using Sampler = BoundSampler<Kernel, F, Params>;

/// Binds a log density, HMC parameters and kernel options.
template <LogDensity F>
Sampler<std::decay_t<F>> sampler(F&& logdensity, Params params, Kernel kernel = {}) {
  return {std::forward<F>(logdensity), std::move(params), kernel};
}

}  // namespace nutshell::hmc
