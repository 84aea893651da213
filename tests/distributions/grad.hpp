// Gradient checks for the log densities: the AD gradient (one reverse sweep
// on this thread's tape) against central finite differences, for every
// subset of the arguments made var (the others passed as double), plus the
// propto contract and the one-node-per-call contract.
#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "nutshell/ad/ad.hpp"

namespace nutshell::dist_testing {

/// Argument K of `x` as it is (a var when T is var) when bit K of Mask is
/// set, otherwise as a double: how a test makes any subset of the arguments
/// var.
template <unsigned Mask, std::size_t K, class T>
auto pick(std::span<const T> x) {
  if constexpr (((Mask >> K) & 1u) != 0u)
    return x[K];
  else
    return ad::value_of(x[K]);
}

/// Calls `f.template operator()<Mask>()` for every Mask in [0, 2^N).
template <std::size_t N, class F>
void for_each_mask(F&& f) {
  [&]<std::size_t... M>(std::index_sequence<M...>) {
    (f.template operator()<static_cast<unsigned>(M)>(), ...);
  }(std::make_index_sequence<(std::size_t{1} << N)>{});
}

/// Value and AD gradient of a generic `f(std::span<const T>)` at x.
template <class F>
double ad_gradient(F& f, const std::vector<double>& x, std::vector<double>& g) {
  g.assign(x.size(), 0.0);
  return ad::value_and_gradient(f, std::span<const double>(x), std::span<double>(g));
}

/// Central finite difference of f (with T = double) along coordinate i.
template <class F>
double finite_difference(F& f, std::vector<double> x, std::size_t i) {
  // The step never reaches across zero (a positive argument near 0 stays
  // positive).
  double h = 1e-6 * std::max(1.0, std::abs(x[i]));
  if (x[i] != 0.0) h = std::min(h, 1e-3 * std::abs(x[i]));
  const double x0 = x[i];
  x[i] = x0 + h;
  const double up = static_cast<double>(f(std::span<const double>(x)));
  x[i] = x0 - h;
  const double down = static_cast<double>(f(std::span<const double>(x)));
  return (up - down) / (2.0 * h);
}

/// Expects the AD gradient of `f` at x to match finite differences of `ref`
/// (f itself, or the full density when f is its propto form) on the
/// coordinates in `mask` (bit i: coordinate i is var) and to be 0
/// elsewhere; coordinates past the mask's width (vector arguments) are all
/// checked when `all` is set. Returns the value f records on the tape.
template <class F, class R>
double expect_gradient(F f, R ref, const std::vector<double>& x, unsigned mask, const std::string& label,
                       bool all = false, double tol = 2e-6) {
  std::vector<double> g;
  const double v = ad_gradient(f, x, g);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const bool is_var = all || ((mask >> i) & 1u);
    const double fd = is_var ? finite_difference(ref, x, i) : 0.0;
    EXPECT_TRUE(std::isfinite(g[i])) << label << " coordinate " << i;
    EXPECT_NEAR(g[i], fd, tol * std::max(1.0, std::abs(fd))) << label << " coordinate " << i << " mask " << mask;
  }
  return v;
}

/// The same with f as its own reference, and its taped value checked against
/// its value with doubles.
template <class F>
double expect_gradient(F f, const std::vector<double>& x, unsigned mask, const std::string& label,
                       bool all = false, double tol = 2e-6) {
  const double v = expect_gradient(f, f, x, mask, label, all, tol);
  EXPECT_NEAR(v, static_cast<double>(f(std::span<const double>(x))), 1e-12 * std::max(1.0, std::abs(v)))
      << label;
  return v;
}

/// The number of tape nodes `f` records at x (with T = var).
template <class F>
std::size_t nodes_recorded(F f, const std::vector<double>& x) {
  ad::TapeScope scope;
  ad::var* xs = ad::arena_alloc<ad::var>(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) xs[i] = ad::var(x[i]);
  const std::size_t before = ad::tape().size();
  [[maybe_unused]] const ad::var r = f(std::span<const ad::var>(xs, x.size()));
  return ad::tape().size() - before;
}

// For every subset of the 3 (or 4) arguments made var: the AD gradient
// matches finite differences, the value matches f with doubles, propto has
// the same gradient, and full - propto does not change when the var
// arguments move (it is the dropped constant).
template <std::size_t N, class Full, class Propto>
void check_all_masks(const std::string& label, Full full, Propto propto, std::vector<double> x0,
                     std::vector<double> x1) {
  for_each_mask<N>([&]<unsigned M>() {
    auto f = [&](auto x) { return full.template operator()<M>(x); };
    auto fp = [&](auto x) { return propto.template operator()<M>(x); };
    const double full0 = expect_gradient(f, x0, M, label + " full");
    const double propto0 = expect_gradient(fp, f, x0, M, label + " propto");
    // Move only the var coordinates: the dropped part must not change.
    std::vector<double> x = x0;
    for (std::size_t i = 0; i < N; ++i)
      if ((M >> i) & 1u) x[i] = x1[i];
    std::vector<double> g;
    const double full1 = dist_testing::ad_gradient(f, x, g);
    const double propto1 = dist_testing::ad_gradient(fp, x, g);
    EXPECT_NEAR(full0 - propto0, full1 - propto1, 1e-10) << label << " mask " << M;
    if constexpr (M == 0u) {
      EXPECT_EQ(static_cast<double>(fp(std::span<const double>(x0))), 0.0) << label;
    }
  });
}

}  // namespace nutshell::dist_testing
