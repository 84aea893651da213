// Double-precision loops behind the one-node vector operations, compiled once
// in lib/ad/vector_kernels.cpp with explicit SIMD (xsimd), because the plain
// loops are reductions the compiler may not vectorise without -ffast-math.
#pragma once

#include <cstddef>

namespace nutshell::ad::kernels {

/// y = A x for row-major A (rows x cols).
void gemv(const double* a, std::size_t rows, std::size_t cols, const double* x, double* y);

/// x += A^T y for row-major A (rows x cols).
void gemv_t_add(const double* a, std::size_t rows, std::size_t cols, const double* y, double* x);

/// sum_i log(1 + exp(x_i)), writing inv_logit(x_i) (its derivative) into
/// `partials` when that is not null.
double sum_log1p_exp(const double* x, std::size_t n, double* partials);

/// The lower triangle of K(i, j) = a2 exp(scale (x_i - x_j)^2), packed by
/// rows into `k` (n (n + 1) / 2 entries; the diagonal is a2).
void exp_quad_lower(const double* x, std::size_t n, double a2, double scale, double* k);

/// True when no x_i is NaN. The argument checks of the densities run on
/// every gradient; compiled here with explicit SIMD because at -O2 GCC does
/// not vectorise the plain fold (its "very cheap" cost model refuses loops
/// with an epilogue), and on gauss_100 the two checks were 40 % of the density.
bool none_nan(const double* x, std::size_t n);

/// True when every x_i is finite.
bool all_finite(const double* x, std::size_t n);

/// True when every x_i is > 0 and finite.
bool all_positive_finite(const double* x, std::size_t n);

}  // namespace nutshell::ad::kernels
