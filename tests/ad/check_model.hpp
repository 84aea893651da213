// Checks a generic model f(std::span<const T>) end to end: the reverse-mode
// gradient against finite differences of the double path, forward mode
// (directional derivative) against the gradient, and the Hessian-vector
// product against finite differences of the gradient.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "nutshell/ad/ad.hpp"
#include "tests/ad/fd.hpp"

namespace nutshell::ad::testing {

struct ModelCheckOptions {
  double h = 1e-4;         // finite-difference step, relative to max(1, |x_i|)
  double grad_rel = 1e-6;  // tolerance on the gradient
  double grad_abs = 1e-8;
  double hvp_rel = 1e-5;
  double hvp_abs = 1e-6;
  bool check_hvp = true;
  // Forward mode runs the generic (unblocked) algorithms: on ill-conditioned
  // problems it agrees with reverse mode only to cond * eps.
  double forward_rel = 1e-10;
  double value_rel = 1e-13;
};

/// kWithHvp = false leaves the Hessian-vector product out at compile time
/// (for models whose operations do not take fvar<var>).
template <bool kWithHvp = true, class F>
void check_model(F f, const std::vector<double>& x, ModelCheckOptions o = {}) {
  const std::size_t n = x.size();
  std::vector<double> g(n);
  const double lp = value_and_gradient(f, std::span<const double>(x), std::span<double>(g));
  const double lp_double = value(f, std::span<const double>(x));
  EXPECT_TRUE(close(lp, lp_double, 1e-13, 1e-300)) << lp << " vs " << lp_double;
  for (std::size_t i = 0; i < n; ++i) ASSERT_TRUE(std::isfinite(g[i])) << "grad[" << i << "]";
  auto value_fn = [&](std::span<const double> u) { return value(f, u); };
  const std::vector<double> fd = fd_gradient(value_fn, x, o.h);
  for (std::size_t i = 0; i < n; ++i)
    EXPECT_TRUE(close(g[i], fd[i], o.grad_rel, o.grad_abs))
        << "grad[" << i << "] ad " << g[i] << " fd " << fd[i];

  // A fixed direction with entries of both signs.
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = std::sin(1.7 * static_cast<double>(i) + 0.3);
  double gv = 0.0;
  for (std::size_t i = 0; i < n; ++i) gv += g[i] * v[i];
  double lp_fwd = 0.0;
  const double dd = directional_derivative(f, std::span<const double>(x), std::span<const double>(v),
                                           &lp_fwd);
  EXPECT_TRUE(close(lp_fwd, lp, o.value_rel, 1e-300)) << lp_fwd << " vs " << lp;
  EXPECT_TRUE(close(dd, gv, o.forward_rel, o.forward_rel * std::abs(lp)))
      << "directional " << dd << " vs " << gv;

  if constexpr (!kWithHvp) return;
  else {
  if (!o.check_hvp) return;
  std::vector<double> hv(n);
  const double lp_h = hessian_vector_product(f, std::span<const double>(x),
                                             std::span<const double>(v), std::span<double>(hv));
  EXPECT_TRUE(close(lp_h, lp, o.value_rel, 1e-300));
  // FD of the gradient along v.
  std::vector<double> fd_hv(n), gp(n), gm(n), xp(n), xm(n);
  auto grad_at = [&](double t, std::vector<double>& out) {
    for (std::size_t i = 0; i < n; ++i) xp[i] = x[i] + t * v[i];
    value_and_gradient(f, std::span<const double>(xp), std::span<double>(out));
  };
  const double h = o.h;
  std::vector<double> g1p(n), g1m(n), g2p(n), g2m(n);
  grad_at(h, g1p);
  grad_at(-h, g1m);
  grad_at(0.5 * h, g2p);
  grad_at(-0.5 * h, g2m);
  for (std::size_t i = 0; i < n; ++i) {
    const double c1 = (g1p[i] - g1m[i]) / (2 * h), c2 = (g2p[i] - g2m[i]) / h;
    fd_hv[i] = (4 * c2 - c1) / 3;
    EXPECT_TRUE(close(hv[i], fd_hv[i], o.hvp_rel, o.hvp_abs))
        << "hvp[" << i << "] ad " << hv[i] << " fd " << fd_hv[i];
  }
}  // if constexpr
}

}  // namespace nutshell::ad::testing

