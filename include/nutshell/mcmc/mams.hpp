// MAMS, the Metropolis-adjusted microcanonical sampler (Robnik, Cohn-Gordon
// and Seljak 2025), as Blackjax's `adjusted_mclmc` (fixed number of steps)
// and `adjusted_mclmc_dynamic` (a random number of steps per trajectory).
//
// One transition: draw a fresh uniformly random unit velocity u (a full
// momentum refresh: no partial refresh inside the trajectory, Blackjax's
// L_proposal_factor = inf), integrate the isokinetic (ESH) dynamics of
// mclmc.hpp for n steps of size eps, and accept the end point with
// probability min(1, exp(-dE)) where
//   dE = [sum of the ESH kinetic-energy changes] - (log p(x') - log p(x)).
// The kinetic term is the log of the phase-space volume change of the
// velocity update, so exp(-dE) is the exact Metropolis ratio of the
// deterministic, reversible, volume-changing isokinetic map; with the
// velocity redrawn each time (its distribution on the sphere is uniform and
// x-independent) this leaves the target exactly invariant.
//
// Trajectory length. Params::L is the trajectory length; the number of
// steps is round(L / eps) (at least 1) for TrajectoryKind::kFixed, and for
// kUniformJitter an integer drawn per transition as
// round(U * rescale(L / eps) + 0.5), U ~ uniform(0, 1), whose mean is L / eps
// (Blackjax's `rescale`). Jittering breaks the resonances a fixed length has
// on targets with several scales; it is what the paper recommends.
//
// Preconditioning is the diagonal (or dense) inverse mass matrix M^-1 = S S^T
// of mclmc.hpp: the dynamics run on y = S^-1 x.
//
//   mams::init(position, logdensity)          -> State (a GradientState)
//   mams::Kernel{integrator, trajectory, ...}; kernel(key, state, f, params)
//   mams::sampler(logdensity, params, kernel) -> bundle with .init / .step
#pragma once

#include <algorithm>
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
#include "nutshell/mcmc/mclmc.hpp"

namespace nutshell::mams {

/// Position with its log density and gradient cached (the velocity is
/// redrawn every transition, so it is not part of the state).
using State = GradientState;

/// Tunables of one MAMS transition (what mams_adaptation finds).
struct Params {
  double step_size = 0.1;
  /// Trajectory length: the (mean) number of steps is L / step_size.
  double L = 1.0;
  /// Preconditioner M^-1; an identity of dimension 0 (the default) is the
  /// identity of any dimension.
  Metric inverse_mass_matrix{};
};

/// What happened in one transition (Blackjax's HMCInfo, minus the vectors).
struct Info {
  double acceptance_rate = 0.0;  ///< min(1, exp(-energy_change))
  bool is_accepted = false;
  /// Energy error above the threshold, or a non-finite trajectory.
  bool is_divergent = false;
  /// dE = kinetic change - (log p(x') - log p(x)) of the proposal; +inf
  /// when the trajectory was not finite.
  double energy_change = 0.0;
  double logdensity = 0.0;  ///< at the returned state
  int num_integration_steps = 0;
};

/// Scratch reused across transitions (allocation-free in steady state).
struct Workspace {
  IntegratorState z;
  Vec transformed;
  /// Sizes every buffer for `dim`; a no-op once sized.
  void resize(std::size_t dim) {
    ensure_size(z.position, dim);
    ensure_size(z.momentum, dim);
    ensure_size(z.logdensity_grad, dim);
    ensure_size(transformed, dim);
  }
};

/// How the number of integration steps per transition is chosen.
enum class TrajectoryKind {
  kFixed,          ///< round(L / step_size): Blackjax's adjusted_mclmc
  kUniformJitter,  ///< random with mean L / step_size: adjusted_mclmc_dynamic
};

/// s such that round(U * s + 0.5), U ~ uniform(0, 1), has mean mu (mu >= 1):
/// Blackjax's `rescale`.
inline double rescale(double mu) {
  const double k = std::floor(2.0 * mu - 1.0);
  const double x = k * (mu - 0.5 * (k + 1.0)) / (k + 1.0 - mu);
  return k + x;
}

/// The number of steps of one transition with mean L / step_size (capped at
/// max_steps so a tiny step size cannot stall a chain forever).
inline int num_steps(TrajectoryKind kind, const Key& key, double L, double step_size,
                     int max_steps) {
  const double mean = std::max(1.0, L / step_size);
  double n = 0.0;
  if (kind == TrajectoryKind::kFixed) {
    n = std::round(mean);
  } else {
    n = mean < 1.0 + 1e-12 ? 1.0 : std::round(uniform(key) * rescale(mean) + 0.5);
  }
  return static_cast<int>(std::clamp(n, 1.0, static_cast<double>(max_steps)));
}

/// The starting state: log density and gradient at `position` (validated).
template <LogDensity F>
absl::StatusOr<State> init(const Vec& position, F&& logdensity) {
  if (position.size() < 2)
    return absl::InvalidArgumentError(absl::StrCat(
        "MAMS needs a target with at least 2 dimensions, got ", position.size()));
  return init_gradient_state(position, logdensity);
}

/// The MAMS transition for a given isokinetic integrator and trajectory kind.
struct Kernel {
  using State = mams::State;
  using Params = mams::Params;
  using Info = mams::Info;
  using Workspace = mams::Workspace;

