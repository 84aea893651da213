// Microcanonical Langevin Monte Carlo (Robnik, De Luca, Silverstein and
// Seljak 2023; Robnik and Seljak 2023), unadjusted, as Blackjax's `mclmc`.
//
// The momentum u is a unit vector (the "velocity"). The deterministic part is
// ESH / isokinetic dynamics (Ver Steeg and Galstyan 2021), x' = u,
// u' = (I - u u^T) grad log p / (d - 1), whose x-marginal is the target; it
// is integrated by a palindromic splitting scheme (any `Integrator`'s
// coefficients, McLachlan by default) whose momentum stage is the exact,
// overflow-free ESH velocity update. Around each step the momentum is
// partially refreshed, u <- (u + nu z) / |u + nu z| with
// nu = sqrt((exp(h / L) - 1) / d) per half step (Blackjax's
// `with_isokinetic_maruyama`), so L is the distance over which the momentum
// decoheres. There is no Metropolis test: the step size sets a bias, which
// the tuning (mclmc_tuning.hpp) controls through the energy-error variance.
//
// Preconditioning by an inverse mass matrix M^-1 = S S^T (S diagonal sqrt,
// or the Cholesky factor when dense) runs the dynamics on y = S^-1 x: the
// gradient seen by the momentum update is S^T g and positions move by S u.
// Blackjax accepts diagonal (and low-rank) matrices; dense works the same way.
//
//   mclmc::init(position, logdensity, key)     -> State (an IntegratorState)
//   mclmc::build_kernel(integrator, ...)       -> Kernel; kernel(key, state, f, params)
//   mclmc::sampler(logdensity, params, kernel) -> bundle with .init / .step
#pragma once

#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/integrators.hpp"
#include "nutshell/core/kernel_api.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/core/metric.hpp"
#include "nutshell/core/state.hpp"
#include "nutshell/core/validation.hpp"
#include "nutshell/core/vector_ops.hpp"

