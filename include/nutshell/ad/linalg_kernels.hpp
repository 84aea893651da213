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

/// Reverse mode of A = L L^T, A read through its lower triangle: given L and
/// the adjoint Lbar of L's lower triangle in `lbar` (the upper triangle is
/// never read), overwrites `lbar`'s lower triangle with the adjoint of A's
/// lower entries. Murray's (2016) blocked algorithm: the forward Cholesky run
/// backwards, ~2/3 n^3 flops, mostly in dgemm.
void cholesky_adjoint(const double* l, double* lbar, std::size_t n);

/// The same adjoint by the symbolic formula Abar = L^{-T} Phi(L^T Lbar) L^{-1}
/// (Phi keeps the lower triangle and halves the diagonal), folded onto the
/// lower triangle (Abar(i, j) + Abar(j, i) below the diagonal) and the upper
/// triangle zeroed: ~7/3 n^3 flops. Kept as the slow obvious reference for
/// the tests. `lbar`'s upper triangle must be zero on entry.
void cholesky_adjoint_symbolic(const double* l, double* lbar, std::size_t n);

/// Solves L x = b in place (`b` becomes x).
void solve_lower(const double* l, double* b, std::size_t n);

/// Solves L^T x = b in place.
void solve_lower_transposed(const double* l, double* b, std::size_t n);

/// x = L x in place (lower triangle of L read).
void multiply_lower(const double* l, double* x, std::size_t n);

/// x = L^T x in place.
void multiply_lower_transposed(const double* l, double* x, std::size_t n);

}  // namespace nutshell::ad::kernels
