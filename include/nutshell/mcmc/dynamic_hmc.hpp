// Dynamic (jittered) HMC: HMC whose number of leapfrog steps changes from
// one transition to the next, ceil(u * L) with u in (0, 1] a jitter and L
// the mean number of steps, as Blackjax's `dynamic_hmc` (ChEES-HMC's kernel).
//
// The jitter is a function of an integer `random_generator_arg` carried in
// the state and advanced by one per transition (Blackjax's design): with
// the quasi-random Halton (van der Corput, base 2) sequence, which ChEES
// prefers because it covers (0, 1] evenly, or with a uniform draw from
// fold_in(params.jitter_key, arg). Chains started together share their
// argument and so their trajectory length at every step, which is what the
// ChEES criterion's gradient assumes. Jittering breaks the resonances a
// fixed trajectory length suffers (Hoffman, Radul and Sountsov 2021).
//
// Info also carries the proposal (position, velocity M^-1 p) before the
// Metropolis test: the ChEES criterion is a function of it.
//
//   dynamic_hmc::init(position, logdensity)          -> State (arg 0)
//   dynamic_hmc::Kernel{...}(key, state, f, params)   -> {State, Info}
//   dynamic_hmc::num_steps(params, arg)               -> the steps for that arg
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/integrators.hpp"
#include "nutshell/core/kernel_api.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/core/metric.hpp"
#include "nutshell/core/state.hpp"
#include "nutshell/core/validation.hpp"
#include "nutshell/mcmc/hmc.hpp"

namespace nutshell::dynamic_hmc {

/// A gradient state plus the index of the jitter sequence (Blackjax's
/// DynamicHMCState.random_generator_arg).
struct State : GradientState {
  std::uint64_t random_generator_arg = 0;
};

/// Copies `src` into `dst` reusing dst's buffers.
inline void assign(State& dst, const State& src) {
  nutshell::assign(static_cast<GradientState&>(dst), static_cast<const GradientState&>(src));
  dst.random_generator_arg = src.random_generator_arg;
}

/// Where the jitter u comes from.
enum class Jitter {
  kHalton,   ///< u = van der Corput(arg + 1): quasi-random, even coverage (ChEES's default)
  kUniform,  ///< u ~ U(0, 1] from fold_in(jitter_key, arg)
};

/// Tunables of one transition.
struct Params {
  double step_size = 1.0;
  Metric inverse_mass_matrix;
  /// L, the mean-free trajectory length in steps (ChEES: T / step size);
  /// a transition takes ceil(jitter * L) steps, at least 1.
  double num_integration_steps = 1.0;
  /// jitter = u * jitter_amount + (1 - jitter_amount); 0 turns jitter off.
  double jitter_amount = 1.0;
  Jitter jitter = Jitter::kHalton;
  Key jitter_key{};  ///< used by Jitter::kUniform only
};

/// The radical inverse of i in base 2 (the van der Corput sequence), in
/// [0, 1): Blackjax's `halton_sequence` in one dimension.
inline double halton(std::uint64_t i) {
  double result = 0.0, f = 0.5;
  while (i > 0) {
    result += f * static_cast<double>(i & 1U);
    i >>= 1U;
    f *= 0.5;
  }
  return result;
}

/// The jitter in (0, 1] for argument `arg` (see Params::jitter_amount).
inline double jitter_value(const Params& params, std::uint64_t arg) {
  // arg + 1 so that the first value is 1/2, never 0 (0 steps would not move).
  const double u = params.jitter == Jitter::kHalton ? halton(arg + 1)
                                                    : 1.0 - uniform(fold_in(params.jitter_key, arg));
  return u * params.jitter_amount + (1.0 - params.jitter_amount);
}

/// Leapfrog steps of the transition with argument `arg`, in [1, max_steps].
inline int num_steps(const Params& params, std::uint64_t arg, int max_steps) {
  const double n = std::ceil(jitter_value(params, arg) * params.num_integration_steps);
  if (!(n >= 1.0)) return 1;
  return static_cast<int>(std::min<double>(n, max_steps));
}

/// What happened in one transition.
struct Info {
  Vec proposal_position;         ///< the end of the trajectory, before the test
  Vec proposal_velocity;         ///< M^-1 p there (the ChEES gradient uses it)
  double acceptance_rate = 0.0;  ///< min(1, exp(H0 - H1))
  bool is_accepted = false;
  bool is_divergent = false;     ///< energy error > threshold, or non-finite
  double energy = 0.0;           ///< Hamiltonian of the returned state
  int num_integration_steps = 0;
};

/// Scratch reused across transitions: HMC's (the same trajectory buffers).
using Workspace = hmc::Workspace;

/// Evaluates the density at `position`; the jitter sequence starts at 0.
template <LogDensity F>
absl::StatusOr<State> init(const Vec& position, F&& logdensity) {
  auto g = init_gradient_state(position, logdensity);
  if (!g.ok()) return g.status();
  State s;
  static_cast<GradientState&>(s) = *std::move(g);
  return s;
}

/// The dynamic HMC transition.
struct Kernel {
  using State = dynamic_hmc::State;
  using Params = dynamic_hmc::Params;
  using Info = dynamic_hmc::Info;
  using Workspace = dynamic_hmc::Workspace;

