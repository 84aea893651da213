// How `sample` starts its chains: the checks of options and starts before
// anything runs, the kernel options it applies, and each chain's starting
// state (Stan's rule: random starts redrawn up to 100 times).
#pragma once

#include <cmath>
#include <cstddef>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/adaptation/kernel_traits.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/metric.hpp"
#include "nutshell/core/state.hpp"
#include "nutshell/core/types.hpp"
#include "nutshell/run/sample_types.hpp"

namespace nutshell::detail {

/// The model's dimension when declared (options.dimension, or the density's
/// `dimension()`), else 0.
template <class G>
std::size_t declared_dimension(const G& g, const SampleOptions& options) {
  if (options.dimension != 0) return options.dimension;
  if constexpr (requires { g.dimension(); }) return static_cast<std::size_t>(g.dimension());
  return 0;
}

/// The tree depth at which a transition counts as saturated, or -1.
template <class K>
int max_depth_of(const K& kernel) {
  if constexpr (requires { kernel.max_num_doublings; })
    return static_cast<int>(kernel.max_num_doublings);
  else if constexpr (requires { kernel.continuous_kernel().max_num_doublings; })
    return static_cast<int>(kernel.continuous_kernel().max_num_doublings);
  return -1;
}

/// Applies options.max_tree_depth to a kernel that has a tree depth.
template <class K>
absl::Status apply_kernel_options(K& kernel, const SampleOptions& options) {
  if (!options.max_tree_depth) return absl::OkStatus();
  if (*options.max_tree_depth < 1 || *options.max_tree_depth > 30)
    return absl::InvalidArgumentError(
        absl::StrCat("max_tree_depth must be in [1, 30], got ", *options.max_tree_depth));
  if constexpr (requires { kernel.max_num_doublings; })
    kernel.max_num_doublings = *options.max_tree_depth;
  else if constexpr (requires { kernel.continuous_kernel().max_num_doublings = 1; })
    kernel.continuous_kernel().max_num_doublings = *options.max_tree_depth;  // NUTS inside mixed
  return absl::OkStatus();
}

/// Checks the options and the starts before any chain runs.
template <class G>
absl::Status validate_sample(const G& g, const InitialPositions& initial,
                             const SampleOptions& options) {
  if (options.thinning == 0) return absl::InvalidArgumentError("thinning must be >= 1");
  if (initial.positions.empty() && !initial.function)
    return absl::InvalidArgumentError("no initial position");
  if (initial.num_chains(options) == 0)
    return absl::InvalidArgumentError("num_chains must be >= 1");
  if (!(options.init_radius >= 0.0) || !std::isfinite(options.init_radius))
    return absl::InvalidArgumentError("init_radius must be finite and >= 0");
  if (options.warmup != Warmup::kWindow && options.metric &&
      *options.metric != MetricKind::kDiagonal)
    return absl::InvalidArgumentError(
        "options.metric (dense or identity) applies to window adaptation only: the Fisher warmups "
        "adapt a diagonal or low-rank metric");
  const std::size_t dim = declared_dimension(g, options);
  for (std::size_t c = 0; c < initial.positions.size(); ++c) {
    const std::size_t n = initial.positions[c].size();
    if (n == 0) return absl::InvalidArgumentError(absl::StrCat("initial position ", c, " is empty"));
    if (n != initial.positions[0].size())
      return absl::InvalidArgumentError(
          absl::StrCat("initial position ", c, " has length ", n, " but initial position 0 has ",
                       initial.positions[0].size(), ": every chain needs one length"));
    if (dim != 0 && n != dim)
      return absl::InvalidArgumentError(absl::StrCat("initial position ", c, " has length ", n,
                                                     " but the model has dimension ", dim));
  }
  if (!options.names.empty() && !initial.positions.empty() &&
      options.names.size() != initial.positions[0].size())
    return absl::InvalidArgumentError(absl::StrCat("got ", options.names.size(), " names for ",
                                                   initial.positions[0].size(), " dimensions"));
  return absl::OkStatus();
}

/// True when `sample` can start kernel K from a position alone: it has an
/// init(position, density[, params][, key]), or its state is the gradient or
/// position state every gradient or gradient-free kernel starts from.
template <class K, class F>
concept PositionInitializable =
    requires(const K& k, const Vec& x, F& f) { k.init(x, f); } ||
    requires(const K& k, const Vec& x, F& f, const Key& key) { k.init(x, f, key); } ||
    requires(const K& k, const Vec& x, F& f, const typename adaptation::KernelTypes<K, F>::Params& p,
             const Key& key) { k.init(x, f, p, key); } ||
    std::is_same_v<typename adaptation::KernelTypes<K, F>::State, GradientState> ||
    std::is_same_v<typename adaptation::KernelTypes<K, F>::State, PositionState>;

/// A kernel's starting state at `x`, for any PositionInitializable kernel. A
/// kernel whose start is random (a momentum) gets `key`; one whose start
/// depends on its parameters gets the untuned ones (identity metric).
template <class K, class F>
auto start_state(const K& kernel, F& f, const Vec& x, const Key& key)
    -> absl::StatusOr<typename adaptation::KernelTypes<K, F>::State> {
  using Params = typename adaptation::KernelTypes<K, F>::Params;
  if constexpr (requires { kernel.init(x, f); }) {
    return kernel.init(x, f);
  } else if constexpr (requires { kernel.init(x, f, key); }) {
    return kernel.init(x, f, key);
  } else if constexpr (requires(const Params& p) { kernel.init(x, f, p, key); }) {
    Params p{};
    if constexpr (adaptation::has_metric_v<Params>) p.inverse_mass_matrix = Metric::identity(x.size());
    return kernel.init(x, f, p, key);
  } else {
    return adaptation::init_state(kernel, x, f);
  }
}

/// The default init of `sample`: start_state with the chain's init key.
struct PositionInit {
  template <class K, class F>
  auto operator()(const K& kernel, F& f, const Vec& x, std::size_t, const Key& kc) const {
    return start_state(kernel, f, x, split_one(kc, 3));
  }
};

/// The state at a kept draw's position, for cutting a stopped chain back to
/// it: a mixed composition restarts with that draw's other blocks.
struct PositionRestart {
  template <class K, class F, class Outcome>
  auto operator()(const K& kernel, F& f, const Vec& x, const Outcome& ch, std::size_t i) const {
    if constexpr (requires { kernel.init(x, ch.others[i], f); })
      return kernel.init(x, ch.others[i], f);
    else
      return start_state(kernel, f, x, split_one(ch.start.key, 3));
  }
};

/// Chain c's validated starting state. A random start (jitter, uniform or
/// a function) whose log density or gradient is not finite is redrawn up
/// to 100 times (Stan's rule); `redraws` is how many were needed.
template <class K, class CF, class InitFn>
auto initial_state(const K& kernel, CF& f, const InitialPositions& initial,
                   const SampleOptions& options, std::size_t c, const Key& kc,
                   std::size_t& redraws, const InitFn& init_fn)
    -> absl::StatusOr<typename adaptation::KernelTypes<K, CF>::State> {
  constexpr std::size_t kMaxAttempts = 100;
  const bool random = initial.random(options.init_radius);
  const Key init_key = split_one(kc, 2);
  Stream stream(init_key);
  const std::size_t dim = declared_dimension(f, options);
  absl::Status last;
  for (std::size_t attempt = 0; attempt < (random ? kMaxAttempts : 1); ++attempt) {
    Vec x;
    if (initial.function) {
      x = initial.function(fold_in(init_key, attempt), c);
    } else {
      x = initial.position(c);
      if (initial.jitter && options.init_radius > 0.0)
        for (double& v : x) v += options.init_radius * (2.0 * stream.uniform() - 1.0);
    }
    if (x.size() == 0 || (dim != 0 && x.size() != dim))
      return absl::InvalidArgumentError(absl::StrCat("the initial position has length ", x.size(),
                                                     dim ? absl::StrCat(", the model ", dim) : ""));
    auto s = init_fn(kernel, f, x, c, kc);
    if (s.ok()) {
      redraws = attempt;
      return s;
    }
    last = s.status();
    if (last.code() != absl::StatusCode::kInvalidArgument) return last;  // a real error
  }
  if (!random) return last;
  return absl::Status(last.code(), absl::StrCat("no start with a finite log density and gradient in ",
                                                kMaxAttempts, " random draws; the last: ",
                                                last.message()));
}

}  // namespace nutshell::detail
