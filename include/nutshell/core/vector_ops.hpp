// Allocation-free vector kernels for the hot paths (leapfrog, tree building).
// Plain loops over contiguous doubles, and no expression-template
// temporaries are ever materialised.
//
// Why `blocked_for`: GCC 12 at -O2 vectorises with the "very cheap" cost
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

namespace nutshell::ops {

/// Lanes per block in blocked_for (and accumulators per reduction).
inline constexpr std::size_t kLanes = 8;

/// Calls body(i, lane) for i in [0, n): blocks of kLanes with lane = i %
/// kLanes, then the remainder with lane 0. Reductions keep one accumulator
/// per lane (see sum_lanes) so that they vectorise too.
template <class Body>
[[gnu::always_inline]] inline void blocked_for(std::size_t n, Body&& body) {
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (std::size_t j = 0; j < kLanes; ++j) body(i + j, j);
  for (; i < n; ++i) body(i, 0);
}

/// Sum of the kLanes accumulators of a blocked reduction (pairwise).
inline double sum_lanes(const double (&acc)[kLanes]) {
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

/// y += a * x
inline void axpy(double a, const Vec& x, Vec& y) {
  const double* __restrict px = x.data();
  double* __restrict py = y.data();
  blocked_for(y.size(), [&](std::size_t i, std::size_t) { py[i] += a * px[i]; });
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
  const double* __restrict ps = src.data();
  double* __restrict pd = dst.data();
  blocked_for(src.size(), [&](std::size_t i, std::size_t) { pd[i] = ps[i]; });
}

/// dst = a + b
inline void add(const Vec& a, const Vec& b, Vec& dst) {
  const double* __restrict pa = a.data();
  const double* __restrict pb = b.data();
  double* __restrict pd = dst.data();
  blocked_for(dst.size(), [&](std::size_t i, std::size_t) { pd[i] = pa[i] + pb[i]; });
}

/// Squared Euclidean norm.
inline double squared_norm(const Vec& x) { return dot(x, x); }

}  // namespace nutshell::ops