namespace nutshell::ad::testing {

/// The Hessian-vector product of a generic model f at x along two fixed
/// directions: against central finite differences (Richardson) of the AD
/// gradient with step h, entry by entry to rel * max|H v| + abs; symmetric
/// (u . H v = v . H u to 1e-9 of |u| |H| |v|); finite; and the value it
/// returns equals f's (to 1e-10). Returns the largest relative difference seen.
template <class F>
double check_hessian_vector_product(F&& f, const std::vector<double>& x, double h = 1e-4,
                                    double rel = 1e-5, double abs = 1e-7) {
  const std::size_t n = x.size();
  std::vector<double> u(n), v(n);
  for (std::size_t i = 0; i < n; ++i) {
    u[i] = std::sin(1.7 * static_cast<double>(i) + 0.3);
    v[i] = std::cos(0.9 * static_cast<double>(i) + 1.3);
  }
  const double lp = value(f, std::span<const double>(x));
  auto hvp = [&](const std::vector<double>& d) {
    std::vector<double> out(n);
    const double lp_h = hessian_vector_product(f, std::span<const double>(x),
                                               std::span<const double>(d), std::span<double>(out));
    // 1e-10, not 1e-13: the nested path runs the generic (unblocked) matrix
    // algorithms, which on the GP's ill-conditioned Cholesky agree with the
    // LAPACK value only to ~1e-12.
    EXPECT_TRUE(close(lp_h, lp, 1e-10, 1e-300)) << lp_h << " vs " << lp;
    for (std::size_t i = 0; i < n; ++i) EXPECT_TRUE(std::isfinite(out[i])) << "H d [" << i << "]";
    return out;
  };
  auto fd = [&](const std::vector<double>& d) {
    auto grad_at = [&](double t) {
      std::vector<double> xt(n), g(n);
      for (std::size_t i = 0; i < n; ++i) xt[i] = x[i] + t * d[i];
      value_and_gradient(f, std::span<const double>(xt), std::span<double>(g));
      return g;
    };
    const auto g1p = grad_at(h), g1m = grad_at(-h), g2p = grad_at(h / 2), g2m = grad_at(-h / 2);
    std::vector<double> out(n);
    for (std::size_t i = 0; i < n; ++i)
      out[i] = (4 * (g2p[i] - g2m[i]) / h - (g1p[i] - g1m[i]) / (2 * h)) / 3;
    return out;
  };
  const auto hu = hvp(u), hv = hvp(v), fu = fd(u), fv = fd(v);
  double scale = 0.0, worst = 0.0;
  for (std::size_t i = 0; i < n; ++i) scale = std::max({scale, std::abs(fu[i]), std::abs(fv[i])});
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_NEAR(hu[i], fu[i], rel * scale + abs) << "H u [" << i << "]";
    EXPECT_NEAR(hv[i], fv[i], rel * scale + abs) << "H v [" << i << "]";
    worst = std::max({worst, std::abs(hu[i] - fu[i]) / std::max(scale, 1e-300),
                      std::abs(hv[i] - fv[i]) / std::max(scale, 1e-300)});
  }
  double uhv = 0.0, vhu = 0.0, nu = 0.0, nv = 0.0;
  for (std::size_t i = 0; i < n; ++i) uhv += u[i] * hv[i], vhu += v[i] * hu[i], nu += u[i] * u[i], nv += v[i] * v[i];
  EXPECT_NEAR(uhv, vhu, 1e-9 * std::sqrt(nu * nv) * std::max(scale, 1.0)) << "symmetry";
  return worst;
}

}  // namespace nutshell::ad::testing
