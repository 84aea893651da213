// Generalized HMC with persistent momentum (Horowitz 1991) and a
// non-reversibly updated acceptance variable (Neal 2020), as Blackjax's
// `ghmc`.
//
// Each transition:
//   1. partially refreshes the momentum, p <- sqrt(1 - alpha) p + sqrt(alpha) z,
//      z ~ N(0, M) (alpha = 1 is a full refresh, alpha -> 0 keeps the momentum);
//   2. moves the slice variable u in [-1, 1) by a fixed delta (plus optional
//      noise), wrapping around: u <- ((u + 1 + delta + noise) mod 2) - 1;
//   3. takes ONE leapfrog step and accepts when log|u| <= H0 - H1 (|u| plays
//      the uniform of a Metropolis test); on acceptance u <- u exp(H1 - H0),
//      on rejection the momentum is negated.
// Because |u| drifts slowly instead of being redrawn, accepts and rejects
// cluster, and the momentum flips that undo GHMC's progress become rare: that
// is Neal's point, and why this is the form Blackjax implements.
//
// Blackjax's alpha is the *refresh* fraction. Horowitz's persistence a (p <- a
// p + sqrt(1 - a^2) z) is alpha = 1 - a^2; `alpha_from_persistence` converts.
// Blackjax's per-coordinate `momentum_inverse_scale` s is the diagonal
// inverse mass matrix s^2 here, and any Metric (dense too) is accepted.
//
//   ghmc::init(position, logdensity, key[, metric]) -> State
//   ghmc::build_kernel([noise_fn,] threshold)       -> Kernel; kernel(key, state, f, params)
//   ghmc::sampler(logdensity, params[, kernel])     -> bundle with .init / .step
#pragma once

#include <cmath>
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
#include "nutshell/core/vector_ops.hpp"

namespace nutshell::ghmc {

/// The GHMC state: the momentum and slice variable persist between
/// transitions, so they are part of it (Blackjax's GHMCState).
struct State {
  Vec position;
  Vec momentum;
  double logdensity = 0.0;
  Vec logdensity_grad;
  double slice = 0.0;  ///< u in [-1, 1]; |u| is the acceptance threshold
};

/// Tunables of one GHMC transition.
struct Params {
  double step_size = 1.0;
  Metric inverse_mass_matrix;
  /// Fraction of the momentum refreshed per transition, in [0, 1].
  double alpha = 0.1;
  /// Fixed translation of the slice variable per transition (Neal suggests
  /// small values, so |u| wanders slowly).
  double delta = 0.1;
};

/// Horowitz's persistence a in [0, 1] (p <- a p + sqrt(1 - a^2) z) as
/// Blackjax's refresh fraction alpha = 1 - a^2.
inline double alpha_from_persistence(double a) { return 1.0 - a * a; }

/// What happened in one transition (Blackjax returns HMCInfo).
struct Info {
  Vec momentum;                  ///< the momentum after the partial refresh
  double acceptance_rate = 0.0;  ///< min(1, exp(H0 - H1))
  bool is_accepted = false;
  bool is_divergent = false;     ///< H1 - H0 > threshold, or a non-finite proposal
  double energy = 0.0;           ///< Hamiltonian of the returned state
  int num_integration_steps = 1;
};

/// Scratch reused across transitions (allocation-free in steady state).
struct Workspace {
  IntegratorState z;
  Vec velocity;
  Vec noise;
  /// Sizes every buffer for `dim`; a no-op once sized, so it never allocates
  /// in steady state.
  void resize(std::size_t dim) {
    ensure_size(z.position, dim);
    ensure_size(z.momentum, dim);
    ensure_size(z.logdensity_grad, dim);
    ensure_size(velocity, dim);
    ensure_size(noise, dim);
  }
};

/// Evaluates the density at `position` and draws the momentum from N(0, M)
/// and the slice variable from U(-1, 1) with `key`. Blackjax draws N(0, I);
/// pass the metric the kernel will use to start from its momentum law.
template <LogDensity F>
absl::StatusOr<State> init(const Vec& position, F&& logdensity, const Key& key,
                           const Metric& metric) {
  if (auto s = nutshell::detail::check_initial_position(position); !s.ok()) return s;
  if (auto s = nutshell::detail::check_metric(metric, position.size()); !s.ok()) return s;
  auto g = init_gradient_state(position, logdensity);
  if (!g.ok()) return g.status();
  const auto keys = split<2>(key);
  State state{std::move(g->position), Vec::from_shape({position.size()}), g->logdensity,
              std::move(g->logdensity_grad), uniform(keys[1], -1.0, 1.0)};
  metric.sample_momentum(keys[0], state.momentum);
  return state;
}

/// `init` with the identity metric (N(0, I) momentum, as Blackjax).
template <LogDensity F>
absl::StatusOr<State> init(const Vec& position, F&& logdensity, const Key& key) {
  return init(position, logdensity, key, Metric::identity(position.size()));
}

/// No noise in the slice update: Blackjax's default `noise_fn`.
struct NoSliceNoise {
  double operator()(const Key&) const { return 0.0; }
};

/// The GHMC transition. `noise_fn(key)` adds random jitter to the slice
/// translation (Neal's remedy against periodic behaviour).
template <class Noise = NoSliceNoise>
struct Kernel {
  using State = ghmc::State;
  using Params = ghmc::Params;
  using Info = ghmc::Info;
  using Workspace = ghmc::Workspace;

  double divergence_threshold = 1000.0;
  Noise noise_fn{};

  /// ghmc::init with the momentum drawn from the parameters' metric, which
  /// is how BoundSampler::init(position, key) starts a chain.
  template <LogDensity F>
  static absl::StatusOr<State> init(const Vec& position, F& logdensity, const Params& params,
                                    const Key& key) {
    return ghmc::init(position, logdensity, key, params.inverse_mass_matrix);
  }

