#include "nutshell/ad/vector_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <xsimd/xsimd.hpp>

namespace nutshell::ad::kernels {
namespace {
using Batch = xsimd::batch<double>;
constexpr std::size_t kW = Batch::size;

// One row's dot product with x, kW lanes at a time.
inline double row_dot(const double* row, const double* x, std::size_t cols) {
  Batch acc(0.0);
  std::size_t j = 0;
  for (; j + kW <= cols; j += kW)
    acc = xsimd::fma(Batch::load_unaligned(row + j), Batch::load_unaligned(x + j), acc);
  double s = xsimd::hadd(acc);
  for (; j < cols; ++j) s += row[j] * x[j];
  return s;
}
}  // namespace

void gemv(const double* a, std::size_t rows, std::size_t cols, const double* x, double* y) {
  std::size_t i = 0;
  // Four rows per sweep share the loads of x and give four independent chains.
  for (; i + 4 <= rows; i += 4) {
    const double* r0 = a + i * cols;
    const double *r1 = r0 + cols, *r2 = r1 + cols, *r3 = r2 + cols;
    Batch s0(0.0), s1(0.0), s2(0.0), s3(0.0);
    std::size_t j = 0;
    for (; j + kW <= cols; j += kW) {
      const Batch xx = Batch::load_unaligned(x + j);
      s0 = xsimd::fma(Batch::load_unaligned(r0 + j), xx, s0);
      s1 = xsimd::fma(Batch::load_unaligned(r1 + j), xx, s1);
      s2 = xsimd::fma(Batch::load_unaligned(r2 + j), xx, s2);
      s3 = xsimd::fma(Batch::load_unaligned(r3 + j), xx, s3);
    }
    double t0 = xsimd::hadd(s0), t1 = xsimd::hadd(s1), t2 = xsimd::hadd(s2),
           t3 = xsimd::hadd(s3);
    for (; j < cols; ++j) {
      t0 += r0[j] * x[j];
      t1 += r1[j] * x[j];
      t2 += r2[j] * x[j];
      t3 += r3[j] * x[j];
    }
    y[i] = t0;
    y[i + 1] = t1;
    y[i + 2] = t2;
    y[i + 3] = t3;
  }
  for (; i < rows; ++i) y[i] = row_dot(a + i * cols, x, cols);
}

void gemv_t_add(const double* a, std::size_t rows, std::size_t cols, const double* y, double* x) {
  std::size_t i = 0;
  for (; i + 4 <= rows; i += 4) {
    const double* r0 = a + i * cols;
    const double *r1 = r0 + cols, *r2 = r1 + cols, *r3 = r2 + cols;
    const Batch y0(y[i]), y1(y[i + 1]), y2(y[i + 2]), y3(y[i + 3]);
    std::size_t j = 0;
    for (; j + kW <= cols; j += kW) {
      Batch acc = Batch::load_unaligned(x + j);
      acc = xsimd::fma(Batch::load_unaligned(r0 + j), y0, acc);
      acc = xsimd::fma(Batch::load_unaligned(r1 + j), y1, acc);
      acc = xsimd::fma(Batch::load_unaligned(r2 + j), y2, acc);
      acc = xsimd::fma(Batch::load_unaligned(r3 + j), y3, acc);
      acc.store_unaligned(x + j);
    }
    for (; j < cols; ++j)
      x[j] += r0[j] * y[i] + r1[j] * y[i + 1] + r2[j] * y[i + 2] + r3[j] * y[i + 3];
  }
  for (; i < rows; ++i) {
    const double* r = a + i * cols;
    for (std::size_t j = 0; j < cols; ++j) x[j] += r[j] * y[i];
  }
}

double sum_log1p_exp(const double* x, std::size_t n, double* partials) {
  // log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), and the same
  // a = exp(-|x|) gives inv_logit(x) without cancellation.
  std::size_t i = 0;
  double s = 0.0;
  // xsimd's exp/log1p beat libm only with AVX2 or wider.
#if XSIMD_WITH_AVX2
  Batch acc(0.0);
  const Batch zero(0.0), one(1.0);
  for (; i + kW <= n; i += kW) {
    const Batch v = Batch::load_unaligned(x + i);
    const Batch e = xsimd::exp(-xsimd::abs(v));
    acc += xsimd::max(v, zero) + xsimd::log1p(e);
    if (partials) {
      const Batch inv = one / (one + e);
      xsimd::select(v >= zero, inv, e * inv).store_unaligned(partials + i);
    }
  }
  s = xsimd::hadd(acc);
#endif
  for (; i < n; ++i) {
    const double v = x[i], e = std::exp(-std::fabs(v));
    s += std::max(v, 0.0) + std::log1p(e);
    if (partials) partials[i] = v >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
  }
  return s;
}

void exp_quad_lower(const double* x, std::size_t n, double a2, double scale, double* k) {
  for (std::size_t i = 0; i < n; ++i) {
    double* row = k + i * (i + 1) / 2;
    const double xi = x[i];
    std::size_t j = 0;
#if XSIMD_WITH_AVX2
    const Batch bxi(xi), bs(scale), ba(a2);
    for (; j + kW <= i; j += kW) {
      const Batch d = bxi - Batch::load_unaligned(x + j);
      (ba * xsimd::exp(bs * (d * d))).store_unaligned(row + j);
    }
#endif
    for (; j < i; ++j) {
      const double d = xi - x[j];
      row[j] = a2 * std::exp(scale * (d * d));
    }
    row[i] = a2;
  }
}

namespace {
// True when pred(batch) holds in every lane of x, kW lanes at a time; the
// tail (n mod kW) through the scalar predicate.
template <class P, class S>
bool all_lanes(const double* x, std::size_t n, P pred, S scalar) {
  auto ok = pred(Batch(1.0));
  std::size_t i = 0;
  for (; i + kW <= n; i += kW) ok = ok & pred(Batch::load_unaligned(x + i));
  bool r = xsimd::all(ok);
  for (; i < n; ++i) r &= scalar(x[i]);
  return r;
}
constexpr double kMax = std::numeric_limits<double>::max();
}  // namespace

bool none_nan(const double* x, std::size_t n) {
  return all_lanes(
      x, n, [](const Batch& b) { return b == b; }, [](double v) { return v == v; });
}

bool all_finite(const double* x, std::size_t n) {
  return all_lanes(
      x, n, [](const Batch& b) { return xsimd::abs(b) <= Batch(kMax); },
      [](double v) { return std::abs(v) <= kMax; });
}

bool all_positive_finite(const double* x, std::size_t n) {
  return all_lanes(
      x, n, [](const Batch& b) { return (b > Batch(0.0)) & (b <= Batch(kMax)); },
      [](double v) { return (v > 0.0) & (v <= kMax); });
}

}  // namespace nutshell::ad::kernels
