#include "nutshell/ad/linalg_kernels.hpp"

#include <cblas.h>

#include <algorithm>

#include "nutshell/core/vector_ops.hpp"

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

void cholesky_adjoint_symbolic(const double* l, double* lbar, std::size_t n) {
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
  // Fold onto the lower triangle: the adjoint of A's lower entries.
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < i; ++j) lbar[i * n + j] += lbar[j * n + i];
  for (std::size_t i = 0; i < n; ++i) std::fill(lbar + i * n + i + 1, lbar + (i + 1) * n, 0.0);
}

namespace {

// rbar -= c b, bbar -= c r over k < len: rows of distinct matrices (or
// distinct rows), so the pointers do not alias and the loop vectorises
// (NUTSHELL_SIMD_FOR: GCC -O2 keeps the plain loop scalar).
void update_rows(double* __restrict rbar, double* __restrict bbar, const double* __restrict b,
                 const double* __restrict r, double c, std::size_t len) {
  NUTSHELL_SIMD_FOR(len, rbar[i] -= c * b[i]; bbar[i] -= c * r[i];);
}

// Murray's unblocked reverse sweep over one m x m diagonal block (L's block
// in `l`, the adjoints in `a`): the forward Cholesky run backwards, column by
// column. Reads and writes only the lower triangle. `ld` is the leading
// dimension.
void cholesky_adjoint_unblocked(const double* l, double* a, std::size_t m, std::size_t ld) {
  for (std::size_t j = m; j-- > 0;) {
    const double d = l[j * ld + j];
    double dbar = a[j * ld + j];
    for (std::size_t i = j + 1; i < m; ++i) dbar -= l[i * ld + j] * a[i * ld + j] / d;
    dbar /= d;
    for (std::size_t i = j + 1; i < m; ++i) a[i * ld + j] /= d;
    double* rbar = a + j * ld;
    const double* r = l + j * ld;
    for (std::size_t k = 0; k < j; ++k) rbar[k] -= dbar * r[k];
    for (std::size_t i = j + 1; i < m; ++i)
      update_rows(rbar, a + i * ld, l + i * ld, r, a[i * ld + j], j);
    a[j * ld + j] = 0.5 * dbar;
  }
}

}  // namespace

void cholesky_adjoint(const double* l, double* a, std::size_t n) {
  // Blocks of kBlock columns from the last; each block's trailing rows are
  // handled by level-3 BLAS, its diagonal block by the unblocked sweep.
  constexpr std::size_t kBlock = 32;
  const int ld = static_cast<int>(n);
  double s[kBlock * kBlock];
  for (std::size_t k = n; k > 0;) {
    const std::size_t j = k > kBlock ? k - kBlock : 0, nb = k - j, below = n - k;
    const int nbi = static_cast<int>(nb), ji = static_cast<int>(j), bi = static_cast<int>(below);
    const double* dl = l + j * n + j;  // D = L[j:k, j:k]
    const double* rl = l + j * n;      // R = L[j:k, :j]
    const double* bl = l + k * n;      // B = L[k:, :j]
    const double* cl = l + k * n + j;  // C = L[k:, j:k]
    double* da = a + j * n + j;
    double* ra = a + j * n;
    double* ba = a + k * n;
    double* ca = a + k * n + j;
    if (below > 0) {
      // Cbar = Cbar D^{-1}; Bbar -= Cbar R; Dbar -= tril(Cbar^T C).
      cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit, bi, nbi, 1.0,
                  dl, ld, ca, ld);
      if (j > 0)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, bi, ji, nbi, -1.0, ca, ld, rl, ld,
                    1.0, ba, ld);
      cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nbi, nbi, bi, 1.0, ca, ld, cl, ld, 0.0,
                  s, nbi);
      for (std::size_t r = 0; r < nb; ++r)
        for (std::size_t c = 0; c <= r; ++c) da[r * n + c] -= s[r * nb + c];
    }
    cholesky_adjoint_unblocked(dl, da, nb, n);
    if (j > 0) {
      // Rbar -= Cbar^T B + (Dbar + Dbar^T) R.
      if (below > 0)
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nbi, ji, bi, -1.0, ca, ld, bl, ld,
                    1.0, ra, ld);
      for (std::size_t r = 0; r < nb; ++r)
        for (std::size_t c = 0; c < nb; ++c)
          s[r * nb + c] = c <= r ? da[r * n + c] + (c == r ? da[r * n + c] : 0.0) : da[c * n + r];
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nbi, ji, nbi, -1.0, s, nbi, rl, ld,
                  1.0, ra, ld);
    }
    k = j;
  }
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
