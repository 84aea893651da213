// What `sample` counts per chain, and how: a counting wrapper around the log
// density (evaluations, rejected evaluations), wall and CPU clocks, and the
// per-draw sample statistics in a kernel-independent [chain, draw, stat]
// array with ArviZ's names.
//
// Why a wrapper and not a counter in every kernel: every kernel evaluates
// the density through `evaluate` (logdensity.hpp), so counting at the density
// is exact for all of them, and a rejected evaluation (a std::domain_error
// or a non-finite value) is seen where it happens. The counters live in the
// chain's own stack frame (one chain, one thread), so counting needs no
// atomics and no global state.
#pragma once

#include <time.h>

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "nutshell/core/logdensity.hpp"
#include "nutshell/core/metric.hpp"
#include "nutshell/core/types.hpp"

namespace nutshell {

/// Evaluations of the log density by one chain.
struct EvalCounters {
  std::uint64_t evaluations = 0;  ///< calls (each gives a gradient for a gradient density)
  std::uint64_t rejected = 0;     ///< calls that threw std::domain_error or were not finite
};

/// A log density that counts its calls into `counters`. A std::domain_error
/// becomes NaN here (it is rejected by the kernel); other exceptions pass
/// through to `evaluate`, which turns them into an error status.
template <class F>
struct CountingDensity {
  F f;
  EvalCounters* counters = nullptr;

  double operator()(const Vec& x, Vec& grad)
    requires LogDensity<F>
  {
    ++counters->evaluations;
    try {
      const double v = static_cast<double>(f(x, grad));
      if (!std::isfinite(v)) ++counters->rejected;
      return v;
    } catch (const std::domain_error&) {
      ++counters->rejected;
      return std::numeric_limits<double>::quiet_NaN();
    }
  }
  double operator()(const Vec& x)
    requires LogDensityValue<F>
  {
    ++counters->evaluations;
    try {
      const double v = static_cast<double>(f(x));
      if (!std::isfinite(v)) ++counters->rejected;
      return v;
    } catch (const std::domain_error&) {
      ++counters->rejected;
      return std::numeric_limits<double>::quiet_NaN();
    }
  }
  /// A mixed composition's conditional density f(x, grad, others).
  template <class O>
    requires requires(F& g, const Vec& x, Vec& grad, const O& o) {
      { g(x, grad, o) } -> std::convertible_to<double>;
    }
  double operator()(const Vec& x, Vec& grad, const O& others) {
    ++counters->evaluations;
    try {
      const double v = static_cast<double>(f(x, grad, others));
      if (!std::isfinite(v)) ++counters->rejected;
      return v;
    } catch (const std::domain_error&) {
      ++counters->rejected;
      return std::numeric_limits<double>::quiet_NaN();
    }
  }
  /// A stochastic-gradient estimator's estimate (sgld, sghmc), counted as
  /// one evaluation; it is never rejected (those kernels have no MH step).
  template <class K, class W>
    requires requires(F& e, const K& key, const Vec& x, Vec& grad, W& ws) {
      e.estimate(key, x, grad, ws);
    }
  auto estimate(const K& key, const Vec& x, Vec& grad, W& ws) {
    ++counters->evaluations;
    return f.estimate(key, x, grad, ws);
  }
  /// The wrapped density's dimension, when it declares one.
  std::size_t dimension() const
    requires requires(const F& g) { g.dimension(); }
  {
    return f.dimension();
  }
};

/// Wall and CPU (this thread's) time since construction.
class PhaseClock {
 public:
  PhaseClock() : wall0_(std::chrono::steady_clock::now()), cpu0_(thread_cpu_seconds()) {}
  double wall_seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0_).count();
  }
  double cpu_seconds() const { return thread_cpu_seconds() - cpu0_; }

 private:
  static double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  }
  std::chrono::steady_clock::time_point wall0_;
  double cpu0_;
};