namespace nutshell::mclmc {

/// Position, unit-norm momentum, and the cached log density and gradient.
using State = IntegratorState;

/// Tunables of one MCLMC step (what the tuning finds).
struct Params {
  /// Momentum decoherence length; +inf disables the refresh.
  double L = 1.0;
  double step_size = 0.1;
  /// Preconditioner; none (the default) is the identity, as Blackjax's 1.0.
  std::optional<Metric> inverse_mass_matrix{};
};

/// What happened in one step (Blackjax's MCLMCInfo).
struct Info {
  double logdensity = 0.0;      ///< at the returned state
  double kinetic_change = 0.0;  ///< summed over the ESH momentum updates
  /// kinetic_change - (logdensity_new - logdensity_old): the energy error
  /// whose variance per dimension the tuning targets. 0 after a revert.
  double energy_change = 0.0;
  /// False when the step produced a non-finite value and was reverted (the
  /// old point kept, with a fresh random momentum).
  bool nonans = true;
  /// Always 1: there is no Metropolis test. Present so that `sample`, which
  /// reports every kernel's acceptance statistic, can run MCLMC (its warmup
  /// is then mclmc_find_L_and_step_size, never dual averaging on this).
  double acceptance_rate = 1.0;
};

/// Scratch reused across steps (allocation-free in steady state).
struct Workspace {
  State z;
  Vec transformed;  ///< S^T grad, then scratch for S u and the noise
  /// Sizes every buffer for `dim`; a no-op once sized, so it never allocates
  /// in steady state.
  void resize(std::size_t dim) {
    ensure_size(z.position, dim);
    ensure_size(z.momentum, dim);
    ensure_size(z.logdensity_grad, dim);
    ensure_size(transformed, dim);
  }
};

namespace detail {

/// Writes a uniformly random unit vector into `u`.
inline void random_unit_vector(const Key& key, Vec& u) {
  normal(key, u);
  const double n = std::sqrt(ops::squared_norm(u));
  for (double& a : u) a /= n;
}

/// out = S^T v for the preconditioner's square root S (M^-1 = S S^T).
inline void apply_sqrt_transpose(const Metric* metric, const Vec& v, Vec& out) {
  const std::size_t n = v.size();
  if (!metric || metric->kind() == Metric::Kind::kIdentity) {
    for (std::size_t i = 0; i < n; ++i) out(i) = v(i);
  } else if (metric->kind() == Metric::Kind::kDiagonal) {
    const Vec& d = metric->inverse_mass_diagonal();
    for (std::size_t i = 0; i < n; ++i) out(i) = std::sqrt(d(i)) * v(i);
  } else if (metric->kind() == Metric::Kind::kLowRank) {
    metric->sqrt_transpose_times(v, out);
  } else {
    const Mat& c = metric->cholesky();  // lower: (S^T v)_i = sum_{j>=i} c(j, i) v_j
    for (std::size_t i = 0; i < n; ++i) {
      double s = 0.0;
      for (std::size_t j = i; j < n; ++j) s += c(j, i) * v(j);
      out(i) = s;
    }
  }
}

/// x += a S u.
inline void add_sqrt_times(const Metric* metric, double a, const Vec& u, Vec& x) {
  const std::size_t n = u.size();
  if (!metric || metric->kind() == Metric::Kind::kIdentity) {
    ops::axpy(a, u, x);
  } else if (metric->kind() == Metric::Kind::kDiagonal) {
    const Vec& d = metric->inverse_mass_diagonal();
    for (std::size_t i = 0; i < n; ++i) x(i) += a * std::sqrt(d(i)) * u(i);
  } else if (metric->kind() == Metric::Kind::kLowRank) {
    metric->add_sqrt_times(a, u, x);
  } else {
    const Mat& c = metric->cholesky();
    for (std::size_t i = 0; i < n; ++i) {
      double s = 0.0;
      for (std::size_t j = 0; j <= i; ++j) s += c(i, j) * u(j);
      x(i) += a * s;
    }
  }
}

/// The exact ESH velocity update for a time `dt` with gradient g (already
/// transformed by S^T, in `g`), as Blackjax's
/// `esh_dynamics_momentum_update_one_step`: no exponential of +delta, so it
/// cannot overflow for large gradients. Returns the kinetic energy change.
inline double esh_momentum_update(Vec& u, const Vec& g, double dt) {
  const std::size_t dim = u.size();
  const double g_norm = std::sqrt(ops::squared_norm(g));
  const double inv = g_norm > 1e-13 ? 1.0 / g_norm : 1.0;
  double ue = 0.0;
  for (std::size_t i = 0; i < dim; ++i) ue += u(i) * g(i) * inv;
  const double dm1 = static_cast<double>(dim - 1);
  const double delta = dt * g_norm / dm1;
  const double zeta = std::exp(-delta);
  const double a = (1.0 - zeta) * (1.0 + zeta + ue * (1.0 - zeta)), b = 2.0 * zeta;
  double norm2 = 0.0;
  for (std::size_t i = 0; i < dim; ++i) {
    u(i) = a * g(i) * inv + b * u(i);
    norm2 += u(i) * u(i);
  }
  const double norm = std::sqrt(norm2);
  if (norm > 1e-13)
    for (double& x : u) x /= norm;
  return (delta - std::log(2.0) + std::log(1.0 + ue + (1.0 - ue) * zeta * zeta)) * dm1;
}

/// u <- (u + nu z) / |u + nu z| with nu = sqrt((exp(2 dt / L) - 1) / d): the
/// isokinetic Ornstein-Uhlenbeck refresh over a time dt (Blackjax's
/// `partially_refresh_momentum`). `scratch` receives z.
inline void partially_refresh_momentum(const Key& key, double dt, double L, Vec& u, Vec& scratch) {
  if (!(L < std::numeric_limits<double>::infinity())) return;
  const double nu = std::sqrt(std::expm1(2.0 * dt / L) / static_cast<double>(u.size()));
  normal(key, scratch);
  double norm2 = 0.0;
  for (std::size_t i = 0; i < u.size(); ++i) {
    u(i) += nu * scratch(i);
    norm2 += u(i) * u(i);
  }
  const double norm = std::sqrt(norm2);
  for (double& x : u) x /= norm;
}

}  // namespace detail

/// One step of the isokinetic integrator given by `integrator`'s
/// coefficients (momentum stages: ESH updates; position stages: x += c h S u
/// and a gradient evaluation). Returns the kinetic energy change; an error
/// only if the log density throws. Non-finite values are left for the caller.
template <LogDensity F>
absl::StatusOr<double> isokinetic_step(const Integrator& integrator, const Metric* metric,
                                       F& logdensity, State& z, double step_size, Vec& scratch) {
  double kinetic_change = 0.0;
  for (std::size_t k = 0; k < integrator.num_coefficients; ++k) {
    const double c = integrator.coefficients[k] * step_size;
    if (k % 2 == 0) {
      detail::apply_sqrt_transpose(metric, z.logdensity_grad, scratch);
      kinetic_change += detail::esh_momentum_update(z.momentum, scratch, c);
    } else {
      detail::add_sqrt_times(metric, c, z.momentum, z.position);
      auto lp = evaluate(logdensity, z.position, z.logdensity_grad);
      if (!lp.ok()) return lp.status();
      z.logdensity = *lp;
    }
  }
  return kinetic_change;
}

/// A validated starting state with a uniformly random unit momentum. MCLMC
/// needs at least two dimensions (the momentum lives on the sphere S^(d-1)).
template <LogDensity F>
absl::StatusOr<State> init(const Vec& position, F&& logdensity, const Key& key) {
  if (position.size() < 2)
    return absl::InvalidArgumentError(absl::StrCat(
        "MCLMC needs a target with at least 2 dimensions, got ", position.size()));
  auto g = init_gradient_state(position, logdensity);
  if (!g.ok()) return g.status();
  State s{std::move(g->position), Vec::from_shape({position.size()}), g->logdensity,
          std::move(g->logdensity_grad)};
  detail::random_unit_vector(key, s.momentum);
  return s;
}

/// The MCLMC step for a given integrator. `desired_energy_var_max_ratio`
/// (default: off) reverts steps whose |energy change| exceeds
/// sqrt(d * ratio * desired_energy_var), as Blackjax.
struct Kernel {
  using State = mclmc::State;
  using Params = mclmc::Params;
  using Info = mclmc::Info;
  using Workspace = mclmc::Workspace;

