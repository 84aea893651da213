// Independent Metropolis-Hastings (Blackjax's irmh).
//
// Proposals come from a fixed distribution q that ignores the current point,
// and are accepted with probability min(1, p(y) q(x) / (p(x) q(y))). It mixes
// fast when q is close to the target and has heavier tails; with lighter tails
// the chain sticks wherever p/q is large.
//
// irmh *is* rmh with a proposal whose density does not depend on where it
// starts (Blackjax builds it the same way), so the kernel forwards to
// rmh::Kernel through an adapter instead of repeating the accept logic.
//
//   irmh::init(position, logdensity)              -> State
//   irmh::build_kernel()                          -> Kernel;
//       kernel(key, state, logdensity, distribution)
//   irmh::sampler(logdensity, distribution)       -> .init / .step
#pragma once

#include <concepts>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "absl/status/statusor.h"
#include "nutshell/core/kernel_api.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/mcmc/rmh.hpp"

namespace nutshell::irmh {

using State = rmh::State;
using Info = rmh::Info;
using Workspace = rmh::Workspace;

/// A proposal distribution q: `sample(key, out)` writes a draw into `out`
/// (already sized like the position) and `log_density(x)` is log q(x) up to a
/// constant. Either may throw; the kernel turns that into an error status. An
/// optional `dim()` lets the kernel reject a mismatched distribution up front.
template <class D>
concept ProposalDistribution = requires(D& d, const Key& k, Vec& out, const Vec& x) {
  d.sample(k, out);
  { d.log_density(x) } -> std::convertible_to<double>;
};

/// Presents a distribution as an (asymmetric) rmh proposal whose starting
/// point is ignored. `D` may be a reference, to borrow the distribution.
template <class D>
struct IndependentProposal {
  D distribution;
  void sample(const Key& key, const Vec& /*from*/, Vec& to) { distribution.sample(key, to); }
  double log_density(const Vec& to, const Vec& /*from*/) { return distribution.log_density(to); }
  std::size_t dim() const
    requires requires(const std::remove_reference_t<D>& d) {
      { d.dim() } -> std::convertible_to<std::size_t>;
    }
  {
    return distribution.dim();
  }
};

/// Evaluates the log density at `position`; fails unless it is finite.
template <LogDensityValue F>
absl::StatusOr<State> init(const Vec& position, F&& logdensity) {
  return rmh::init(position, logdensity);
}

/// The independent Metropolis-Hastings transition.
struct Kernel {
  using State = irmh::State;
  using Info = irmh::Info;
  using Workspace = irmh::Workspace;

  /// One transition into `out` (must not alias `state`): rmh's, with the
  /// distribution as the proposal. A non-finite proposal is rejected and
  /// flagged `is_divergent`; a throwing density or distribution is an error.
  template <LogDensityValue F, ProposalDistribution D>
  absl::Status step_into(const Key& key, const State& state, F& logdensity, D& distribution,
                         State& out, Info& info, Workspace& ws) const {
    IndependentProposal<D&> proposal{distribution};
    return rmh::Kernel{}.step_into(key, state, logdensity, proposal, out, info, ws);
  }

  /// Pure form (see pure_step): returns a new state and info, allocated.
  template <LogDensityValue F, ProposalDistribution D>
  absl::StatusOr<Transition<State, Info>> operator()(const Key& key, const State& state,
                                                     F&& logdensity, D&& distribution) const {
    return pure_step(*this, key, state, logdensity, distribution);
  }
};

/// The kernel (it has no structural options; kept for the three-layer API).
inline Kernel build_kernel() { return Kernel{}; }

/// A log density and proposal distribution bound together (Blackjax's
/// `blackjax.irmh`): rmh's sampler over the adapted distribution.
template <LogDensityValue F, ProposalDistribution D>
using Sampler = rmh::Sampler<F, IndependentProposal<D>>;

/// Binds a log density and a proposal distribution (both stored by value).
template <LogDensityValue F, ProposalDistribution D>
Sampler<std::decay_t<F>, std::decay_t<D>> sampler(F&& logdensity, D&& distribution) {
  return {std::forward<F>(logdensity),
          IndependentProposal<std::decay_t<D>>{std::forward<D>(distribution)}};
}

}  // namespace nutshell::irmh
