// Elliptical slice sampling (Murray, Adams and MacKay 2010).
//
// For a posterior N(x; mean, Sigma) * L(x), where the Gaussian prior carries
// the scale and correlation: each transition draws an auxiliary prior point
// nu, which with the current point x spans the ellipse
//   x(theta) = mean + (x - mean) cos(theta) + (nu - mean) sin(theta),
// and slice-samples the angle against the likelihood alone, shrinking the
// angle bracket towards the current point (theta = 0) until a point is in the
// slice. Every transition moves, there is no step size to tune, and the
// kernel only ever evaluates the log-likelihood.
//
//   elliptical_slice::init(position, loglikelihood)          -> State
//   elliptical_slice::build_kernel(max_shrinkage_steps)      -> Kernel;
//       kernel(key, state, loglikelihood, prior)
//   elliptical_slice::sampler(loglikelihood, prior)          -> .init / .step
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/kernel_api.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/core/state.hpp"
#include "nutshell/core/validation.hpp"
#include "nutshell/core/vector_ops.hpp"

namespace nutshell::elliptical_slice {

/// The chain's state. The cached value is the log-*likelihood* (Blackjax
/// calls it `logdensity`): the prior never has to be evaluated.
struct State {
  Vec position;
  double loglikelihood = 0.0;
};

/// What happened in one transition.
struct Info {
  double theta = 0.0;           ///< angle of the accepted point on the ellipse
  int num_shrinkage_steps = 0;  ///< rejected angles before acceptance (evaluations - 1)
  bool is_divergent = false;    ///< some angle gave a non-finite log-likelihood (rejected)
};

/// The Gaussian prior N(mean, L L^T), validated and factored once so a
/// transition costs one triangular product, not a factorisation.
class GaussianPrior {
 public:
  /// From a covariance matrix: square, symmetric, positive definite.
  static absl::StatusOr<GaussianPrior> covariance(const Vec& mean, const Mat& covariance);
  /// From a lower Cholesky factor L (covariance L L^T): square, lower
  /// triangular, with a finite, strictly positive diagonal, hence PD.
  static absl::StatusOr<GaussianPrior> cholesky(const Vec& mean, const Mat& lower);
  /// Independent coordinates: covariance diag(variances), all finite and > 0.
  static absl::StatusOr<GaussianPrior> diagonal(const Vec& mean, const Vec& variances);

  /// The dimension the prior, and so the position, has.
  std::size_t dim() const { return mean_.size(); }
  /// The centre of the ellipses: every proposal is mean + rotated offsets.
  const Vec& mean() const { return mean_; }

  /// out = L z with z ~ N(0, I): a prior draw minus the mean (no allocation).
  void sample_centered(const Key& key, Vec& out) const {
    normal(key, out);
    const std::size_t n = out.size();
    if (chol_.size() == 0) {
      for (std::size_t i = 0; i < n; ++i) out(i) *= sd_(i);
      return;
    }
    // Bottom row first, so each z_j is read before it is overwritten.
    for (std::size_t i = n; i-- > 0;) {
      double s = 0.0;
      for (std::size_t j = 0; j <= i; ++j) s += chol_(i, j) * out(j);
      out(i) = s;
    }
  }

 private:
  static absl::Status check_mean(const Vec& mean, std::size_t n);
  Vec mean_;
  Vec sd_;    // diagonal prior
  Mat chol_;  // dense prior (empty when diagonal)
};

inline absl::Status GaussianPrior::check_mean(const Vec& mean, std::size_t n) {
  if (mean.size() == 0) return absl::InvalidArgumentError("prior mean is empty");
  if (mean.size() != n)
    return absl::InvalidArgumentError(absl::StrCat("prior mean has ", mean.size(),
                                                   " entries but the covariance is ", n, "x", n));
  if (!all_finite(mean)) return absl::InvalidArgumentError("prior mean is not finite");
  return absl::OkStatus();
}

inline absl::StatusOr<GaussianPrior> GaussianPrior::covariance(const Vec& mean, const Mat& cov) {
  if (cov.dimension() != 2 || cov.shape(0) != cov.shape(1))
    return absl::InvalidArgumentError("prior covariance must be square");
  const std::size_t n = cov.shape(0);
  if (auto s = check_mean(mean, n); !s.ok()) return s;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      if (!std::isfinite(cov(i, j)))
        return absl::InvalidArgumentError(
            absl::StrCat("prior covariance has a non-finite entry at (", i, ", ", j, ")"));
      if (std::abs(cov(i, j) - cov(j, i)) > 1e-10 * std::max(1.0, std::abs(cov(i, j))))
        return absl::InvalidArgumentError(
            absl::StrCat("prior covariance is not symmetric at (", i, ", ", j, ")"));
    }
  // Cholesky-Banachiewicz; a non-positive pivot means not positive definite.
  Mat l = xt::zeros<double>({n, n});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j) {
      double s = cov(i, j);
      for (std::size_t k = 0; k < j; ++k) s -= l(i, k) * l(j, k);
      if (i == j) {
        if (!(s > 0.0))
          return absl::InvalidArgumentError(absl::StrCat(
              "prior covariance is not positive definite (pivot ", i, " is ", s, ")"));
        l(i, i) = std::sqrt(s);
      } else {
        l(i, j) = s / l(j, j);
      }
    }
  GaussianPrior p;
  p.mean_ = mean;
  p.chol_ = std::move(l);
  return p;
}

