// The No-U-Turn Sampler, with exactly the semantics of Stan >= 2.21
// (`base_nuts.hpp`): multinomial sampling, trajectory doubling in a random
// direction, the generalized no-U-turn criterion on the summed momentum with
// the extra checks across the two halves of every merged subtree, and Stan's
// divergence and acceptance-statistic conventions.
//
// Layers, as in hmc.hpp:
//   nuts::init(position, logdensity)                      -> State
//   nuts::build_kernel(integrator, max_doublings, thresh)  -> Kernel; kernel(key, state, f, params)
//   nuts::sampler(logdensity, params)                      -> bundle with .init / .step
//
// The tree is built iteratively. A subtree of 2^h leaves is grown leaf by
// leaf; after leaf i the completed nodes are merged bottom-up exactly where
// Stan's recursion would merge them (once per trailing one bit of i), so the
// multinomial choices and U-turn checks are Stan's, in Stan's order. Pending
// left siblings wait in a per-height stack of node buffers carved out of one
// allocation made on first use; results move between slots by swapping
// pointers, so a steady-state transition allocates nothing. Each merge's
// vector work is one fused loop, because at moderate dimension the tree
// bookkeeping, not the gradient, would otherwise dominate.
//
// Randomness: every choice is a pure function of the step key (KeySchedule),
// addressed by where in the tree it is made rather than by the order in which
// it is drawn, so any correct implementation asking for the same choices gets
// the same numbers (tests run a recursive transcription of Stan against this).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
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
#include "nutshell/mcmc/nuts_tree.hpp"

namespace nutshell::nuts {

using State = GradientState;

/// Tunables of one NUTS transition: what window adaptation changes between
/// calls.
struct Params {
  double step_size = 1.0;
  Metric inverse_mass_matrix;
  /// Each transition integrates with step_size x u, u uniform on
  /// [1 - j, 1 + j] (nuts-rs's jitter, 0.1 there; 0, the default, is Stan's
  /// fixed step). u comes from the step key (KeySchedule::jitter_uniform),
  /// so the draws for j = 0 do not depend on it. Must be in [0, 1).
  double step_size_jitter = 0.0;
};

/// What happened in one transition.
struct Info {
  Vec momentum;               ///< the momentum drawn at the start
  bool is_divergent = false;  ///< a leaf had H - H0 > threshold or a non-finite energy
  bool is_turning = false;    ///< stopped by a U-turn (top level or inside the last subtree)
  double energy = 0.0;        ///< Hamiltonian at the returned point (Stan's energy__)
  int num_trajectory_expansions = 0;  ///< completed doublings (Stan's treedepth__)
  /// Integrator steps taken, rejected subtrees included (Stan's n_leapfrog__;
  /// multiply by integrator.gradient_evaluations() for gradient counts).
  int num_integration_steps = 0;
  /// Mean of min(1, exp(H0 - H)) over every state integrated (rejected
  /// subtrees included, initial point excluded): Stan's accept_stat__, the
  /// dual-averaging target.
  double acceptance_rate = 0.0;
  /// With Kernel::symmetric_acceptance (else 0): the mean of the symmetric
  /// statistic 2 / (1 + exp(|H0 - H|)) over the same states (0 for a
  /// divergent or non-finite one). It penalises energy errors of either
  /// sign alike; nuts-rs's dual averaging targets it late in warmup
  /// (FisherAdaptationOptions::symmetric_acceptance_late).
  double symmetric_acceptance_rate = 0.0;
  /// The step size this transition integrated with (Params::step_size
  /// unless jittered).
  double step_size = 0.0;
};

/// Evaluates the log density and gradient at `position` (validated).
template <LogDensity F>
absl::StatusOr<State> init(const Vec& position, F&& logdensity) {
  return init_gradient_state(position, logdensity);
}

/// The NUTS transition for fixed structural choices.
struct Kernel {
  using State = nuts::State;
  using Params = nuts::Params;
  using Info = nuts::Info;
  using Workspace = nuts::Workspace;

  Integrator integrator = velocity_verlet;
  /// Stan's max_depth: at most 2^max - 1 integration steps per transition.
  /// Must be in [1, 30].
  int max_num_doublings = 10;
  /// A leaf with H - H0 above this is divergent and ends the transition.
  double divergence_threshold = 1000.0;
  /// Report Info::symmetric_acceptance_rate (one division per integrator
  /// step, about 2% of a transition on gauss_100; off by default, so that
  /// sampling does not pay for it). The Fisher warmup turns it on for its
  /// own transitions.
  bool symmetric_acceptance = false;

  /// One transition from `state` into `out` (which must not alias `state`),
  /// using `ws` as scratch. Errors: invalid params or dimensions, a state
  /// whose energy is not finite, or a log density that throws. Divergences
  /// are reported in `info`, not as errors.
  template <LogDensity F>
  absl::Status step_into(const Key& key, const State& state, F& logdensity, const Params& params,
                         State& out, Info& info, Workspace& ws) const;

