// The Gaussian random walk Metropolis kernel in tunable form: rmh with the
// proposal x' = x + step_size * R z, z ~ N(0, I), R R^T = inverse_mass_matrix.
//
// Why a second form of rmh: rmh::Kernel takes any proposal object, which
// nothing can tune. Written with a step size (the proposal scale) and an
// inverse mass matrix (the proposal's covariance shape), and with rmh's
// acceptance rate in its Info, the random walk is an adaptable kernel: window
// adaptation tunes it as it tunes HMC, dual averaging of the scale towards a
// target acceptance rate (0.234 is optimal in high dimension, Roberts, Gelman
// and Gilks 1997) and the covariance from windowed draws (Haario et al.'s
// adaptive Metropolis, with Stan's windows). `sample(key, rmh::Kernel{}, ...)`
// runs exactly that (run/sample_gradient_free.hpp).
//
//   rmh::RandomWalkKernel kernel;
//   rmh::RandomWalkParams params{.step_size = 0.5, .inverse_mass_matrix = Metric::identity(d)};
//   kernel(key, state, logdensity, params)
#pragma once

#include <cstddef>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nutshell/core/kernel_api.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/core/metric.hpp"
#include "nutshell/core/validation.hpp"
#include "nutshell/mcmc/rmh.hpp"

namespace nutshell::rmh {

/// The random walk's tunables: proposal x + step_size * R z with R R^T =
/// inverse_mass_matrix (empty: the identity).
struct RandomWalkParams {
  double step_size = 1.0;
  Metric inverse_mass_matrix;
};

/// Scratch of one chain: rmh's, plus the standard normal draw.
struct RandomWalkWorkspace {
  Workspace rmh;
  Vec z;
};

/// rmh with the scaled Gaussian random walk proposal (see the file comment).
struct RandomWalkKernel {
  using State = rmh::State;
  using Params = RandomWalkParams;
  using Info = rmh::Info;
  using Workspace = RandomWalkWorkspace;

  /// One Metropolis transition into `out` (must not alias `state`). Errors:
  /// a step size that is not finite and > 0, a metric of the wrong
  /// dimension, a throwing log density.
  template <LogDensityValue F>
  absl::Status step_into(const Key& key, const State& state, F& logdensity, const Params& params,
                         State& out, Info& info, Workspace& ws) const {
    const std::size_t dim = state.position.size();
    if (!std::isfinite(params.step_size) || !(params.step_size > 0.0))
      return absl::InvalidArgumentError("random walk step size must be finite and > 0");
    const Metric* metric = params.inverse_mass_matrix.dim() ? &params.inverse_mass_matrix : nullptr;
    if (metric)
      if (auto s = nutshell::detail::check_metric(*metric, dim); !s.ok()) return s;
    ensure_size(ws.z, dim);
    Proposal p{params.step_size, metric, &ws.z};
    return Kernel{}.step_into(key, state, logdensity, p, out, info, ws.rmh);
  }

  /// Pure form (see pure_step): returns a new state and info, allocated.
  template <LogDensityValue F>
  absl::StatusOr<Transition<State, Info>> operator()(const Key& key, const State& state,
                                                     F&& logdensity, const Params& params) const {
    return pure_step(*this, key, state, logdensity, params);
  }

 private:
  // The symmetric proposal, drawing into the workspace's z.
  struct Proposal {
    double scale;
    const Metric* metric;
    Vec* z;
    void sample(const Key& key, const Vec& from, Vec& to) const {
      normal(key, *z);
      for (std::size_t i = 0; i < from.size(); ++i) to(i) = from(i);
      if (metric)
        metric->add_sqrt_times(scale, *z, to);
      else
        for (std::size_t i = 0; i < from.size(); ++i) to(i) += scale * (*z)(i);
    }
  };
};

}  // namespace nutshell::rmh