inline absl::StatusOr<GaussianPrior> GaussianPrior::cholesky(const Vec& mean, const Mat& lower) {
  if (lower.dimension() != 2 || lower.shape(0) != lower.shape(1))
    return absl::InvalidArgumentError("prior Cholesky factor must be square");
  const std::size_t n = lower.shape(0);
  if (auto s = check_mean(mean, n); !s.ok()) return s;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      const double v = lower(i, j);
      if (!std::isfinite(v))
        return absl::InvalidArgumentError(
            absl::StrCat("prior Cholesky factor has a non-finite entry at (", i, ", ", j, ")"));
      if (j > i && v != 0.0)
        return absl::InvalidArgumentError(absl::StrCat(
            "prior Cholesky factor must be lower triangular; entry (", i, ", ", j, ") is ", v));
      if (j == i && !(v > 0.0))
        return absl::InvalidArgumentError(absl::StrCat(
            "prior Cholesky factor must have a positive diagonal; entry ", i, " is ", v));
    }
  GaussianPrior p;
  p.mean_ = mean;
  p.chol_ = lower;
  return p;
}

inline absl::StatusOr<GaussianPrior> GaussianPrior::diagonal(const Vec& mean, const Vec& variances) {
  if (auto s = check_mean(mean, variances.size()); !s.ok()) return s;
  for (std::size_t i = 0; i < variances.size(); ++i)
    if (!std::isfinite(variances(i)) || !(variances(i) > 0.0))
      return absl::InvalidArgumentError(absl::StrCat(
          "prior variances must be finite and > 0; entry ", i, " is ", variances(i)));
  GaussianPrior p;
  p.mean_ = mean;
  p.sd_ = xt::sqrt(variances);
  return p;
}

/// Scratch buffers reused across transitions (one per chain), so a
/// steady-state step allocates nothing.
struct Workspace {
  Vec centered;  // x - mean
  Vec nu;        // prior draw - mean
  Vec proposal;
  void resize(std::size_t dim) {
    ensure_size(centered, dim);
    ensure_size(nu, dim);
    ensure_size(proposal, dim);
  }
};

/// Evaluates the log-likelihood at `position`; fails if it is not finite
/// there, because the slice level is drawn below it.
template <LogDensityValue F>
absl::StatusOr<State> init(const Vec& position, F&& loglikelihood) {
  auto s = init_position_state(position, loglikelihood);
  if (!s.ok()) return s.status();
  return State{std::move(s->position), s->logdensity};
}

/// The elliptical slice transition. The prior is an argument of each call,
/// like rmh's proposal; the kernel itself only holds the safety cap.
struct Kernel {
  using State = elliptical_slice::State;
  using Params = GaussianPrior;  ///< what the kernel is given in the place of parameters
  using Info = elliptical_slice::Info;
  using Workspace = elliptical_slice::Workspace;

  /// Shrinkage provably ends (the bracket closes on the current point, which
  /// is in the slice), so hitting this cap means a non-deterministic or
  /// inconsistent log-likelihood: it is reported as an error, not looped on.
  int max_shrinkage_steps = 1000;

