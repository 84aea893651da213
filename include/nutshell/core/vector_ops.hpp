// Allocation-free vector kernels for the hot paths (leapfrog, tree building).
// Plain loops over contiguous doubles, and no expression-template
// temporaries are ever materialised.
//
// Why NUTSHELL_SIMD_FOR: GCC 12 at -O2 vectorises with the "very cheap" cost
// model, which refuses a loop of unknown trip count (it would need an
// epilogue) and any loop needing a runtime alias check, so a plain
// `for (i < n) y[i] += a * x[i]` stays scalar. A fixed inner block of 8 over
// `__restrict` pointers has a known trip count and no aliasing question: it
// becomes one 512-bit (or two 256-bit, four 128-bit) operations at -O2,
// checked with -fopt-info-vec. Element-wise results are bitwise those of the
// plain loop.
#pragma once

#include <cstddef>

#include "nutshell/core/types.hpp"

/// Runs the statements `...` for i in [0, n): in blocks of
/// nutshell::ops::kLanes, with `lane` = i - block start (0 in the remainder),
/// so a reduction can keep one accumulator per lane (acc[lane]). Use it
/// inside a function whose pointer parameters are `__restrict`: GCC drops
/// the restrict guarantee of local pointers and of lambdas after inlining,
/// and then keeps the loop scalar rather than version it.
#define NUTSHELL_SIMD_FOR(n, ...)                                                 \
  do {                                                                            \
    std::size_t simd_base_ = 0;                                                   \
    for (; simd_base_ + ::nutshell::ops::kLanes <= (n);                           \
         simd_base_ += ::nutshell::ops::kLanes)                                   \
      for (std::size_t lane = 0; lane < ::nutshell::ops::kLanes; ++lane) {        \
        const std::size_t i = simd_base_ + lane;                                  \
        __VA_ARGS__                                                               \
      }                                                                           \
    for (std::size_t i = simd_base_, lane = 0; i < (n); ++i) {                    \
      (void)lane;                                                                 \
      __VA_ARGS__                                                                 \
    }                                                                             \
  } while (0)

namespace nutshell::ops {

/// Lanes per block in NUTSHELL_SIMD_FOR (and accumulators per reduction).
inline constexpr std::size_t kLanes = 8;

/// Sum of the kLanes accumulators of a blocked reduction (pairwise).
inline double sum_lanes(const double (&acc)[kLanes]) {
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

namespace detail {
inline void axpy(std::size_t n, double a, const double* __restrict x, double* __restrict y) {
  NUTSHELL_SIMD_FOR(n, y[i] += a * x[i];);
}
inline void copy(std::size_t n, const double* __restrict x, double* __restrict y) {
  NUTSHELL_SIMD_FOR(n, y[i] = x[i];);
}
inline void add(std::size_t n, const double* __restrict a, const double* __restrict b,
                double* __restrict y) {
  NUTSHELL_SIMD_FOR(n, y[i] = a[i] + b[i];);
}
}  // namespace detail

/// y += a * x
inline void axpy(double a, const Vec& x, Vec& y) {
  detail::axpy(y.size(), a, x.data(), y.data());
}

/// Sum of x_i * y_i.
inline double dot(const Vec& x, const Vec& y) {
  const double* px = x.data();
  const double* py = y.data();
  double s = 0.0;
  for (std::size_t i = 0, n = x.size(); i < n; ++i) s += px[i] * py[i];
  return s;
}

/// dst = src, into an already sized buffer (never reallocates when sizes match).
inline void copy(const Vec& src, Vec& dst) {
  ensure_size(dst, src.size());
  if (src.data() != dst.data()) detail::copy(src.size(), src.data(), dst.data());
}

/// dst = a + b
inline void add(const Vec& a, const Vec& b, Vec& dst) {
  detail::add(dst.size(), a.data(), b.data(), dst.data());
}

/// Squared Euclidean norm.
inline double squared_norm(const Vec& x) { return dot(x, x); }

}  // namespace nutshell::ops
