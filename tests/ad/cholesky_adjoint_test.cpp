// The blocked reverse-mode Cholesky (Murray's algorithm) against the slow
// obvious symbolic formula, on sizes around the block size and beyond.
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "nutshell/ad/linalg_kernels.hpp"

namespace nutshell::ad {
namespace {

// A well-conditioned SPD matrix from a deterministic pseudo-random M:
// A = M M^T / n + I.
std::vector<double> spd(std::size_t n, double seed) {
  std::vector<double> m(n * n), a(n * n, 0.0);
  for (std::size_t k = 0; k < n * n; ++k)
    m[k] = std::sin(seed * double(k + 1) + 0.3 * double(k % 7));
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double s = 0.0;
      for (std::size_t k = 0; k < n; ++k) s += m[i * n + k] * m[j * n + k];
      a[i * n + j] = s / double(n) + (i == j ? 1.0 : 0.0);
    }
  return a;
}

TEST(CholeskyAdjoint, BlockedEqualsSymbolic) {
  for (std::size_t n : {1, 2, 3, 7, 31, 32, 33, 64, 65, 100, 131}) {
    for (double seed : {0.7, 1.9}) {
      std::vector<double> l = spd(n, seed);
      ASSERT_TRUE(kernels::cholesky_lower(l.data(), n));
      std::vector<double> fast(n * n), slow(n * n, 0.0);
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j <= i; ++j)
          fast[i * n + j] = slow[i * n + j] = std::cos(seed * double(3 * i + j) + 0.1);
      // The blocked kernel must not read the upper triangle.
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = i + 1; j < n; ++j)
          fast[i * n + j] = std::numeric_limits<double>::quiet_NaN();
      kernels::cholesky_adjoint(l.data(), fast.data(), n);
      kernels::cholesky_adjoint_symbolic(l.data(), slow.data(), n);
      double scale = 0.0;
      for (double v : slow) scale = std::max(scale, std::abs(v));
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j <= i; ++j)
          ASSERT_NEAR(fast[i * n + j], slow[i * n + j], 1e-11 * scale)
              << "n " << n << " seed " << seed << " (" << i << ", " << j << ")";
    }
  }
}

// The rank-one adjoint of f = L z (Lbar = fbar z^T), the shape a latent GP
// produces, at n = 100.
TEST(CholeskyAdjoint, RankOneAdjointAtGpSize) {
  const std::size_t n = 100;
  std::vector<double> l = spd(n, 2.3);
  ASSERT_TRUE(kernels::cholesky_lower(l.data(), n));
  std::vector<double> fast(n * n, 0.0), slow(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j)
      fast[i * n + j] = slow[i * n + j] = std::sin(0.1 * double(i)) * std::cos(0.2 * double(j));
  kernels::cholesky_adjoint(l.data(), fast.data(), n);
  kernels::cholesky_adjoint_symbolic(l.data(), slow.data(), n);
  for (std::size_t k = 0; k < n * n; ++k) ASSERT_NEAR(fast[k], slow[k], 1e-11) << k;
}

}  // namespace
}  // namespace nutshell::ad
