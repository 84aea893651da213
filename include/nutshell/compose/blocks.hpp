// The pieces a mixed kernel is built from: the conditional log-density
// concept, the joint State and Info, and the two kinds of block (a Gibbs
// update given by a function, or any Vec-state kernel on one block).
// mixed.hpp composes them.
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

namespace nutshell::mixed {


/// The continuous block's log density given the other blocks:
/// `double f(const Vec& x, Vec& grad, const Others& others)` returns
/// log p(x, others) up to a constant (as a function of x) and writes its
/// gradient in x into `grad`. It may throw; the transition then fails with
/// the message.
template <class F, class Others>
concept ConditionalLogDensity = requires(F& f, const Vec& x, Vec& g, const Others& o) {
  { f(x, g, o) } -> std::convertible_to<double>;
};

/// The joint state: the continuous block with its cached conditional log
/// density and gradient (the GradientState base, always consistent with
/// `others` after a transition) and the other blocks.
template <class Others>
struct State : GradientState {
  Others others{};
};

/// What a user-function Gibbs block reports: nothing (an exact conditional
/// draw is always accepted).
struct GibbsInfo {};

/// What one transition did: the continuous kernel's Info, one Info per Gibbs
/// block (GibbsInfo for a user function, the kernel's Info for a
/// kernel_block), and the continuous kernel's acceptance and divergence
/// copied to the top, where window adaptation and the drivers look.
template <class ContinuousInfo, class... BlockInfos>
struct Info {
  ContinuousInfo continuous{};
  std::tuple<BlockInfos...> blocks{};
  double acceptance_rate = 0.0;
  bool is_divergent = false;
};

/// Tag: the block is the whole `others` (when Others is itself one block,
/// e.g. an int).
struct WholeOthers {};

namespace detail {

// Stand-ins used only to name a kernel's step_into specialisation; the
// library's kernels' types do not depend on the density type.
struct ProbeDensity {
  double operator()(const Vec&, Vec&) const { return 0.0; }
};
struct ProbeValueDensity {
  double operator()(const Vec&) const { return 0.0; }
};

template <class K, class P>
inline constexpr bool kUsesGradient =
    requires { &K::template step_into<ProbeDensity>; } ||
    requires { &K::template step_into<ProbeDensity, P>; };

template <class Others, class Member>
decltype(auto) block_of(Others& others, const Member& member) {
  if constexpr (std::is_same_v<Member, WholeOthers>) {
    return (others);
  } else {
    return (others.*member);
  }
}

template <class R>
struct IsStatusOr : std::false_type {};
template <class T>
struct IsStatusOr<absl::StatusOr<T>> : std::true_type {};

inline absl::Status thrown(const char* what) {
  try {
    throw;
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(what, " threw: ", e.what()));
  } catch (...) {
    return absl::InternalError(absl::StrCat(what, " threw a non-standard exception"));
  }
}

inline absl::Status annotate(const absl::Status& s, const std::string& where) {
  return absl::Status(s.code(), absl::StrCat(where, ": ", s.message()));
}

/// f(x, grad, others) with others fixed: what the continuous kernel sees.
template <class F, class Others>
struct Conditional {
  F* f;
  const Others* others;
  double operator()(const Vec& x, Vec& grad) { return (*f)(x, grad, *others); }
};

/// A kernel block's density g(b, grad, x, others) with x and others fixed.
template <class G, class Others>
struct BlockConditional {
  const G* g;
  const Vec* x;
  const Others* others;
  double operator()(const Vec& b, Vec& grad) const { return (*g)(b, grad, *x, *others); }
};
/// The value-only form g(b, x, others), for gradient-free kernels.
template <class G, class Others>
struct BlockConditionalValue {
  const G* g;
  const Vec* x;
  const Others* others;
  double operator()(const Vec& b) const { return (*g)(b, *x, *others); }
};

}  // namespace detail

// ---------------------------------------------------------------------------
// Blocks

/// A block drawn by a user function `fn(key, x, others) -> new block value`
/// (or absl::StatusOr of it), normally an exact draw from the block's full
/// conditional. `others` already holds this sweep's new values of the
/// blocks before this one. The function must be callable as const and be
/// a pure function of its arguments (so chains are reproducible).
template <class Member, class Fn>
struct GibbsBlock {
  Member member;  ///< `&Others::field`, or WholeOthers
  Fn fn;

  using Info = GibbsInfo;
  /// No scratch needed.
  struct Workspace {};

  /// Draws this block's new value into `others` (called by the combinator).
  template <class Others>
  absl::Status update(const Key& key, const Vec& x, Others& others, Info&, Workspace&) const {
    auto& block = detail::block_of(others, member);
    using Block = std::remove_reference_t<decltype(block)>;
    try {
      auto r = fn(key, x, static_cast<const Others&>(others));
      if constexpr (detail::IsStatusOr<decltype(r)>::value) {
        if (!r.ok()) return r.status();
        block = *std::move(r);
      } else {
        static_assert(std::is_assignable_v<Block&, decltype(r)>,
                      "a Gibbs function must return the block's new value (or a StatusOr of it)");
        block = std::move(r);
      }
    } catch (...) {
      return detail::thrown("Gibbs function");
    }
    return absl::OkStatus();
  }
};

