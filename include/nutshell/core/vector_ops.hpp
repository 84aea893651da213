// Allocation-free vector kernels for the hot paths (leapfrog, tree building).
// Plain loops over contiguous doubles: the compiler vectorises them, and no
// expression-template temporaries are ever materialised.
#pragma once

#include <cstddef>

#include "nutshell/core/types.hpp"

namespace nutshell::ops {

/// y += a * x
inline void axpy(double a, const Vec& x, Vec& y) {
  const double* px = x.data();
  double* py = y.data();
  for (std::size_t i = 0, n = y.size(); i < n; ++i) py[i] += a * px[i];
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
  const double* ps = src.data();
  double* pd = dst.data();
  for (std::size_t i = 0, n = src.size(); i < n; ++i) pd[i] = ps[i];
}

/// dst = a + b
inline void add(const Vec& a, const Vec& b, Vec& dst) {
  const double* pa = a.data();
  const double* pb = b.data();
  double* pd = dst.data();
  for (std::size_t i = 0, n = dst.size(); i < n; ++i) pd[i] = pa[i] + pb[i];
}

/// Squared Euclidean norm.
inline double squared_norm(const Vec& x) { return dot(x, x); }

}  // namespace nutshell::ops
