// Shared checks of the Hessian-vector-product tests (hvp_*_test.cpp, one
// binary per distribution family so that the families compile in parallel):
// for a density f of a parameter point, H v by ad::hessian_vector_product
// equals central finite differences of the AD gradient along v, H is
// symmetric (u . H v = v . H u), and no entry is NaN where the value is
// finite; plus the loops over which arguments are autodiff.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "nutshell/ad/ad.hpp"
#include "nutshell/constraints/constraints.hpp"
#include "nutshell/distributions/distributions.hpp"

namespace nutshell::distributions::hvp_test {

using Point = std::vector<double>;

std::vector<double> gradient(auto& f, const Point& x) {
  std::vector<double> g(x.size());
  ad::value_and_gradient(f, std::span<const double>(x), std::span<double>(g));
  return g;
}

std::vector<double> hvp(auto& f, const Point& x, const std::vector<double>& v, double* value) {
  std::vector<double> hv(x.size());
  *value = ad::hessian_vector_product(f, std::span<const double>(x), std::span<const double>(v),
                                      std::span<double>(hv));
  return hv;
}

// H v by central differences of the gradient along v (Richardson-extrapolated,
// step 1e-3 along v: the directions are scaled to each coordinate's distance
// from the domain edges, see `check`). The step is not smaller because
// x + t v is rounded: next to 1 - 1e-6 a step of 1e-10 would carry an
// error of 1e-6 in itself.
std::vector<double> fd_hvp(auto& f, const Point& x, const std::vector<double>& v) {
  const double h = 1e-3;
  auto grad_at = [&](double t) {
    Point xt = x;
    for (std::size_t i = 0; i < x.size(); ++i) xt[i] += t * v[i];
    return gradient(f, xt);
  };
  const auto g1p = grad_at(h), g1m = grad_at(-h), g2p = grad_at(h / 2), g2m = grad_at(-h / 2);
  std::vector<double> out(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double c1 = (g1p[i] - g1m[i]) / (2 * h), c2 = (g2p[i] - g2m[i]) / h;
    out[i] = (4 * c2 - c1) / 3;
  }
  return out;
}

// Checks f at x: HVP vs FD along two directions, symmetry, the value. The
// directions move only the coordinates in `mask` (bit i: coordinate i), the
// ones f reads as autodiff scalars (it reads the others as doubles, constants
// to every mode).
void check(const std::string& label, auto f, const Point& x, unsigned mask = ~0u,
           double tol = 1e-6) {
  SCOPED_TRACE(label);
  const std::size_t n = x.size();
  std::vector<double> u(n), v(n);
  for (std::size_t i = 0; i < n; ++i) {
    // Each coordinate moves by at most its distance to 0 (and to 1 for a
    // value in (0, 1)), so the finite differences stay inside the domain.
    double s = 1.0;
    if (x[i] != 0.0) s = std::min(s, std::abs(x[i]));
    if (x[i] > 0.0 && x[i] < 1.0) s = std::min(s, 1.0 - x[i]);
    if (i < 32 && ((mask >> i) & 1u) == 0u) s = 0.0;
    u[i] = s * std::sin(1.3 * static_cast<double>(i) + 0.4);
    v[i] = s * std::cos(0.7 * static_cast<double>(i) + 1.1);
  }
  // The value on the tape (with propto it drops the terms of the constants).
  std::vector<double> g(n);
  const double lp = ad::value_and_gradient(f, std::span<const double>(x), std::span<double>(g));
  ASSERT_TRUE(std::isfinite(lp));
  double lp_u = 0.0, lp_v = 0.0;
  const auto hu = hvp(f, x, u, &lp_u);
  const auto hv = hvp(f, x, v, &lp_v);
  EXPECT_NEAR(lp_u, lp, 1e-12 * std::max(1.0, std::abs(lp)));
  for (const auto* h : {&hu, &hv})
    for (std::size_t i = 0; i < n; ++i) ASSERT_TRUE(std::isfinite((*h)[i])) << "entry " << i;
  const auto fu = fd_hvp(f, x, u), fv = fd_hvp(f, x, v);
  double hmax = 1.0;
  for (std::size_t i = 0; i < n; ++i) hmax = std::max({hmax, std::abs(fu[i]), std::abs(fv[i])});
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_NEAR(hu[i], fu[i], tol * hmax) << "H u, entry " << i;
    EXPECT_NEAR(hv[i], fv[i], tol * hmax) << "H v, entry " << i;
  }
  double uhv = 0.0, vhu = 0.0;
  for (std::size_t i = 0; i < n; ++i) uhv += u[i] * hv[i], vhu += v[i] * hu[i];
  EXPECT_NEAR(uhv, vhu, 1e-12 * hmax * static_cast<double>(n)) << "symmetry";
}

// Argument K of x: autodiff when bit K of Mask is set, else its double value.
template <unsigned Mask, std::size_t K, class T>
auto arg(std::span<const T> x) {
  if constexpr (((Mask >> K) & 1u) != 0u)
    return x[K];
  else
    return ad::value_of(x[K]);
}

// Runs `body.template operator()<Mask>()` for every non-empty Mask < 2^N.
template <std::size_t N, class F>
void masks(F&& body) {
  [&]<std::size_t... M>(std::index_sequence<M...>) {
    (body.template operator()<static_cast<unsigned>(M + 1)>(), ...);
  }(std::make_index_sequence<(std::size_t{1} << N) - 1>{});
}

// Every subset of the first N coordinates made autodiff, full and propto.
#define NUTSHELL_HVP_SCALAR(N, LABEL, CALL)                                                  \
  masks<N>([&]<unsigned M>() {                                                               \
    for (const Point& x : points) {                                                          \
      check(std::string(LABEL) + " mask " + std::to_string(M), [](auto x) {                  \
        constexpr bool propto = false;                                                       \
        return CALL;                                                                         \
      }, x, M);                                                                              \
      check(std::string(LABEL) + " propto mask " + std::to_string(M), [](auto x) {           \
        constexpr bool propto = true;                                                        \
        return CALL;                                                                         \
      }, x, M);                                                                              \
    }                                                                                        \
  })

// Count families: the parameter is coordinate 0; counts are data.
#define NUTSHELL_HVP_COUNT(LABEL, CALL)                                                      \
  for (const Point& x : points) {                                                            \
    check(std::string(LABEL), [](auto x) {                                                   \
      constexpr bool propto = false;                                                         \
      return CALL;                                                                           \
    }, x);                                                                                   \
    check(std::string(LABEL) + " propto", [](auto x) {                                       \
      constexpr bool propto = true;                                                          \
      return CALL;                                                                           \
    }, x);                                                                                   \
  }

const std::vector<int> kCounts = {0, 3, 1, 7, 0, 12};
const std::vector<int> kTrials = {2, 5, 1, 9, 4, 12};
const std::vector<int> kBits = {0, 1, 1, 0, 1, 0};

}  // namespace nutshell::distributions::hvp_test