  /// elliptical_slice::init, after checking `position` against the prior so
  /// that a dimension mistake surfaces before the first step (what
  /// BoundSampler::init calls).
  template <LogDensityValue F>
  static absl::StatusOr<State> init(const Vec& position, F& loglikelihood,
                                    const GaussianPrior& prior) {
    if (auto s = nutshell::detail::check_dimension("the prior", prior.dim(), position.size());
        !s.ok())
      return s;
    return elliptical_slice::init(position, loglikelihood);
  }

  /// One transition from `state` into `out` (must not alias `state`). Errors:
  /// dimension mismatch, a non-finite cached log-likelihood, a throwing
  /// log-likelihood, or the shrinkage cap. Non-finite log-likelihoods on the
  /// ellipse are outside the slice: rejected, flagged, never stored.
  template <LogDensityValue F>
  absl::Status step_into(const Key& key, const State& state, F& loglikelihood,
                         const GaussianPrior& prior, State& out, Info& info,
                         Workspace& ws) const {
    const std::size_t dim = state.position.size();
    if (dim == 0) return absl::InvalidArgumentError("state position is empty");
    if (auto s = nutshell::detail::check_dimension("the prior", prior.dim(), dim); !s.ok())
      return s;
    if (!std::isfinite(state.loglikelihood))
      return absl::InvalidArgumentError(absl::StrCat(
          "state log-likelihood is not finite (", state.loglikelihood, ")"));
    ws.resize(dim);
    const auto keys = split<3>(key);
    const Vec& mean = prior.mean();
    prior.sample_centered(keys[0], ws.nu);
    for (std::size_t i = 0; i < dim; ++i) ws.centered(i) = state.position(i) - mean(i);
    const double log_level = state.loglikelihood + std::log(uniform(keys[1]));

    Stream draws(keys[2]);
    double theta = 2.0 * std::numbers::pi * draws.uniform();
    double lo = theta - 2.0 * std::numbers::pi, hi = theta;
    info.num_shrinkage_steps = 0;
    info.is_divergent = false;
    for (;;) {
      const double c = std::cos(theta), s = std::sin(theta);
      for (std::size_t i = 0; i < dim; ++i)
        ws.proposal(i) = mean(i) + ws.centered(i) * c + ws.nu(i) * s;
      auto ll = evaluate(loglikelihood, ws.proposal);
      if (!ll.ok()) return ll.status();
      const bool finite = std::isfinite(*ll);
      info.is_divergent = info.is_divergent || !finite;
      if (finite && *ll > log_level) {
        ops::copy(ws.proposal, out.position);
        out.loglikelihood = *ll;
        info.theta = theta;
        return absl::OkStatus();
      }
      if (info.num_shrinkage_steps >= max_shrinkage_steps)
        return absl::InternalError(absl::StrCat(
            "elliptical slice: no point accepted after ", max_shrinkage_steps,
            " shrinkage steps; is the log-likelihood deterministic and the cached value current?"));
      if (theta < 0.0)
        lo = theta;
      else
        hi = theta;
      theta = lo + (hi - lo) * draws.uniform();
      ++info.num_shrinkage_steps;
    }
  }

  /// Pure form (see pure_step): returns a new state and info, allocated.
  template <LogDensityValue F>
  absl::StatusOr<Transition<State, Info>> operator()(const Key& key, const State& state,
                                                     F&& loglikelihood,
                                                     const GaussianPrior& prior) const {
    return pure_step(*this, key, state, loglikelihood, prior);
  }
};

/// The kernel with the given bug-guard cap on shrinkage steps.
inline Kernel build_kernel(int max_shrinkage_steps = 1000) { return Kernel{max_shrinkage_steps}; }

/// A log-likelihood and prior bound together (Blackjax's
/// `blackjax.elliptical_slice`). Holds its own scratch: one chain at a time.
template <LogDensityValue F>
class Sampler : public BoundSampler<Kernel, F, GaussianPrior> {
 public:
  using BoundSampler<Kernel, F, GaussianPrior>::BoundSampler;
  /// The bound prior (what the sampler has in the place of parameters).
  const GaussianPrior& prior() const { return this->params(); }
};

/// Binds a log-likelihood, its Gaussian prior and kernel options.
template <LogDensityValue F>
Sampler<std::decay_t<F>> sampler(F&& loglikelihood, GaussianPrior prior, Kernel kernel = {}) {
  return {std::forward<F>(loglikelihood), std::move(prior), kernel};
}

}  // namespace nutshell::elliptical_slice
