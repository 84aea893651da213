// What every kernel shares, written once instead of in every kernel header.
//
// A kernel is a small value type (its structural options) with
//   absl::Status step_into(const Key&, const State&, F& density, const Params&,
//                          State& out, Info&, Workspace&) const;
// and, when its starting state is more than the validated gradient or
// position state, a static `init(position, density[, params][, key])`. From
// that alone:
//   * KernelTypes<K, F> names its State, Params, Info and Workspace;
//   * pure_step(kernel, key, state, density, params) is its pure call
//     (Blackjax's `kernel(key, state, ...)`), to which each kernel's
//     operator() forwards;
//   * BoundSampler<K, F, P> binds a density and parameters and owns the
//     scratch: Blackjax's `SamplingAlgorithm` (`blackjax.nuts(...)`), with
//     .init / .step / .step_into. Every kernel's `Sampler` is one of these.
// So a kernel header holds only what is specific to its algorithm.
#pragma once

#include <concepts>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nutshell/core/key.hpp"
#include "nutshell/core/state.hpp"
#include "nutshell/core/types.hpp"

namespace nutshell {

// ---------------------------------------------------------------------------
// A kernel's types

namespace detail {
template <class T>
struct StepIntoSignature {};
template <class K, class S, class F, class P, class I, class W>
struct StepIntoSignature<absl::Status (K::*)(const Key&, const S&, F&, P, S&, I&, W&) const> {
  using State = S;
  using Params = std::remove_cvref_t<P>;
  using Info = I;
  using Workspace = W;
};

// step_into<F> (hmc, nuts, mala) or step_into<F, P> (rmh: P is the proposal).
template <class K, class F, class P>
struct SignatureOf : StepIntoSignature<decltype(&K::template step_into<F, P>)> {};
template <class K, class F, class P>
  requires requires { &K::template step_into<F>; }
struct SignatureOf<K, F, P> : StepIntoSignature<decltype(&K::template step_into<F>)> {};

template <class K>
concept DeclaresStepTypes = requires {
  typename K::State;
  typename K::Info;
  typename K::Workspace;
};

// Params: K::Params when declared (DeclaredParams), else P for kernels whose
// parameters are a template argument of step_into (rmh's proposal, sgld's
// schedule), else none.
template <class K>
struct DeclaredParams {
  using Params = typename K::Params;
};
template <class K, class P>
struct GivenParams {
  using Params = P;
};
template <class K>
struct GivenParams<K, void> {};
}  // namespace detail

/// State, Params, Info and Workspace of kernel K driven with density F (and
/// parameters P, for kernels whose step_into is a template over them). The
/// library's kernels declare them as member types; any other kernel gets
/// them deduced from its step_into signature, so that user kernels need not
/// register anything to be adapted, bound or composed.
template <class K, class F, class P = void>
struct KernelTypes : detail::SignatureOf<K, F, P> {};

template <class K, class F, class P>
  requires detail::DeclaresStepTypes<K>
struct KernelTypes<K, F, P>
    : std::conditional_t<requires { typename K::Params; }, detail::DeclaredParams<K>,
                         detail::GivenParams<K, P>> {
  using State = typename K::State;
  using Info = typename K::Info;
  using Workspace = typename K::Workspace;
};

/// The kernel's starting state at `position`: `kernel.init(position,
/// logdensity, extra...)` when the kernel has one (`extra` is e.g. the key of
/// a kernel whose state holds a random momentum), else what the state type
/// implies: the gradient state for gradient kernels (hmc, nuts, mala,
/// barker), the position state for gradient-free ones (rmh, irmh, slice),
/// exactly what their namespace `init` returns. Validated either way: a
/// non-finite position, density or gradient is an error, never a state.
template <class K, class F, class... Extra>
auto init_state(const K& kernel, const Vec& position, F& logdensity, const Extra&... extra) {
  if constexpr (requires { kernel.init(position, logdensity, extra...); }) {
    return kernel.init(position, logdensity, extra...);
  } else if constexpr (sizeof...(Extra) == 0 &&
                       std::is_same_v<typename KernelTypes<K, F>::State, GradientState>) {
    return init_gradient_state(position, logdensity);
  } else {
    static_assert(sizeof...(Extra) == 0 &&
                      std::is_same_v<typename KernelTypes<K, F>::State, PositionState>,
                  "kernel has no init(position, logdensity, ...) and its state is neither "
                  "GradientState nor PositionState");
    return init_position_state(position, logdensity);
  }
}

// ---------------------------------------------------------------------------
// The pure call

/// The pure form of a kernel's step_into: one transition from `state`,
/// returning a new state and info, allocated along with a scratch workspace.
/// That is what one-off calls and tests want (Blackjax's kernel call);
/// drivers call step_into with reused buffers instead. `args` are
/// step_into's arguments between the state and the outputs (density and
/// parameters). Every kernel's operator() forwards here with its own typed
/// signature. This is a function, not a CRTP base giving kernels their
/// operator(), because a base would stop the kernels being aggregates whose
/// options can be given in order (`nuts::Kernel{integrator, 8, 1000.0}`).
template <class K, class... Args>
  requires requires(const K& k, const Key& key, const typename K::State& state,
                    typename K::State& out, typename K::Info& info, typename K::Workspace& ws,
                    Args&... args) {
    { k.step_into(key, state, args..., out, info, ws) } -> std::same_as<absl::Status>;
  }
absl::StatusOr<Transition<typename K::State, typename K::Info>> pure_step(
    const K& kernel, const Key& key, const typename K::State& state, Args&... args) {
  typename K::Workspace ws;
  Transition<typename K::State, typename K::Info> t;
  auto s = kernel.step_into(key, state, args..., t.state, t.info, ws);
  if (!s.ok()) return s;
  return t;
}

// ---------------------------------------------------------------------------
// The bound sampler

/// A kernel, its density F and parameters P bound together as an in-place
/// SamplingAlgorithm (Blackjax's `blackjax.nuts(logdensity, ...)`): what
/// `hmc::sampler`, `nuts::sampler`, ... and `bind` return. F is whatever
/// the kernel evaluates (a log density, a log-likelihood, a gradient
/// estimator) and P whatever it is tuned by (Params, a proposal, a prior).
/// Owns its scratch, so one object serves one chain at a time; copy it for
/// another thread.
template <class K, class F, class P = typename KernelTypes<K, F>::Params>
class BoundSampler {
  using Types = KernelTypes<K, F, P>;

