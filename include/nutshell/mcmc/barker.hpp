// The Barker proposal (Livingstone and Zanella 2022), Metropolis-adjusted.
//
// In coordinates whitened by S, where S S^T is the inverse mass matrix (the
// identity by default), each coordinate draws z ~ N(0, step_size^2) and keeps
// its sign with probability sigmoid(z g_i), g = S^T grad log p(x), flipping it
// otherwise; the move is y = x + S w with w = +-z. The gradient only tilts the
// *sign*, never the size, of each move, so unlike MALA a large gradient cannot
// throw the chain far away: the kernel is far less sensitive to the step size
// and to heterogeneous scales. An MH test with the proposal ratio
//   q(x | y) / q(y | x) = prod_i sigmoid(-w_i g_i(y)) / sigmoid(w_i g_i(x))
// makes it exact.
//
//   barker::init(position, logdensity)        -> State
//   barker::build_kernel()                    -> Kernel; kernel(key, state, logdensity, params)
//   barker::sampler(logdensity, params)       -> .init / .step
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/status/statusor.h"
#include "nutshell/core/kernel_api.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/core/metric.hpp"
#include "nutshell/core/metropolis.hpp"
#include "nutshell/core/state.hpp"
#include "nutshell/core/validation.hpp"

namespace nutshell::barker {

using State = GradientState;

/// Tunables of one transition.
struct Params {
  double step_size = 1.0;
  /// The preconditioner, as in HMC (an estimate of the posterior covariance).
  /// Default-constructed (dimension 0) means none, whatever the dimension.
  /// Diagonal is the usual choice; dense works too, at O(d^2) per step.
  Metric inverse_mass_matrix;
};

/// What happened in one transition.
struct Info {
  double acceptance_rate = 0.0;  ///< min(1, MH ratio)
  bool is_accepted = false;
  bool is_divergent = false;  ///< the proposal's log density or gradient was not finite
};

/// Scratch buffers reused across transitions (one per chain), so a
/// steady-state step allocates nothing.
struct Workspace {
  GradientState proposal;
  Vec increment;      // w, in whitened coordinates
  Vec whitened_grad;  // S^T grad, at x then at y
  void resize(std::size_t dim) {
    ensure_size(proposal.position, dim);
    ensure_size(proposal.logdensity_grad, dim);
    ensure_size(increment, dim);
    ensure_size(whitened_grad, dim);
  }
};

/// Evaluates the log density and gradient at `position` (validated).
template <LogDensity F>
absl::StatusOr<State> init(const Vec& position, F&& logdensity) {
  return init_gradient_state(position, logdensity);
}

namespace detail {

// out = S^T grad.
inline void whiten_gradient(const Metric& m, const Vec& grad, Vec& out) {
  const std::size_t n = grad.size();
  switch (m.kind()) {
    case Metric::Kind::kIdentity:
      for (std::size_t i = 0; i < n; ++i) out(i) = grad(i);
      return;
    case Metric::Kind::kDiagonal:
      for (std::size_t i = 0; i < n; ++i)
        out(i) = std::sqrt(m.inverse_mass_diagonal()(i)) * grad(i);
      return;
    case Metric::Kind::kDense:
      for (std::size_t j = 0; j < n; ++j) {
        double s = 0.0;
        for (std::size_t i = j; i < n; ++i) s += m.cholesky()(i, j) * grad(i);
        out(j) = s;
      }
      return;
    case Metric::Kind::kLowRank:
      m.sqrt_transpose_times(grad, out);
      return;
  }
}

// y = x + S w.
inline void move(const Metric& m, const Vec& x, const Vec& w, Vec& y) {
  const std::size_t n = x.size();
  switch (m.kind()) {
    case Metric::Kind::kIdentity:
      for (std::size_t i = 0; i < n; ++i) y(i) = x(i) + w(i);
      return;
    case Metric::Kind::kDiagonal:
      for (std::size_t i = 0; i < n; ++i)
        y(i) = x(i) + std::sqrt(m.inverse_mass_diagonal()(i)) * w(i);
      return;
    case Metric::Kind::kDense:
      for (std::size_t i = 0; i < n; ++i) {
        double s = 0.0;
        for (std::size_t j = 0; j <= i; ++j) s += m.cholesky()(i, j) * w(j);
        y(i) = x(i) + s;
      }
      return;
    case Metric::Kind::kLowRank:
      for (std::size_t i = 0; i < n; ++i) y(i) = x(i);
      m.add_sqrt_times(1.0, w, y);
      return;
  }
}

// log(1 + exp(a)) = -log sigmoid(-a), without overflow.
inline double softplus(double a) { return std::max(a, 0.0) + std::log1p(std::exp(-std::abs(a))); }

}  // namespace detail

/// The Barker transition.
struct Kernel {
  using State = barker::State;
  using Params = barker::Params;
  using Info = barker::Info;
  using Workspace = barker::Workspace;

