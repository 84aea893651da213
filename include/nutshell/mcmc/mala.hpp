// Metropolis-adjusted Langevin algorithm (Roberts and Tweedie 1996).
//
// Proposal x' = x + eps * grad log p(x) + sqrt(2 eps) * z, corrected by a
// Metropolis-Hastings test with the asymmetric Gaussian proposal density
// (Blackjax's step-size convention).
#pragma once

#include <cmath>
#include <limits>
#include <utility>

#include "absl/status/statusor.h"
#include "nutshell/core/kernel_api.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/core/metropolis.hpp"
#include "nutshell/core/state.hpp"
#include "nutshell/core/validation.hpp"

namespace nutshell::mala {

using State = GradientState;

struct Params {
  double step_size = 1.0;
};

struct Info {
  double acceptance_rate = 0.0;
  bool is_accepted = false;
  bool is_divergent = false;  ///< the proposal's log density or gradient was not finite
};

struct Workspace {
  GradientState proposal;
  Vec noise;
  void resize(std::size_t dim) {
    ensure_size(proposal.position, dim);
    ensure_size(proposal.logdensity_grad, dim);
    ensure_size(noise, dim);
  }
};

template <LogDensity F>
absl::StatusOr<State> init(const Vec& position, F&& logdensity) {
  return init_gradient_state(position, logdensity);
}

namespace detail {
// log q(to | from) up to a constant shared by both directions.
inline double log_proposal(const Vec& to, const GradientState& from, double eps) {
  double s = 0.0;
  for (std::size_t i = 0; i < to.size(); ++i) {
    const double r = to(i) - from.position(i) - eps * from.logdensity_grad(i);
    s += r * r;
  }
  return -s / (4.0 * eps);
}
}  // namespace detail

/// The MALA transition.
struct Kernel {
  using State = mala::State;
  using Params = mala::Params;
  using Info = mala::Info;
  using Workspace = mala::Workspace;

  /// One MALA transition into `out` (must not alias `state`).
  template <LogDensity F>
  absl::Status step_into(const Key& key, const State& state, F& logdensity, const Params& params,
                         State& out, Info& info, Workspace& ws) const {
    if (auto s = nutshell::detail::check_step_size(params.step_size); !s.ok()) return s;
    if (auto s = nutshell::detail::check_gradient_state(state); !s.ok()) return s;
    const double eps = params.step_size;
    const std::size_t dim = state.position.size();
    ws.resize(dim);
    const auto keys = split<2>(key);
    normal(keys[0], ws.noise);
    const double scale = std::sqrt(2.0 * eps);
    for (std::size_t i = 0; i < dim; ++i)
      ws.proposal.position(i) =
          state.position(i) + eps * state.logdensity_grad(i) + scale * ws.noise(i);
    auto lp = evaluate(logdensity, ws.proposal.position, ws.proposal.logdensity_grad);
    if (!lp.ok()) return lp.status();
    ws.proposal.logdensity = *lp;
    const bool finite = std::isfinite(*lp) && all_finite(ws.proposal.logdensity_grad);
    double log_ratio = -std::numeric_limits<double>::infinity();
    if (finite)
      log_ratio = *lp - state.logdensity +
                  detail::log_proposal(state.position, ws.proposal, eps) -
                  detail::log_proposal(ws.proposal.position, state, eps);
    info.is_divergent = !finite;
    assign(out, metropolis_accept(keys[1], log_ratio, info) ? ws.proposal : state);
    return absl::OkStatus();
  }

  /// Pure form (see pure_step): returns a new state and info, allocated.
  template <LogDensity F>
  absl::StatusOr<Transition<State, Info>> operator()(const Key& key, const State& state,
                                                     F&& logdensity, const Params& params) const {
    return pure_step(*this, key, state, logdensity, params);
  }
};

/// The MALA kernel (no structural options; kept for the three-layer API).
inline Kernel build_kernel() { return Kernel{}; }

/// A log density and step size bound together (Blackjax's `blackjax.mala`).
/// Holds its own scratch: one chain at a time.
template <LogDensity F>
using Sampler = BoundSampler<Kernel, F, Params>;

/// Binds a log density and a MALA step size.
template <LogDensity F>
Sampler<std::decay_t<F>> sampler(F&& logdensity, Params params) {
  return {std::forward<F>(logdensity), params};
}

}  // namespace nutshell::mala