  Integrator integrator = mclachlan;
  TrajectoryKind trajectory = TrajectoryKind::kUniformJitter;
  double divergence_threshold = 1000.0;
  /// Upper bound on the steps of one trajectory.
  int max_num_steps = 1024;

  /// mams::init, where BoundSampler::init looks for it.
  template <LogDensity F>
  static absl::StatusOr<State> init(const Vec& position, F& logdensity) {
    return mams::init(position, logdensity);
  }

  /// One transition from `state` into `out` (must not alias `state`).
  /// Errors: invalid params or dimensions (d < 2 included) or a throwing log
  /// density. A non-finite trajectory is rejected and flagged divergent.
  template <LogDensity F>
  absl::Status step_into(const Key& key, const State& state, F& logdensity, const Params& params,
                         State& out, Info& info, Workspace& ws) const {
    if (auto s = check(state, params); !s.ok()) return s;
    const std::size_t dim = state.position.size();
    const Metric* metric = params.inverse_mass_matrix.kind() == Metric::Kind::kIdentity
                               ? nullptr
                               : &params.inverse_mass_matrix;
    ws.resize(dim);
    const auto keys = split<3>(key);  // velocity, number of steps, accept
    ops::copy(state.position, ws.z.position);
    ops::copy(state.logdensity_grad, ws.z.logdensity_grad);
    ws.z.logdensity = state.logdensity;
    mclmc::detail::random_unit_vector(keys[0], ws.z.momentum);
    const int n = num_steps(trajectory, keys[1], params.L, params.step_size, max_num_steps);

    double kinetic = 0.0;
    bool finite = true;
    for (int i = 0; i < n && finite; ++i) {
      auto k = mclmc::isokinetic_step(integrator, metric, logdensity, ws.z, params.step_size,
                                      ws.transformed);
      if (!k.ok()) return k.status();
      kinetic += *k;
      finite = std::isfinite(ws.z.logdensity) && std::isfinite(kinetic);
    }
    finite = finite && all_finite(ws.z.position) && all_finite(ws.z.logdensity_grad);
    const double energy_change = finite ? kinetic - (ws.z.logdensity - state.logdensity)
                                        : std::numeric_limits<double>::infinity();
    info.energy_change = energy_change;
    info.num_integration_steps = n;
    info.is_divergent = !finite || energy_change > divergence_threshold;
    info.acceptance_rate = finite ? std::min(1.0, std::exp(-energy_change)) : 0.0;
    info.is_accepted = finite && uniform(keys[2]) < info.acceptance_rate;
    if (info.is_accepted) {
      ops::copy(ws.z.position, out.position);
      ops::copy(ws.z.logdensity_grad, out.logdensity_grad);
      out.logdensity = ws.z.logdensity;
    } else {
      assign(out, state);
    }
    info.logdensity = out.logdensity;
    return absl::OkStatus();
  }

  /// Pure form (see pure_step): returns a new state and info, allocated.
  template <LogDensity F>
  absl::StatusOr<Transition<State, Info>> operator()(const Key& key, const State& state,
                                                     F&& logdensity, const Params& params) const {
    return pure_step(*this, key, state, logdensity, params);
  }

 private:
  absl::Status check(const State& state, const Params& params) const {
    if (auto s = nutshell::detail::check_step_size(params.step_size); !s.ok()) return s;
    if (!(params.L > 0.0) || !std::isfinite(params.L))
      return absl::InvalidArgumentError(
          absl::StrCat("MAMS trajectory length L must be finite and > 0, got ", params.L));
    if (max_num_steps < 1) return absl::InvalidArgumentError("max_num_steps must be >= 1");
    if (auto s = nutshell::detail::check_gradient_state(state); !s.ok()) return s;
    const std::size_t dim = state.position.size();
    if (dim < 2)
      return absl::InvalidArgumentError(
          absl::StrCat("MAMS needs a target with at least 2 dimensions, got ", dim));
    const Metric& m = params.inverse_mass_matrix;
    if (m.kind() == Metric::Kind::kIdentity && m.dim() == 0) return absl::OkStatus();
    return nutshell::detail::check_metric(m, dim);
  }
};

/// A log density, parameters and kernel bound together (Blackjax's
/// `blackjax.adjusted_mclmc_dynamic(...)`). Holds its scratch: one chain.
template <LogDensity F>
using Sampler = BoundSampler<Kernel, F, Params>;

/// Binds a log density, MAMS parameters and kernel.
template <LogDensity F>
Sampler<std::decay_t<F>> sampler(F&& logdensity, Params params, Kernel kernel = {}) {
  return {std::forward<F>(logdensity), std::move(params), kernel};
}

}  // namespace nutshell::mams