  Integrator integrator = mclachlan;
  double desired_energy_var_max_ratio = std::numeric_limits<double>::infinity();
  double desired_energy_var = 5e-4;

  /// mclmc::init, where BoundSampler::init(position, key) looks for it.
  template <LogDensity F>
  static absl::StatusOr<State> init(const Vec& position, F& logdensity, const Key& key) {
    return mclmc::init(position, logdensity, key);
  }

  /// One step from `state` into `out` (must not alias `state`). Errors:
  /// invalid params or dimensions (d < 2 included), or a throwing log
  /// density. A step that yields any non-finite position, momentum, log
  /// density, gradient or energy is reverted: `out` is the old point with a
  /// fresh random momentum and `info.nonans` is false (Blackjax checks all
  /// but the gradient; a non-finite gradient would poison the next step).
  template <LogDensity F>
  absl::Status step_into(const Key& key, const State& state, F& logdensity, const Params& params,
                         State& out, Info& info, Workspace& ws) const {
    if (auto s = check(state, params); !s.ok()) return s;
    const std::size_t dim = state.position.size();
    const Metric* metric = params.inverse_mass_matrix ? &*params.inverse_mass_matrix : nullptr;
    ws.resize(dim);
    const auto keys = split<3>(key);  // kernel, energy cutoff, nan
    const auto refresh = split<2>(keys[0]);
    const double h = params.step_size;

    ops::copy(state.position, ws.z.position);
    ops::copy(state.momentum, ws.z.momentum);
    ops::copy(state.logdensity_grad, ws.z.logdensity_grad);
    ws.z.logdensity = state.logdensity;
    detail::partially_refresh_momentum(refresh[0], 0.5 * h, params.L, ws.z.momentum, ws.transformed);
    auto kinetic = isokinetic_step(integrator, metric, logdensity, ws.z, h, ws.transformed);
    if (!kinetic.ok()) return kinetic.status();
    detail::partially_refresh_momentum(refresh[1], 0.5 * h, params.L, ws.z.momentum, ws.transformed);

    info.logdensity = ws.z.logdensity;
    info.kinetic_change = *kinetic;
    info.energy_change = *kinetic - ws.z.logdensity + state.logdensity;
    info.nonans = true;
    const double cutoff = std::sqrt(static_cast<double>(dim) * desired_energy_var_max_ratio *
                                    desired_energy_var);
    bool revert = std::abs(info.energy_change) > cutoff;
    const bool finite = all_finite(ws.z.position) && all_finite(ws.z.momentum) &&
                        std::isfinite(ws.z.logdensity) && all_finite(ws.z.logdensity_grad) &&
                        std::isfinite(info.kinetic_change) && std::isfinite(info.energy_change);
    if (!finite) {
      revert = true;
      info.nonans = false;
    }
    if (revert) {
      ops::copy(state.position, out.position);
      ops::copy(state.logdensity_grad, out.logdensity_grad);
      out.logdensity = state.logdensity;
      ensure_size(out.momentum, dim);
      detail::random_unit_vector(finite ? keys[1] : keys[2], out.momentum);
      info.logdensity = state.logdensity;
      info.kinetic_change = 0.0;
      info.energy_change = 0.0;
    } else {
      ops::copy(ws.z.position, out.position);
      ops::copy(ws.z.momentum, out.momentum);
      ops::copy(ws.z.logdensity_grad, out.logdensity_grad);
      out.logdensity = ws.z.logdensity;
    }
    return absl::OkStatus();
  }