  Integrator integrator = velocity_verlet;
  double divergence_threshold = 1000.0;
  int max_num_steps = 1000;  ///< cap on ceil(jitter * L) (Blackjax's max_leapfrog_steps)

  /// dynamic_hmc::init (what `sample` starts a chain with).
  template <LogDensity F>
  static absl::StatusOr<State> init(const Vec& position, F& logdensity) {
    return dynamic_hmc::init(position, logdensity);
  }

  /// One transition from `state` into `out` (must not alias `state`).
  /// Errors: invalid params or dimensions, or a throwing log density; a
  /// divergent or non-finite proposal is rejected and flagged.
  template <LogDensity F>
  absl::Status step_into(const Key& key, const State& state, F& logdensity, const Params& params,
                         State& out, Info& info, Workspace& ws) const {
    if (auto s = detail::check_step_size(params.step_size); !s.ok()) return s;
    if (!(params.num_integration_steps > 0.0) || !std::isfinite(params.num_integration_steps))
      return absl::InvalidArgumentError(absl::StrCat(
          "num_integration_steps must be finite and > 0, got ", params.num_integration_steps));
    if (!(params.jitter_amount >= 0.0 && params.jitter_amount <= 1.0))
      return absl::InvalidArgumentError(
          absl::StrCat("jitter_amount must be in [0, 1], got ", params.jitter_amount));
    if (auto s = detail::check_gradient_state(state); !s.ok()) return s;
    const std::size_t dim = state.position.size();
    if (auto s = detail::check_metric(params.inverse_mass_matrix, dim); !s.ok()) return s;
    const Metric& metric = params.inverse_mass_matrix;
    const int steps = num_steps(params, state.random_generator_arg, max_num_steps);

    const auto keys = split<2>(key);
    ws.resize(dim);
    ops::copy(state.position, ws.z.position);
    ops::copy(state.logdensity_grad, ws.z.logdensity_grad);
    ws.z.logdensity = state.logdensity;
    metric.sample_momentum(keys[0], ws.z.momentum);
    metric.velocity(ws.z.momentum, ws.velocity);
    const double h0 = -state.logdensity + Metric::kinetic_energy(ws.z.momentum, ws.velocity);
    bool finite = true;
    for (int i = 0; i < steps && finite; ++i) {
      auto s = integrate_step(integrator, metric, logdensity, ws.z, params.step_size, ws.velocity);
      if (!s.ok()) return s;
      finite = std::isfinite(ws.z.logdensity);  // no point integrating through NaN
    }
    finite = finite && all_finite(ws.z.logdensity_grad) && all_finite(ws.z.position);
    double h1 = std::numeric_limits<double>::infinity();
    metric.velocity(ws.z.momentum, ws.velocity);
    if (finite) {
      h1 = -ws.z.logdensity + Metric::kinetic_energy(ws.z.momentum, ws.velocity);
      finite = std::isfinite(h1);
    }
    ops::copy(ws.z.position, info.proposal_position);
    ops::copy(ws.velocity, info.proposal_velocity);
    const double delta = finite ? h0 - h1 : -std::numeric_limits<double>::infinity();
    info.acceptance_rate = finite ? std::min(1.0, std::exp(delta)) : 0.0;
    info.is_divergent = !finite || (h1 - h0 > divergence_threshold);
    info.num_integration_steps = steps;
    info.is_accepted = finite && uniform(keys[1]) < info.acceptance_rate;
    if (info.is_accepted) {
      ops::copy(ws.z.position, out.position);
      ops::copy(ws.z.logdensity_grad, out.logdensity_grad);
      out.logdensity = ws.z.logdensity;
      info.energy = h1;
    } else {
      nutshell::assign(static_cast<GradientState&>(out), static_cast<const GradientState&>(state));
      info.energy = h0;
    }
    out.random_generator_arg = state.random_generator_arg + 1;
    return absl::OkStatus();
  }

  /// Pure form (see pure_step): returns a new state and info, allocated.
  template <LogDensity F>
  absl::StatusOr<Transition<State, Info>> operator()(const Key& key, const State& state,
                                                     F&& logdensity, const Params& params) const {
    return pure_step(*this, key, state, logdensity, params);
  }
};

/// A log density and parameters bound together (Blackjax's
/// `blackjax.dynamic_hmc(...)`); one chain at a time.
template <LogDensity F>
using Sampler = BoundSampler<Kernel, F, Params>;

/// Binds a log density, parameters and kernel options.
template <LogDensity F>
Sampler<std::decay_t<F>> sampler(F&& logdensity, Params params, Kernel kernel = {}) {
  return {std::forward<F>(logdensity), std::move(params), kernel};
}

}  // namespace nutshell::dynamic_hmc