  /// One transition from `state` into `out` (must not alias `state`). Errors:
  /// invalid step size or dimensions, or a throwing log density. A non-finite
  /// proposal is rejected and flagged, never stored.
  template <LogDensity F>
  absl::Status step_into(const Key& key, const State& state, F& logdensity, const Params& params,
                         State& out, Info& info, Workspace& ws) const {
    if (auto s = nutshell::detail::check_step_size(params.step_size); !s.ok()) return s;
    if (auto s = nutshell::detail::check_gradient_state(state); !s.ok()) return s;
    const std::size_t dim = state.position.size();
    const Metric& metric = params.inverse_mass_matrix;
    if (metric.dim() != 0)
      if (auto s = nutshell::detail::check_metric(metric, dim); !s.ok()) return s;
    ws.resize(dim);
    const auto keys = split<3>(key);

    normal(keys[0], ws.increment);
    detail::whiten_gradient(metric, state.logdensity_grad, ws.whitened_grad);
    Stream signs(keys[1]);
    double log_forward = 0.0;  // -log q(y | x), up to the shared Gaussian factor
    for (std::size_t i = 0; i < dim; ++i) {
      const double z = params.step_size * ws.increment(i);
      const double keep = 1.0 / (1.0 + std::exp(-z * ws.whitened_grad(i)));
      ws.increment(i) = signs.uniform() < keep ? z : -z;
      log_forward += detail::softplus(-ws.increment(i) * ws.whitened_grad(i));
    }
    detail::move(metric, state.position, ws.increment, ws.proposal.position);

    auto lp = evaluate(logdensity, ws.proposal.position, ws.proposal.logdensity_grad);
    if (!lp.ok()) return lp.status();
    ws.proposal.logdensity = *lp;
    const bool finite = std::isfinite(*lp) && all_finite(ws.proposal.logdensity_grad) &&
                        all_finite(ws.proposal.position);
    double log_ratio = -std::numeric_limits<double>::infinity();
    if (finite) {
      detail::whiten_gradient(metric, ws.proposal.logdensity_grad, ws.whitened_grad);
      double log_backward = 0.0;  // -log q(x | y): the reverse move is -w
      for (std::size_t i = 0; i < dim; ++i)
        log_backward += detail::softplus(ws.increment(i) * ws.whitened_grad(i));
      log_ratio = *lp - state.logdensity + log_forward - log_backward;
    }
    info.is_divergent = !finite;
    assign(out, metropolis_accept(keys[2], log_ratio, info) ? ws.proposal : state);
    return absl::OkStatus();
  }

  /// Pure form (see pure_step): returns a new state and info, allocated.
  template <LogDensity F>
  absl::StatusOr<Transition<State, Info>> operator()(const Key& key, const State& state,
                                                     F&& logdensity, const Params& params) const {
    return pure_step(*this, key, state, logdensity, params);
  }
};

/// The kernel (it has no structural options; kept for the three-layer API).
inline Kernel build_kernel() { return Kernel{}; }

/// A log density and parameters bound together (Blackjax's `blackjax.barker`).
/// Holds its own scratch: one chain at a time.
template <LogDensity F>
using Sampler = BoundSampler<Kernel, F, Params>;

/// Binds a log density and Barker parameters.
template <LogDensity F>
Sampler<std::decay_t<F>> sampler(F&& logdensity, Params params) {
  return {std::forward<F>(logdensity), std::move(params)};
}

}  // namespace nutshell::barker
