// Slice sampling (Neal 2003), stepping-out and shrinkage, gradient-free.
//
// A univariate slice update along a line t -> x + t d: draw a level under the
// density at t = 0, place an interval of one width at random around 0, step
// it out by whole widths while its ends are inside the slice (at most
// `max_stepping_out` extensions, split at random between the two ends as in
// Neal's Fig. 3, which keeps the update reversible), then sample uniformly in
// the interval, shrinking it towards 0 on each rejection. A transition is
// either a sweep over every coordinate in turn, or one update along a random
// direction (hit-and-run). The width only affects speed, never correctness.
//
//   slice::init(position, logdensity)                   -> State
//   slice::build_kernel(max_shrinkage_steps)            -> Kernel;
//       kernel(key, state, logdensity, params)
//   slice::sampler(logdensity, params)                  -> .init / .step
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/kernel_api.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/core/state.hpp"
#include "nutshell/core/vector_ops.hpp"

namespace nutshell::slice {

using State = PositionState;

/// Which lines a transition slice-samples along.
enum class Direction {
  /// A sweep: every coordinate in turn, in order, each with its own width.
  /// Cheap per update; slow when coordinates are strongly correlated.
  kCoordinatewise,
  /// One line along w .* u with u a uniformly random unit vector: the widths
  /// act as a diagonal preconditioner, and the width along the line is 1.
  kRandom,
};

/// Tunables of one transition.
struct Params {
  /// The initial interval width: one entry for every coordinate, or one per
  /// coordinate. About one posterior sd is a good choice; too small costs
  /// stepping out, too large costs shrinkage.
  Vec width = Vec{1.0};
  /// Most extensions of the interval per update (Neal's m - 1): bounds the
  /// cost on heavy tails; 0 disables stepping out.
  int max_stepping_out = 32;
  Direction direction = Direction::kCoordinatewise;
};

/// What happened in one transition (summed over a sweep's coordinates).
struct Info {
  int num_evaluations = 0;      ///< points tried (density calls): the cost of the step
  int num_stepping_out = 0;     ///< interval extensions
  int num_shrinkage_steps = 0;  ///< rejected points inside the interval
  /// Some evaluated point, or its log density, was not finite. Such points
  /// count as outside the slice (never stored); on a bounded support this is
  /// expected and harmless, elsewhere it points at a broken density.
  bool is_divergent = false;
};

/// Scratch buffers for random-direction updates (the sweep needs none).
struct Workspace {
  Vec direction;
  Vec point;
};

/// Evaluates the log density at `position`; fails unless it is finite.
template <LogDensityValue F>
absl::StatusOr<State> init(const Vec& position, F&& logdensity) {
  return init_position_state(position, logdensity);
}

namespace detail {

inline absl::Status check_params(const Params& params, std::size_t dim) {
  if (params.width.size() != 1 && params.width.size() != dim)
    return absl::InvalidArgumentError(
        absl::StrCat("slice width must have 1 entry or one per coordinate (", dim, "), got ",
                     params.width.size()));
  for (std::size_t i = 0; i < params.width.size(); ++i)
    if (!std::isfinite(params.width(i)) || !(params.width(i) > 0.0))
      return absl::InvalidArgumentError(
          absl::StrCat("slice width must be finite and > 0; entry ", i, " is ", params.width(i)));
  if (params.max_stepping_out < 0)
    return absl::InvalidArgumentError(absl::StrCat("max_stepping_out must be >= 0, got ",
                                                   params.max_stepping_out));
  if (params.direction != Direction::kCoordinatewise && params.direction != Direction::kRandom)
    return absl::InvalidArgumentError("unknown slice direction mode");
  return absl::OkStatus();
}

inline double width_of(const Params& params, std::size_t i) {
  return params.width(params.width.size() == 1 ? 0 : i);
}

/// Where a univariate update landed.
struct Point1d {
  double t = 0.0;
  double logdensity = 0.0;
};

/// One univariate update from t = 0, where the log density is `logdensity0`.
/// `eval(t)` returns the log density at t as a StatusOr (NaN for a point that
/// is not finite). Errors: a throwing density, or `max_shrinkage_steps`.
template <class Eval>
absl::StatusOr<Point1d> update_1d(Eval& eval, double logdensity0, double width,
                                  int max_stepping_out, int max_shrinkage_steps, Stream& draws,
                                  Info& info) {
  const double level = logdensity0 - draws.exponential();
  // Evaluates at t and says whether t is in the slice.
  auto inside = [&](double t) -> absl::StatusOr<bool> {
    auto lp = eval(t);
    if (!lp.ok()) return lp.status();
    ++info.num_evaluations;
    if (!std::isfinite(*lp)) {
      info.is_divergent = true;
      return false;
    }
    return *lp > level;
  };
  double lo = -width * draws.uniform();
  double hi = lo + width;
  int left = static_cast<int>(std::floor((max_stepping_out + 1.0) * draws.uniform()));
  if (left > max_stepping_out) left = max_stepping_out;  // uniform() < 1, but be safe
  int right = max_stepping_out - left;
  for (; left > 0; --left) {
    auto in = inside(lo);
    if (!in.ok()) return in.status();
    if (!*in) break;
    lo -= width;
    ++info.num_stepping_out;
  }
  for (; right > 0; --right) {
    auto in = inside(hi);
    if (!in.ok()) return in.status();
    if (!*in) break;
    hi += width;
    ++info.num_stepping_out;
  }
  for (int shrink = 0;; ++shrink) {
    const double t = lo + (hi - lo) * draws.uniform();
    auto lp = eval(t);
    if (!lp.ok()) return lp.status();
    ++info.num_evaluations;
    const bool finite = std::isfinite(*lp);
    info.is_divergent = info.is_divergent || !finite;
    if (finite && *lp > level) return Point1d{t, *lp};
    if (shrink >= max_shrinkage_steps)
      return absl::InternalError(absl::StrCat(
          "slice: no point accepted after ", max_shrinkage_steps,
          " shrinkage steps; is the log density deterministic and the cached value current?"));
    if (t < 0.0)
      lo = t;
    else
      hi = t;
    ++info.num_shrinkage_steps;
  }
}

}  // namespace detail

/// The slice transition.
struct Kernel {
  using State = slice::State;
  using Params = slice::Params;
  using Info = slice::Info;
  using Workspace = slice::Workspace;

