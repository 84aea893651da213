#include "nutshell/ad/linalg_kernels.hpp"

#include <cblas.h>

#include <algorithm>

// LAPACK's Cholesky (OpenBLAS ships it). Declared here only: LAPACK is
// column-major, so on our row-major storage it sees the transpose, and its
// 'U' factor of A^T is our lower factor L.
extern "C" void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info);

namespace nutshell::ad::kernels {

bool cholesky_lower(double* a, std::size_t n) {
  if (n == 0) return true;
  const int ni = static_cast<int>(n);
  int info = 0;
  const char uplo = 'U';
  dpotrf_(&uplo, &ni, a, &ni, &info);
  for (std::size_t i = 0; i < n; ++i) std::fill(a + i * n + i + 1, a + (i + 1) * n, 0.0);
  return info == 0;
}

void cholesky_adjoint(const double* l, double* lbar, std::size_t n) {
  if (n == 0) return;
  const int ni = static_cast<int>(n);
  // M = L^T Lbar.
  cblas_dtrmm(CblasRowMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, ni, ni, 1.0, l, ni,
              lbar, ni);
  // P = Phi(M).
  for (std::size_t i = 0; i < n; ++i) {
    double* row = lbar + i * n;
    row[i] *= 0.5;
    std::fill(row + i + 1, row + n, 0.0);
  }
  // Abar = L^{-T} P L^{-1}.
  cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, ni, ni, 1.0, l, ni,
              lbar, ni);
  cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit, ni, ni, 1.0, l,
              ni, lbar, ni);
}

void solve_lower(const double* l, double* b, std::size_t n) {
  if (n == 0) return;
  const int ni = static_cast<int>(n);
  cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, ni, l, ni, b, 1);
}

void solve_lower_transposed(const double* l, double* b, std::size_t n) {
  if (n == 0) return;
  const int ni = static_cast<int>(n);
  cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, ni, l, ni, b, 1);
}

void multiply_lower(const double* l, double* x, std::size_t n) {
  if (n == 0) return;
  const int ni = static_cast<int>(n);
  cblas_dtrmv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, ni, l, ni, x, 1);
}

void multiply_lower_transposed(const double* l, double* x, std::size_t n) {
  if (n == 0) return;
  const int ni = static_cast<int>(n);
  cblas_dtrmv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, ni, l, ni, x, 1);
}

}  // namespace nutshell::ad::kernels