/// A Vec block updated by one transition of a library kernel (rmh, mala,
/// hmc, ...) on the block's conditional density `density`, which is
/// `g(b, grad, x, others)` for gradient kernels or `g(b, x, others)` for
/// gradient-free ones, returning log p(x, others with this block = b) up to
/// a constant. In `others` this block still holds its current value: read
/// the candidate from `b`. `params` are the kernel's tunables (for rmh, the
/// proposal).
template <class Member, class K, class P, class G>
struct KernelBlock {
  Member member;  ///< `&Others::field` of type Vec, or WholeOthers
  K kernel;
  /// Mutable because rmh takes its proposal by non-const reference; the
  /// library's proposals are stateless.
  mutable P params;
  G density;

  static constexpr bool kUsesGradient = detail::kUsesGradient<K, P>;
  using Probe =
      std::conditional_t<kUsesGradient, detail::ProbeDensity, detail::ProbeValueDensity>;
  using Signature = KernelTypes<K, Probe, P>;
  using BlockState = typename Signature::State;
  using Info = typename Signature::Info;
  /// The block's state before and after, and the kernel's scratch.
  struct Workspace {
    BlockState in, out;
    typename Signature::Workspace kernel{};
  };

  /// Recomputes the block's log density under the current x and others,
  /// then moves it by one kernel transition (called by the combinator).
  template <class Others>
  absl::Status update(const Key& key, const Vec& x, Others& others, Info& info,
                      Workspace& ws) const {
    Vec& block = detail::block_of(others, member);
    ops::copy(block, ws.in.position);
    absl::StatusOr<double> lp = 0.0;
    if constexpr (kUsesGradient) {
      static_assert(std::is_invocable_r_v<double, const G&, const Vec&, Vec&, const Vec&,
                                          const Others&>,
                    "a gradient kernel's block density must be g(b, grad, x, others)");
      detail::BlockConditional<G, Others> bound{&density, &x, &others};
      ensure_size(ws.in.logdensity_grad, block.size());
      lp = evaluate(bound, ws.in.position, ws.in.logdensity_grad);
      if (!lp.ok()) return lp.status();
      ws.in.logdensity = *lp;
      return step(key, bound, info, ws, block);
    } else {
      static_assert(std::is_invocable_r_v<double, const G&, const Vec&, const Vec&, const Others&>,
                    "a gradient-free kernel's block density must be g(b, x, others)");
      detail::BlockConditionalValue<G, Others> bound{&density, &x, &others};
      lp = evaluate(bound, ws.in.position);
      if (!lp.ok()) return lp.status();
      ws.in.logdensity = *lp;
      return step(key, bound, info, ws, block);
    }
  }

 private:
  template <class Bound>
  absl::Status step(const Key& key, Bound& bound, Info& info, Workspace& ws, Vec& block) const {
    if (!std::isfinite(ws.in.logdensity))
      return absl::FailedPreconditionError(absl::StrCat(
          "the block's log density at its current value is not finite (", ws.in.logdensity, ")"));
    auto s = kernel.step_into(key, ws.in, bound, params, ws.out, info, ws.kernel);
    if (!s.ok()) return s;
    ops::copy(ws.out.position, block);
    return absl::OkStatus();
  }
};

/// A Gibbs block `others.*member` drawn by `fn(key, x, others)`.
template <class B, class O, class Fn>
GibbsBlock<B O::*, std::decay_t<Fn>> gibbs(B O::*member, Fn&& fn) {
  return {member, std::forward<Fn>(fn)};
}
/// A Gibbs update of the whole `others` by `fn(key, x, others)`.
template <class Fn>
GibbsBlock<WholeOthers, std::decay_t<Fn>> gibbs(Fn&& fn) {
  return {WholeOthers{}, std::forward<Fn>(fn)};
}
/// The Vec block `others.*member` updated by one transition of `kernel`
/// with `params` on `density` (see KernelBlock).
template <class O, class K, class P, class G>
KernelBlock<Vec O::*, K, std::decay_t<P>, std::decay_t<G>> kernel_block(Vec O::*member, K kernel,
                                                                       P&& params, G&& density) {
  return {member, std::move(kernel), std::forward<P>(params), std::forward<G>(density)};
}
/// The whole `others` (a Vec) updated by one transition of `kernel`.
template <class K, class P, class G>
KernelBlock<WholeOthers, K, std::decay_t<P>, std::decay_t<G>> kernel_block(K kernel, P&& params,
                                                                          G&& density) {
  return {WholeOthers{}, std::move(kernel), std::forward<P>(params), std::forward<G>(density)};
}

}  // namespace nutshell::mixed
