// Mixed composition: a gradient-based kernel on a continuous block, Gibbs
// updates of the other blocks, swept in turn (Metropolis-within-Gibbs).
//
// The joint state is a continuous block x (a Vec, with its log density and
// gradient cached, so it *is* a GradientState) plus `others`, a user type
// holding every other block: an int switch point, a std::vector<int> of
// assignments, a Vec of scales, or a struct of several of these.
//
//   struct Others { int tau; };
//   // log p(x, others) as a function of x, with its gradient:
//   auto f = [&](const Vec& x, Vec& grad, const Others& o) { ... };
//   // the exact conditional of tau given x:
//   auto draw_tau = [&](const Key& k, const Vec& x, const Others& o) -> int { ... };
//   auto kernel = mixed::build_kernel<Others>(nuts::build_kernel(),
//                                             mixed::gibbs(&Others::tau, draw_tau));
//   auto alg = mixed::sampler(kernel, f, nuts::Params{0.1, Metric::identity(2)});
//   auto s0 = alg.init(x0, Others{10});
//   run_inference_algorithm(key, alg, *s0, 1000, transform);
//
// One transition, from (x, others):
//   1. each Gibbs block in the order given draws its new value from
//      (its key, x, others so far), and others is updated at once, so later
//      blocks see earlier blocks' new values (a systematic scan);
//   2. the continuous block's log density and gradient are recomputed at x
//      under the new others;
//   3. the gradient kernel moves x, with its log density bound to the new
//      others.
//
// Why step 2 is never skipped: the cached log density and gradient in the
// state were computed under the old others. Reusing them — the mistake that is
// easy to make when composing Blackjax kernels by hand — makes the gradient
// kernel's Metropolis test compare log p(x' | new others) against
// log p(x | old others), and its first half-step use the old gradient. The
// chain then targets the wrong distribution, with nothing to show for it but
// slightly wrong moments (tests/compose/mixed_test.cpp shows by how much).
// The recompute costs one gradient evaluation per transition. For the same
// reason Gibbs functions are shown only x and others, never the stale cache.
//
// A block can also be updated by any kernel of the library (rmh, mala, hmc)
// whose state is a Vec, via `kernel_block`; its own cached density is
// likewise recomputed at every sweep.
//
// Keys: Gibbs block i uses split_one(key, i); the continuous kernel uses
// split_one(key, number of blocks).
//
// The combinator is itself a kernel with the usual step_into signature and
// member types State, Params (the continuous kernel's), Info and Workspace,
// so window adaptation adapts the continuous kernel's step size and metric
// with the Gibbs updates running inside every warmup transition (its
// step-size searches, too, try whole sweeps):
//   adaptation::window_adaptation(kernel, f).run_from(key, *s0, 1000)
// and pmap, run_inference_algorithm and the drivers run it like any kernel.
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <exception>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/kernel_api.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/core/state.hpp"
#include "nutshell/core/types.hpp"
#include "nutshell/core/vector_ops.hpp"
#include "nutshell/compose/blocks.hpp"

namespace nutshell::mixed {

// ---------------------------------------------------------------------------
// The combinator

/// A gradient kernel K (hmc, nuts, mala) on the continuous block, composed
/// with Gibbs blocks over `Others`. A value type: copy it freely (one per
/// chain is the rule for anything with mutable parts).
template <class Others, class K, class... Blocks>
class Kernel {
  using Signature = KernelTypes<K, detail::ProbeDensity>;
  static_assert(std::is_same_v<typename Signature::State, GradientState>,
                "the continuous kernel must be a gradient kernel whose state is GradientState "
                "(hmc, nuts, mala)");

 public:
  using State = mixed::State<Others>;
  /// The continuous kernel's tunables: what window adaptation adapts.
  using Params = typename Signature::Params;
  using ContinuousInfo = typename Signature::Info;
  using Info = mixed::Info<ContinuousInfo, typename Blocks::Info...>;
  /// Scratch for one chain: never share between threads.
  struct Workspace {
    GradientState fresh;  ///< the continuous block, recomputed under the new others
    typename Signature::Workspace kernel{};
    std::tuple<typename Blocks::Workspace...> blocks{};
  };
  static constexpr std::size_t kNumBlocks = sizeof...(Blocks);

  /// The continuous kernel, then the blocks in sweep order.
  explicit Kernel(K kernel, Blocks... blocks)
      : kernel_(std::move(kernel)), blocks_(std::move(blocks)...) {}

  /// The gradient kernel moving the continuous block.
  const K& continuous_kernel() const { return kernel_; }
  /// The gradient kernel, to set its structural options (e.g. `sample`
  /// applying SampleOptions::max_tree_depth to a NUTS inside).
  K& continuous_kernel() { return kernel_; }
  /// The Gibbs blocks, in sweep order.
  const std::tuple<Blocks...>& blocks() const { return blocks_; }

