// Double-precision kernels behind the matrix operations (LAPACK potrf, BLAS
// triangular solves), compiled once in lib/ad/linalg_kernels.cpp so that the
// BLAS/LAPACK declarations stay out of user translation units. Row-major,
// lower triangle meaningful.
#pragma once

#include <cstddef>

namespace nutshell::ad::kernels {

/// Overwrites the n x n row-major SPD `a` (lower triangle read) with its
/// lower Cholesky factor, zeroing the upper triangle. Returns false when `a`
/// is not numerically positive definite (its content is then unspecified).
bool cholesky_lower(double* a, std::size_t n);

/// Reverse mode of A = L L^T (Murray 2016, with level-3 BLAS): given L and the
/// lower-triangular adjoint Lbar (upper triangle zero) in `lbar`, overwrites
/// `lbar` with Abar = L^{-T} Phi(L^T Lbar) L^{-1}, where Phi keeps the lower
/// triangle and halves the diagonal. The adjoint of the symmetric A's entry
/// (i, j), i > j, is Abar(i, j) + Abar(j, i); of (i, i), Abar(i, i).
void cholesky_adjoint(const double* l, double* lbar, std::size_t n);

/// Solves L x = b in place (`b` becomes x).
void solve_lower(const double* l, double* b, std::size_t n);

/// Solves L^T x = b in place.
void solve_lower_transposed(const double* l, double* b, std::size_t n);

/// x = L x in place (lower triangle of L read).
void multiply_lower(const double* l, double* x, std::size_t n);

/// x = L^T x in place.
void multiply_lower_transposed(const double* l, double* x, std::size_t n);

}  // namespace nutshell::ad::kernels
