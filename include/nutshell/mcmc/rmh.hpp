// Random-walk / general Metropolis-Hastings (Blackjax's rmh and
// additive_step_random_walk).
//
// A proposal is any object with
//   void sample(const Key&, const Vec& from, Vec& to)
// and, for an asymmetric proposal, also
//   double log_density(const Vec& to, const Vec& from)    // log q(to | from)
// Symmetric proposals (no log_density) skip the Hastings correction.
#pragma once

#include <cmath>
#include <concepts>
#include <limits>
#include <utility>

#include "absl/status/statusor.h"
#include "nutshell/core/kernel_api.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/core/metropolis.hpp"
#include "nutshell/core/state.hpp"
#include "nutshell/core/validation.hpp"

namespace nutshell::rmh {

using State = PositionState;

struct Info {
  double acceptance_rate = 0.0;
  bool is_accepted = false;
  bool is_divergent = false;  ///< the proposal's log density was not finite
};

template <class P>
concept Proposal = requires(P& p, const Key& k, const Vec& from, Vec& to) {
  p.sample(k, from, to);
};

template <class P>
concept AsymmetricProposal = Proposal<P> && requires(P& p, const Vec& to, const Vec& from) {
  { p.log_density(to, from) } -> std::convertible_to<double>;
};

/// Gaussian random walk with an isotropic, per-coordinate or full covariance.
class NormalRandomWalk {
 public:
  /// to = from + sigma * z, one sigma for all coordinates.
  static absl::StatusOr<NormalRandomWalk> isotropic(double sigma) {
    if (!std::isfinite(sigma) || !(sigma > 0.0))
      return absl::InvalidArgumentError("random walk scale must be finite and > 0");
    NormalRandomWalk w;
    w.sigma_ = sigma;
    return w;
  }
  /// to = from + sigma .* z.
  static absl::StatusOr<NormalRandomWalk> diagonal(const Vec& sigma) {
    for (double s : sigma)
      if (!std::isfinite(s) || !(s > 0.0))
        return absl::InvalidArgumentError("random walk scales must be finite and > 0");
    NormalRandomWalk w;
    w.scales_ = sigma;
    return w;
  }
  /// to = from + L z with L L^T = covariance (positive definite).
  static absl::StatusOr<NormalRandomWalk> covariance(const Mat& covariance) {
    auto m = Metric::dense(covariance);  // validates and factors
    if (!m.ok()) return m.status();
    NormalRandomWalk w;
    w.chol_ = m->cholesky();
    return w;
  }

  void sample(const Key& key, const Vec& from, Vec& to) const {
    normal(key, to);  // to holds z
    const std::size_t n = from.size();
    if (chol_.size() > 0) {
      // to = from + L z, computed from the bottom row up so z is read before overwritten.
      for (std::size_t i = n; i-- > 0;) {
        double s = 0.0;
        for (std::size_t j = 0; j <= i; ++j) s += chol_(i, j) * to(j);
        to(i) = s;
      }
      for (std::size_t i = 0; i < n; ++i) to(i) += from(i);
    } else if (scales_.size() > 0) {
      for (std::size_t i = 0; i < n; ++i) to(i) = from(i) + scales_(i) * to(i);
    } else {
      for (std::size_t i = 0; i < n; ++i) to(i) = from(i) + sigma_ * to(i);
    }
  }
  /// Dimension the proposal expects (0: any).
  std::size_t dim() const { return chol_.size() > 0 ? chol_.shape(0) : scales_.size(); }