  /// One transition from `state` into `out` (must not alias `state`).
  /// Errors: invalid params, dimensions or slice value, or a throwing log
  /// density. A non-finite proposal is rejected (and flagged divergent),
  /// never stored.
  template <LogDensity F>
  absl::Status step_into(const Key& key, const State& state, F& logdensity, const Params& params,
                         State& out, Info& info, Workspace& ws) const {
    if (auto s = check(state, params); !s.ok()) return s;
    const std::size_t dim = state.position.size();
    const Metric& metric = params.inverse_mass_matrix;
    ws.resize(dim);
    const auto keys = split<2>(key);

    // 1. Persistent momentum.
    metric.sample_momentum(keys[0], ws.noise);
    const double keep = std::sqrt(1.0 - params.alpha), fresh = std::sqrt(params.alpha);
    for (std::size_t i = 0; i < dim; ++i)
      ws.z.momentum(i) = keep * state.momentum(i) + fresh * ws.noise(i);
    ops::copy(ws.z.momentum, info.momentum);
    // 2. Non-reversible slice translation, wrapped into [-1, 1).
    const double shifted = state.slice + 1.0 + params.delta + noise_fn(keys[1]);
    const double slice = shifted - 2.0 * std::floor(shifted / 2.0) - 1.0;
    // 3. One leapfrog step and the slice acceptance test.
    ops::copy(state.position, ws.z.position);
    ops::copy(state.logdensity_grad, ws.z.logdensity_grad);
    ws.z.logdensity = state.logdensity;
    const double h0 = -state.logdensity + metric.kinetic_energy(ws.z.momentum);
    auto s = integrate_step(velocity_verlet, metric, logdensity, ws.z, params.step_size,
                            ws.velocity);
    if (!s.ok()) return s;
    bool finite = std::isfinite(ws.z.logdensity) && all_finite(ws.z.position) &&
                  all_finite(ws.z.logdensity_grad) && all_finite(ws.z.momentum);
    double h1 = std::numeric_limits<double>::infinity();
    if (finite) {
      h1 = -ws.z.logdensity + metric.kinetic_energy(ws.z.momentum);
      finite = std::isfinite(h1);
    }
    const double delta_energy = finite ? h0 - h1 : -std::numeric_limits<double>::infinity();
    info.acceptance_rate = finite ? std::min(1.0, std::exp(delta_energy)) : 0.0;
    info.is_divergent = !finite || -delta_energy > divergence_threshold;
    info.num_integration_steps = 1;
    info.is_accepted = finite && std::log(std::abs(slice)) <= delta_energy;
    if (info.is_accepted) {
      // The proposal is (x1, -p1) and the final flip restores p1.
      ops::copy(ws.z.position, out.position);
      ops::copy(ws.z.momentum, out.momentum);
      ops::copy(ws.z.logdensity_grad, out.logdensity_grad);
      out.logdensity = ws.z.logdensity;
      out.slice = slice * std::exp(-delta_energy);
      info.energy = h1;
    } else {
      ops::copy(state.position, out.position);
      ensure_size(out.momentum, dim);
      for (std::size_t i = 0; i < dim; ++i) out.momentum(i) = -info.momentum(i);
      ops::copy(state.logdensity_grad, out.logdensity_grad);
      out.logdensity = state.logdensity;
      out.slice = slice;
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

 private:
  static absl::Status check(const State& state, const Params& params) {
    if (auto s = nutshell::detail::check_step_size(params.step_size); !s.ok()) return s;
    if (!(params.alpha >= 0.0 && params.alpha <= 1.0))
      return absl::InvalidArgumentError(
          absl::StrCat("alpha (refresh fraction) must be in [0, 1], got ", params.alpha));
    if (!std::isfinite(params.delta))
      return absl::InvalidArgumentError(absl::StrCat("delta must be finite, got ", params.delta));
    if (auto s = nutshell::detail::check_gradient_state(state); !s.ok()) return s;
    const std::size_t dim = state.position.size();
    if (auto s = nutshell::detail::check_dimension("the state's momentum", state.momentum.size(), dim);
        !s.ok())
      return s;
    if (!(state.slice >= -1.0 && state.slice <= 1.0))
      return absl::InvalidArgumentError(
          absl::StrCat("slice variable must be in [-1, 1], got ", state.slice));
    return nutshell::detail::check_metric(params.inverse_mass_matrix, dim);
  }
};

/// The GHMC kernel without slice noise (Blackjax's default).
inline Kernel<> build_kernel(double divergence_threshold = 1000.0) {
  return Kernel<>{divergence_threshold, {}};
}

/// The GHMC kernel with slice noise `noise_fn(key) -> double`.
template <class Noise>
Kernel<std::decay_t<Noise>> build_kernel(Noise&& noise_fn, double divergence_threshold = 1000.0) {
  return Kernel<std::decay_t<Noise>>{divergence_threshold, std::forward<Noise>(noise_fn)};
}

/// A log density, parameters and kernel bound together (Blackjax's
/// `blackjax.ghmc(...)`). Holds its scratch: one chain at a time. Its
/// `init(position, key)` draws the momentum from the bound metric.
template <LogDensity F, class Noise = NoSliceNoise>
using Sampler = BoundSampler<Kernel<Noise>, F, Params>;

/// Binds a log density, GHMC parameters and kernel.
template <LogDensity F, class Noise = NoSliceNoise>
Sampler<std::decay_t<F>, Noise> sampler(F&& logdensity, Params params, Kernel<Noise> kernel = {}) {
  return {std::forward<F>(logdensity), std::move(params), std::move(kernel)};
}

}  // namespace nutshell::ghmc
