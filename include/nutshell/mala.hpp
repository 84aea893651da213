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
#include "nutshell/key.hpp"
#include "nutshell/logdensity.hpp"
#include "nutshell/state.hpp"
#include "nutshell/validation.hpp"

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

struct Kernel {
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
    if (std::isnan(log_ratio)) log_ratio = -std::numeric_limits<double>::infinity();
    info.is_divergent = !finite;
    info.acceptance_rate = std::min(1.0, std::exp(log_ratio));
    info.is_accepted = finite && uniform(keys[1]) < info.acceptance_rate;
    assign(out, info.is_accepted ? ws.proposal : state);
    return absl::OkStatus();
  }

  template <LogDensity F>
  absl::StatusOr<Transition<State, Info>> operator()(const Key& key, const State& state,
                                                     F&& logdensity, const Params& params) const {
    Workspace ws;
    Transition<State, Info> t;
    auto s = step_into(key, state, logdensity, params, t.state, t.info, ws);
    if (!s.ok()) return s;
    return t;
  }
};

inline Kernel build_kernel() { return Kernel{}; }

/// A log density and step size bound together (Blackjax's `blackjax.mala`).
template <LogDensity F>
class Sampler {
 public:
  using State = mala::State;
  using Info = mala::Info;
  Sampler(F logdensity, Params params) : logdensity_(std::move(logdensity)), params_(params) {}
  absl::StatusOr<State> init(const Vec& position) { return mala::init(position, logdensity_); }
  absl::StatusOr<Transition<State, Info>> step(const Key& key, const State& state) {
    Transition<State, Info> t;
    auto s = step_into(key, state, t.state, t.info);
    if (!s.ok()) return s;
    return t;
  }
  absl::Status step_into(const Key& key, const State& state, State& out, Info& info) {
    return Kernel{}.step_into(key, state, logdensity_, params_, out, info, ws_);
  }
  const Params& params() const { return params_; }

 private:
  F logdensity_;
  Params params_;
  Workspace ws_;
};

template <LogDensity F>
Sampler<std::decay_t<F>> sampler(F&& logdensity, Params params) {
  return Sampler<std::decay_t<F>>(std::forward<F>(logdensity), params);
}

}  // namespace nutshell::mala