  /// Shrinkage provably ends (the interval closes on the current point, which
  /// is in the slice), so reaching this cap means a non-deterministic density
  /// or a stale cached value: an error rather than an endless loop.
  int max_shrinkage_steps = 1000;

  /// One transition from `state` into `out` (must not alias `state`). Errors:
  /// invalid params or dimensions, a non-finite cached log density, a throwing
  /// density, or the shrinkage cap.
  template <LogDensityValue F>
  absl::Status step_into(const Key& key, const State& state, F& logdensity, const Params& params,
                         State& out, Info& info, Workspace& ws) const {
    const std::size_t dim = state.position.size();
    if (dim == 0) return absl::InvalidArgumentError("state position is empty");
    if (auto s = detail::check_params(params, dim); !s.ok()) return s;
    if (!std::isfinite(state.logdensity))
      return absl::InvalidArgumentError(
          absl::StrCat("state log density is not finite (", state.logdensity, ")"));
    assign(out, state);
    info = Info{};
    Stream draws(key);
    if (params.direction == Direction::kCoordinatewise) {
      for (std::size_t i = 0; i < dim; ++i) {
        const double xi = out.position(i);
        auto eval = [&](double t) -> absl::StatusOr<double> {
          const double v = xi + t;
          if (!std::isfinite(v)) return std::numeric_limits<double>::quiet_NaN();
          out.position(i) = v;
          return evaluate(logdensity, out.position);
        };
        auto p = detail::update_1d(eval, out.logdensity, detail::width_of(params, i),
                                   params.max_stepping_out, max_shrinkage_steps, draws, info);
        if (!p.ok()) return p.status();
        out.position(i) = xi + p->t;
        out.logdensity = p->logdensity;
      }
      return absl::OkStatus();
    }
    ensure_size(ws.direction, dim);
    ensure_size(ws.point, dim);
    double norm2 = 0.0;
    while (!(norm2 > 0.0)) {  // a zero vector has probability 0, but has no direction
      for (std::size_t i = 0; i < dim; ++i) ws.direction(i) = draws.normal();
      norm2 = ops::squared_norm(ws.direction);
    }
    const double inv_norm = 1.0 / std::sqrt(norm2);
    for (std::size_t i = 0; i < dim; ++i)
      ws.direction(i) *= detail::width_of(params, i) * inv_norm;
    auto eval = [&](double t) -> absl::StatusOr<double> {
      for (std::size_t i = 0; i < dim; ++i) ws.point(i) = out.position(i) + t * ws.direction(i);
      if (!all_finite(ws.point)) return std::numeric_limits<double>::quiet_NaN();
      return evaluate(logdensity, ws.point);
    };
    auto p = detail::update_1d(eval, out.logdensity, 1.0, params.max_stepping_out,
                               max_shrinkage_steps, draws, info);
    if (!p.ok()) return p.status();
    // The same expression as in `eval`, so the stored point is bitwise the evaluated one.
    for (std::size_t i = 0; i < dim; ++i) out.position(i) = out.position(i) + p->t * ws.direction(i);
    out.logdensity = p->logdensity;
    return absl::OkStatus();
  }

  /// Pure form (see pure_step): returns a new state and info, allocated.
  template <LogDensityValue F>
  absl::StatusOr<Transition<State, Info>> operator()(const Key& key, const State& state,
                                                     F&& logdensity, const Params& params) const {
    return pure_step(*this, key, state, logdensity, params);
  }
};

/// The kernel with the given bug-guard cap on shrinkage steps per update.
inline Kernel build_kernel(int max_shrinkage_steps = 1000) { return Kernel{max_shrinkage_steps}; }

/// A log density and parameters bound together. Holds its own scratch: one
/// chain at a time.
template <LogDensityValue F>
using Sampler = BoundSampler<Kernel, F, Params>;

/// Binds a log density, slice parameters and kernel options.
template <LogDensityValue F>
Sampler<std::decay_t<F>> sampler(F&& logdensity, Params params, Kernel kernel = {}) {
  return {std::forward<F>(logdensity), std::move(params), kernel};
}

}  // namespace nutshell::slice