  /// Pure form (see pure_step): returns a new state and info, allocated.
  template <LogDensity F>
  absl::StatusOr<Transition<State, Info>> operator()(const Key& key, const State& state,
                                                     F&& logdensity, const Params& params) const {
    return pure_step(*this, key, state, logdensity, params);
  }

 private:
  static absl::Status check(const State& state, const Params& params) {
    if (auto s = nutshell::detail::check_step_size(params.step_size); !s.ok()) return s;
    if (std::isnan(params.L) || !(params.L > 0.0))
      return absl::InvalidArgumentError(absl::StrCat("L must be > 0 (or +inf), got ", params.L));
    if (auto s = nutshell::detail::check_gradient_state(state); !s.ok()) return s;
    const std::size_t dim = state.position.size();
    if (dim < 2)
      return absl::InvalidArgumentError(
          absl::StrCat("MCLMC needs a target with at least 2 dimensions, got ", dim));
    if (auto s = nutshell::detail::check_dimension("the state's momentum", state.momentum.size(), dim);
        !s.ok())
      return s;
    if (params.inverse_mass_matrix)
      return nutshell::detail::check_metric(*params.inverse_mass_matrix, dim);
    return absl::OkStatus();
  }
};

/// The MCLMC kernel with the given isokinetic integrator (Blackjax default:
/// McLachlan) and optional energy-error cutoff.
inline Kernel build_kernel(Integrator integrator = mclachlan,
                           double desired_energy_var_max_ratio = std::numeric_limits<double>::infinity(),
                           double desired_energy_var = 5e-4) {
  return Kernel{integrator, desired_energy_var_max_ratio, desired_energy_var};
}

/// A log density, parameters and kernel bound together (Blackjax's
/// `blackjax.mclmc(...)`). Holds its scratch: one chain at a time. Its
/// `init(position, key)` draws a random unit momentum from `key`.
template <LogDensity F>
using Sampler = BoundSampler<Kernel, F, Params>;

/// Binds a log density, MCLMC parameters and kernel.
template <LogDensity F>
Sampler<std::decay_t<F>> sampler(F&& logdensity, Params params, Kernel kernel = {}) {
  return {std::forward<F>(logdensity), std::move(params), kernel};
}

}  // namespace nutshell::mclmc