  /// The joint state at (position, others): evaluates the continuous
  /// block's log density and gradient (validated: finite position, density
  /// and gradient).
  template <class F>
    requires ConditionalLogDensity<std::remove_reference_t<F>, Others>
  absl::StatusOr<State> init(const Vec& position, Others others, F&& logdensity) const {
    detail::Conditional<std::remove_reference_t<F>, Others> bound{&logdensity, &others};
    auto g = init_gradient_state(position, bound);
    if (!g.ok()) return g.status();
    State s;
    static_cast<GradientState&>(s) = *std::move(g);
    s.others = std::move(others);
    return s;
  }

  /// One sweep from `state` into `out` (which must not alias `state`): the
  /// Gibbs blocks in order, the recompute, the continuous kernel. Errors name
  /// the block ("Gibbs block 1: ...") or the continuous step.
  template <class F>
  absl::Status step_into(const Key& key, const State& state, F& logdensity, const Params& params,
                         State& out, Info& info, Workspace& ws) const {
    static_assert(ConditionalLogDensity<F, Others>,
                  "the continuous block's log density must be f(x, grad, others)");
    if (state.position.size() == 0) return absl::InvalidArgumentError("state position is empty");
    // 1. Gibbs sweep into out.others.
    out.others = state.others;
    absl::Status status = absl::OkStatus();
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (void)((status = std::get<I>(blocks_).update(split_one(key, I), state.position, out.others,
                                                   std::get<I>(info.blocks),
                                                   std::get<I>(ws.blocks)),
              status.ok() ||
                  (status = detail::annotate(status, absl::StrCat("Gibbs block ", I)), false)) &&
             ...);
    }(std::index_sequence_for<Blocks...>{});
    if (!status.ok()) return status;

    // 2. The cache of the continuous block is stale: recompute it under the
    // new others. Never skipped (see the file comment).
    detail::Conditional<F, Others> bound{&logdensity, &out.others};
    ops::copy(state.position, ws.fresh.position);
    ensure_size(ws.fresh.logdensity_grad, state.position.size());
    auto lp = evaluate(bound, ws.fresh.position, ws.fresh.logdensity_grad);
    if (!lp.ok()) return detail::annotate(lp.status(), "continuous block");
    if (!std::isfinite(*lp) || !all_finite(ws.fresh.logdensity_grad))
      return absl::FailedPreconditionError(absl::StrCat(
          "continuous block: after the Gibbs updates its log density or gradient is not finite "
          "(log density ",
          *lp,
          "): a Gibbs update produced blocks under which the current continuous block has zero "
          "density; Gibbs functions must draw from the full conditional"));
    ws.fresh.logdensity = *lp;

    // 3. The gradient step, with the density bound to the new others.
    auto s = kernel_.step_into(split_one(key, kNumBlocks), ws.fresh, bound, params,
                               static_cast<GradientState&>(out), info.continuous, ws.kernel);
    if (!s.ok()) return detail::annotate(s, "continuous block");
    info.acceptance_rate = static_cast<double>(info.continuous.acceptance_rate);
    if constexpr (requires { info.continuous.is_divergent; })
      info.is_divergent = static_cast<bool>(info.continuous.is_divergent);
    return absl::OkStatus();
  }

  /// Pure form (see pure_step): returns a new state and info, allocated.
  template <class F>
  absl::StatusOr<Transition<State, Info>> operator()(const Key& key, const State& state,
                                                     F&& logdensity, const Params& params) const {
    return pure_step(*this, key, state, logdensity, params);
  }

 private:
  K kernel_;
  std::tuple<Blocks...> blocks_;
};

/// The mixed kernel over `Others`: `kernel` on the continuous block, then
/// (within each transition, before it) the blocks in the order given.
template <class Others, class K, class... Blocks>
Kernel<Others, K, Blocks...> build_kernel(K kernel, Blocks... blocks) {
  return Kernel<Others, K, Blocks...>(std::move(kernel), std::move(blocks)...);
}

/// A mixed kernel, its conditional log density and the continuous kernel's
/// parameters bound together: a SamplingAlgorithm for the drivers. Holds
/// its own scratch, so it serves one chain at a time; copy it per thread.
/// A BoundSampler whose init also takes the other blocks.
template <class MK, class F>
class Sampler : public BoundSampler<MK, F, typename MK::Params> {
 public:
  using State = typename MK::State;
  using Params = typename MK::Params;

  /// `logdensity` is the continuous block's f(x, grad, others); `params` the
  /// continuous kernel's tunables (e.g. from window adaptation).
  Sampler(MK kernel, F logdensity, Params params)
      : BoundSampler<MK, F, Params>(std::move(logdensity), std::move(params), std::move(kernel)) {}

  /// The joint state at (position, others).
  template <class Others>
  absl::StatusOr<State> init(const Vec& position, Others others) {
    return this->kernel().init(position, std::move(others), this->logdensity());
  }
};

/// Binds a mixed kernel, its conditional log density and parameters.
template <class MK, class F>
Sampler<MK, std::decay_t<F>> sampler(MK kernel, F&& logdensity, typename MK::Params params) {
  return Sampler<MK, std::decay_t<F>>(std::move(kernel), std::forward<F>(logdensity),
                                      std::move(params));
}

}  // namespace nutshell::mixed