 private:
  double sigma_ = 1.0;
  Vec scales_;
  Mat chol_;
};

/// A proposal from a user sampling function `(const Key&, const Vec& from, Vec& to)`.
template <class Sample>
struct SymmetricProposal {
  Sample sample_fn;
  void sample(const Key& k, const Vec& from, Vec& to) { sample_fn(k, from, to); }
};

/// A proposal from a sampling function and its log density
/// `double(const Vec& to, const Vec& from)` = log q(to | from).
template <class Sample, class LogQ>
struct GeneralProposal {
  Sample sample_fn;
  LogQ log_density_fn;
  void sample(const Key& k, const Vec& from, Vec& to) { sample_fn(k, from, to); }
  double log_density(const Vec& to, const Vec& from) { return log_density_fn(to, from); }
};

/// Wraps a symmetric user proposal.
template <class Sample>
SymmetricProposal<std::decay_t<Sample>> proposal(Sample&& sample) {
  return {std::forward<Sample>(sample)};
}
/// Wraps an asymmetric user proposal with its log density.
template <class Sample, class LogQ>
GeneralProposal<std::decay_t<Sample>, std::decay_t<LogQ>> proposal(Sample&& sample, LogQ&& logq) {
  return {std::forward<Sample>(sample), std::forward<LogQ>(logq)};
}

/// Scratch reused across transitions (one per chain).
struct Workspace {
  PositionState proposal;
};

/// Evaluates the log density at `position`; fails unless it is finite.
template <LogDensityValue F>
absl::StatusOr<State> init(const Vec& position, F&& logdensity) {
  return init_position_state(position, logdensity);
}

/// The Metropolis-Hastings transition; the proposal is an argument of each
/// call, in the place of other kernels' parameters.
struct Kernel {
  using State = rmh::State;
  using Info = rmh::Info;
  using Workspace = rmh::Workspace;

  /// One Metropolis-Hastings transition into `out` (must not alias `state`).
  /// A throwing proposal log density or log density propagates as an error.
  template <LogDensityValue F, Proposal P>
  absl::Status step_into(const Key& key, const State& state, F& logdensity, P& proposal,
                         State& out, Info& info, Workspace& ws) const {
    if (state.position.size() == 0) return absl::InvalidArgumentError("state position is empty");
    if constexpr (requires { proposal.dim(); }) {
      const std::size_t d = proposal.dim();
      if (d != 0)
        if (auto s = nutshell::detail::check_dimension("the proposal", d, state.position.size());
            !s.ok())
          return s;
    }
    const auto keys = split<2>(key);
    ensure_size(ws.proposal.position, state.position.size());
    try {
      proposal.sample(keys[0], state.position, ws.proposal.position);
    } catch (...) {
      return nutshell::detail::thrown_status();
    }
    auto lp = evaluate(logdensity, ws.proposal.position);
    if (!lp.ok()) return lp.status();
    ws.proposal.logdensity = *lp;
    const bool finite = std::isfinite(*lp) && all_finite(ws.proposal.position);
    double log_ratio = finite ? *lp - state.logdensity : -std::numeric_limits<double>::infinity();
    if constexpr (AsymmetricProposal<P>) {
      if (finite) {
        try {
          log_ratio += proposal.log_density(state.position, ws.proposal.position) -
                       proposal.log_density(ws.proposal.position, state.position);
        } catch (...) {
          return nutshell::detail::thrown_status();
        }
      }
    }
    info.is_divergent = !finite;
    assign(out, metropolis_accept(keys[1], log_ratio, info) ? ws.proposal : state);
    return absl::OkStatus();
  }

  /// Pure form (see pure_step): returns a new state and info, allocated.
  template <LogDensityValue F, Proposal P>
  absl::StatusOr<Transition<State, Info>> operator()(const Key& key, const State& state,
                                                     F&& logdensity, P&& proposal) const {
    return pure_step(*this, key, state, logdensity, proposal);
  }
};

/// The kernel (it has no structural options; kept for the three-layer API).
inline Kernel build_kernel() { return Kernel{}; }

/// A log density and proposal bound together (Blackjax's `blackjax.rmh`).
/// Holds its own scratch: one chain at a time.
template <LogDensityValue F, Proposal P>
using Sampler = BoundSampler<Kernel, F, P>;

/// Binds a log density and a proposal (both stored by value).
template <LogDensityValue F, Proposal P>
Sampler<std::decay_t<F>, std::decay_t<P>> sampler(F&& logdensity, P&& proposal) {
  return {std::forward<F>(logdensity), std::forward<P>(proposal)};
}

}  // namespace nutshell::rmh