  /// Pure form (see pure_step): returns a new state and info, allocated.
  template <LogDensity F>
  absl::StatusOr<Transition<State, Info>> operator()(const Key& key, const State& state,
                                                     F&& logdensity, const Params& params) const {
    return pure_step(*this, key, state, logdensity, params);
  }
};

/// The NUTS kernel with the given integrator, maximum number of doublings and
/// divergence threshold (Stan's and Blackjax's defaults).
inline Kernel build_kernel(Integrator integrator = velocity_verlet, int max_num_doublings = 10,
                           double divergence_threshold = 1000.0) {
  return Kernel{integrator, max_num_doublings, divergence_threshold};
}

namespace detail {

inline absl::Status check_inputs(const Kernel& kernel, const State& state, const Params& params) {
  if (auto s = nutshell::detail::check_step_size(params.step_size); !s.ok()) return s;
  if (!(params.step_size_jitter >= 0.0 && params.step_size_jitter < 1.0))
    return absl::InvalidArgumentError(
        absl::StrCat("step_size_jitter must be in [0, 1), got ", params.step_size_jitter));
  if (kernel.max_num_doublings < 1 || kernel.max_num_doublings > 30)
    return absl::InvalidArgumentError(
        absl::StrCat("max_num_doublings must be in [1, 30], got ", kernel.max_num_doublings));
  if (!(kernel.divergence_threshold > 0.0))
    return absl::InvalidArgumentError(
        absl::StrCat("divergence_threshold must be > 0, got ", kernel.divergence_threshold));
  if (auto s = nutshell::detail::check_gradient_state(state); !s.ok()) return s;
  return nutshell::detail::check_metric(params.inverse_mass_matrix, state.position.size());
}

/// One NUTS trajectory from `state` with the given initial `momentum` and
/// random choices: the kernel's core, exposed so tests can force directions
/// and momenta. The sample is the initial point if `result.selected_initial`,
/// else `ws.sample`; `ws.trajectory_rho()` is the summed momentum of the
/// accepted trajectory. `momentum_velocity`, when given, is M^-1 momentum
/// (from Metric::sample_momentum(key, p, v)); it is used only by
/// non-diagonal metrics, which otherwise compute it.
template <LogDensity F, TreeChoices C>
absl::Status build_trajectory(const Kernel& kernel, F& logdensity, const Params& params,
                              const State& state, const Vec& momentum, C& choices, Workspace& ws,
                              TrajectoryResult& result, const Vec* momentum_velocity = nullptr) {
  if (auto s = check_inputs(kernel, state, params); !s.ok()) return s;
  const std::size_t dim = state.position.size();
  if (auto s = nutshell::detail::check_dimension("the momentum", momentum.size(), dim); !s.ok())
    return s;
  ws.resize(dim, kernel.max_num_doublings);

  result = TrajectoryResult{};
  for (IntegratorState& z : ws.ends) {
    ops::copy(state.position, z.position);
    ops::copy(momentum, z.momentum);
    ops::copy(state.logdensity_grad, z.logdensity_grad);
    z.logdensity = state.logdensity;
  }
  const Metric& metric = params.inverse_mass_matrix;
  if (metric.is_diagonal()) {
    result.h0 = hamiltonian(metric, ws.ends[0], ws.end_v[0], ws.dense_v);
  } else {
    // Dense or low rank: the integrator carries v = M^-1 p and M^-1 grad
    // from here on (nuts_leapfrog.hpp); the energy uses that v.
    // M^-1 grad at the start is usually the one the previous transition
    // carried to its returned point (Workspace::cached_grad_velocity).
    const bool cached = ws.cached_metric_id == metric.id() && metric.id() != 0 &&
                        std::memcmp(state.logdensity_grad.data(), ws.cached_grad.data(),
                                    dim * sizeof(double)) == 0;  // bitwise
    start_carrying(metric, ws.ends[0], ws.carried[0], momentum_velocity,
                   cached ? &ws.cached_grad_velocity : nullptr);
    if (!cached) {
      ops::copy(state.logdensity_grad, ws.cached_grad);
      ops::copy(ws.carried[0].grad_velocity, ws.cached_grad_velocity);
      ws.cached_metric_id = metric.id();
    }
    ops::copy(ws.carried[0].velocity, ws.carried[1].velocity);
    ops::copy(ws.carried[0].grad_velocity, ws.carried[1].grad_velocity);
    const Vec& v0 = ws.carried[0].velocity;
    std::copy(v0.begin(), v0.end(), ws.end_v[0]);
    result.h0 = leaf_energy(state.logdensity, 0.5 * ops::dot(momentum, v0));
  }
  if (!std::isfinite(result.h0))
    return absl::InvalidArgumentError(
        "the initial energy is not finite: check the state's log density and the momentum");
  std::copy(ws.end_v[0], ws.end_v[0] + dim, ws.end_v[1]);
  std::copy(momentum.begin(), momentum.end(), ws.end_p[0]);
  std::copy(momentum.begin(), momentum.end(), ws.end_p[1]);
  std::copy(momentum.begin(), momentum.end(), ws.rho);
  result.sum_weight = 1.0;  // the initial point has weight exp(H0 - H0)
  result.weight_shift = 0.0;

  result.step_size = params.step_size;
  if (params.step_size_jitter > 0.0)
    result.step_size *= 1.0 + params.step_size_jitter * (2.0 * choices.jitter_uniform() - 1.0);
  TreeBuilder<F, C> builder(kernel.integrator, kernel.divergence_threshold, logdensity,
                            params.inverse_mass_matrix, result.step_size, choices, ws, result,
                            kernel.symmetric_acceptance);
  while (result.depth < kernel.max_num_doublings) {
    const int expansion = result.depth;
    const int side = choices.direction(expansion) > 0 ? 1 : 0;
    Subtree outcome = Subtree::kValid;
    Workspace::Node* sub = nullptr;
    if (auto s = builder.build_subtree(expansion, expansion, side, outcome, sub); !s.ok()) return s;
    if (outcome != Subtree::kValid) {
      // Nothing from an invalid subtree can be selected.
      result.is_divergent = outcome == Subtree::kDivergent;
      result.is_turning = outcome == Subtree::kTurning;
      break;
    }
    ++result.depth;
    if (!builder.merge_into_trajectory(expansion, side, *sub)) {
      result.is_turning = true;
      break;
    }
  }
  if (!metric.is_diagonal() && !result.selected_initial) {
    // The returned point's M^-1 grad, for the next transition.
    std::copy(ws.sample.logdensity_grad, ws.sample.logdensity_grad + dim, ws.cached_grad.begin());
    std::copy(ws.sample.grad_velocity, ws.sample.grad_velocity + dim,
              ws.cached_grad_velocity.begin());
  }
  return absl::OkStatus();
}

}  // namespace detail

template <LogDensity F>
absl::Status Kernel::step_into(const Key& key, const State& state, F& logdensity,
                               const Params& params, State& out, Info& info, Workspace& ws) const {
  if (auto s = detail::check_inputs(*this, state, params); !s.ok()) return s;
  const std::size_t dim = state.position.size();
  ws.resize(dim, max_num_doublings);
  KeySchedule schedule(key);
  const Metric& metric = params.inverse_mass_matrix;
  // Non-diagonal metrics get M^-1 p with the draw, cheaper than afterwards.
  const bool with_velocity = !metric.is_diagonal();
  if (with_velocity)
    metric.sample_momentum(schedule.momentum_key(), ws.momentum, ws.velocity);
  else
    metric.sample_momentum(schedule.momentum_key(), ws.momentum);
  detail::TrajectoryResult r;
  if (auto s = detail::build_trajectory(*this, logdensity, params, state, ws.momentum, schedule,
                                        ws, r, with_velocity ? &ws.velocity : nullptr);
      !s.ok())
    return s;
  ops::copy(ws.momentum, info.momentum);
  info.is_divergent = r.is_divergent;
  info.is_turning = r.is_turning;
  info.num_trajectory_expansions = r.depth;
  info.num_integration_steps = r.num_steps;
  info.acceptance_rate = r.sum_metro_prob / r.num_steps;  // at least one step is always taken
  info.symmetric_acceptance_rate = r.sum_symmetric_prob / r.num_steps;
  info.step_size = r.step_size;
  if (r.selected_initial) {
    assign(out, state);
    info.energy = r.h0;
  } else {
    ensure_size(out.position, dim);
    ensure_size(out.logdensity_grad, dim);
    std::copy(ws.sample.position, ws.sample.position + dim, out.position.begin());
    std::copy(ws.sample.logdensity_grad, ws.sample.logdensity_grad + dim,
              out.logdensity_grad.begin());
    out.logdensity = ws.sample.logdensity;
    info.energy = ws.sample.energy;
  }
  return absl::OkStatus();
}

/// A log density, parameters and kernel bound together (Blackjax's
/// `blackjax.nuts(...)`). Holds its own scratch, so one sampler object serves
/// one chain at a time; copy it for another thread.
template <LogDensity F>
using Sampler = BoundSampler<Kernel, F, Params>;

/// Binds a log density, NUTS parameters and kernel options.
template <LogDensity F>
Sampler<std::decay_t<F>> sampler(F&& logdensity, Params params, Kernel kernel = {}) {
  return {std::forward<F>(logdensity), std::move(params), kernel};
}

}  // namespace nutshell::nuts