/// One chain's honest accounting: what it cost and what went wrong.
struct ChainAccounting {
  std::size_t chain = 0;  ///< the chain's index in the call
  /// Log density (gradient) evaluations by warmup transitions, by the
  /// step-size searches of warmup, and by sampling transitions.
  std::uint64_t gradient_evaluations_warmup = 0;
  std::uint64_t gradient_evaluations_step_size_search = 0;
  std::uint64_t gradient_evaluations = 0;
  /// Divergent transitions in warmup and in (kept and unkept) sampling.
  std::size_t num_divergent_warmup = 0;
  std::size_t num_divergent = 0;
  /// Sampling transitions that hit the maximum tree depth (NUTS only).
  std::size_t num_max_tree_depth = 0;
  /// Evaluations that threw std::domain_error or were not finite (each
  /// rejected a proposal or a leaf), in warmup and in sampling.
  std::uint64_t num_rejected_evaluations_warmup = 0;
  std::uint64_t num_rejected_evaluations = 0;
  /// Redraws of the starting point whose log density or gradient was not
  /// finite (Stan's rule: up to 100).
  std::size_t num_init_redraws = 0;
  /// The adapted step size and inverse mass matrix (empty without one).
  double step_size = std::numeric_limits<double>::quiet_NaN();
  Metric inverse_mass_matrix;
  double warmup_wall_seconds = 0.0, warmup_cpu_seconds = 0.0;
  double sampling_wall_seconds = 0.0, sampling_cpu_seconds = 0.0;
};

/// Per-draw scalar statistics of every kernel in one array, [chain, draw,
/// stat], with ArviZ's sample_stats names: lp, acceptance_rate, step_size,
/// tree_depth, n_steps, diverging, energy (each only when the kernel's Info
/// knows it; lp always).
struct SampleStats {
  std::vector<std::string> names;
  xt::xtensor<double, 3> values;
  /// The column of `name`, or -1.
  long index(const std::string& name) const {
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == name) return static_cast<long>(i);
    return -1;
  }
};

namespace detail {
/// Where an Info keeps the gradient kernel's counters: in `continuous` for
/// a mixed composition, else in itself.
template <class Info>
const auto& inner_info(const Info& info) {
  if constexpr (requires { info.continuous; })
    return info.continuous;
  else
    return info;
}

/// The scalar statistics an Info carries, by ArviZ name, after "lp".
template <class Info>
std::vector<std::string> stat_names() {
  using In = std::decay_t<decltype(inner_info(std::declval<const Info&>()))>;
  std::vector<std::string> n = {"lp"};
  if constexpr (requires(const Info& i) { i.acceptance_rate; }) n.push_back("acceptance_rate");
  n.push_back("step_size");
  if constexpr (requires(const In& i) { i.num_trajectory_expansions; }) n.push_back("tree_depth");
  if constexpr (requires(const In& i) { i.num_integration_steps; }) n.push_back("n_steps");
  if constexpr (requires(const Info& i) { i.is_divergent; }) n.push_back("diverging");
  if constexpr (requires(const In& i) { i.energy; }) n.push_back("energy");
  return n;
}

/// Writes one draw's statistics (in stat_names order) to `out`; step_size
/// is the tuned one, used unless the Info reports its own.
template <class Info>
void write_stats(const Info& info, double lp, double step_size, double* out) {
  const auto& in = inner_info(info);
  std::size_t k = 0;
  out[k++] = lp;
  if constexpr (requires { info.acceptance_rate; })
    out[k++] = static_cast<double>(info.acceptance_rate);
  // A jittered kernel (nuts::Params::step_size_jitter) reports the step it
  // integrated with, as nutpie's step_size does; else the tuned one.
  if constexpr (requires { in.step_size; })
    out[k++] = in.step_size > 0.0 ? static_cast<double>(in.step_size) : step_size;
  else
    out[k++] = step_size;
  if constexpr (requires { in.num_trajectory_expansions; })
    out[k++] = static_cast<double>(in.num_trajectory_expansions);
  if constexpr (requires { in.num_integration_steps; })
    out[k++] = static_cast<double>(in.num_integration_steps);
  if constexpr (requires { info.is_divergent; }) out[k++] = info.is_divergent ? 1.0 : 0.0;
  if constexpr (requires { in.energy; }) out[k++] = static_cast<double>(in.energy);
}
}  // namespace detail

}  // namespace nutshell