 public:
  using State = typename Types::State;
  using Info = typename Types::Info;
  using Params = P;

  /// Takes ownership of copies; the scratch starts empty.
  BoundSampler(F logdensity, P params, K kernel = {})
      : logdensity_(std::move(logdensity)), params_(std::move(params)), kernel_(std::move(kernel)) {}

  /// The kernel's validated starting state at `position`. `extra` is what
  /// else the kernel's init needs: nothing for most kernels, a key for those
  /// whose state carries a random momentum (ghmc, mclmc). A kernel whose
  /// start depends on the parameters (ghmc's momentum law, elliptical
  /// slice's prior dimension) is also given them.
  template <class... Extra>
  absl::StatusOr<State> init(const Vec& position, const Extra&... extra) {
    if constexpr (requires { kernel_.init(position, logdensity_, params_, extra...); })
      return kernel_.init(position, logdensity_, params_, extra...);
    else
      return nutshell::init_state(kernel_, position, logdensity_, extra...);
  }
  /// One transition, pure in its arguments; allocates the result.
  absl::StatusOr<Transition<State, Info>> step(const Key& key, const State& state) {
    Transition<State, Info> t;
    auto s = step_into(key, state, t.state, t.info);
    if (!s.ok()) return s;
    return t;
  }
  /// One transition into caller-owned buffers (`out` must not alias
  /// `state`): what drivers call, so a steady state allocates nothing.
  absl::Status step_into(const Key& key, const State& state, State& out, Info& info) {
    return kernel_.step_into(key, state, logdensity_, params_, out, info, ws_);
  }
  /// The bound parameters.
  const P& params() const { return params_; }
  /// Replaces the bound parameters (e.g. by adapted ones).
  void set_params(P params) { params_ = std::move(params); }
  /// The bound kernel (its structural options).
  const K& kernel() const { return kernel_; }
  /// The bound density (e.g. to read an evaluation counter it keeps).
  F& logdensity() { return logdensity_; }

 private:
  F logdensity_;
  P params_;
  K kernel_;
  typename Types::Workspace ws_{};
};

}  // namespace nutshell
