// Vector and matrix operations: gradients against finite differences, forward
// mode and Hessian-vector products (tests/ad/check_model.hpp), on inputs that
// include extreme values and an ill-conditioned SPD matrix.
#include <gtest/gtest.h>

#include <cmath>
#include <span>
#include <vector>

#include "nutshell/ad/ad.hpp"
#include "tests/ad/check_model.hpp"

namespace nutshell::ad {
namespace {

using testing::check_model;
using testing::ModelCheckOptions;

std::vector<double> wave(std::size_t n, double scale = 1.0, double shift = 0.0) {
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = shift + scale * std::cos(0.9 * static_cast<double>(i) + 0.2);
  return x;
}

TEST(AdOps, SumDotSquaredNorm) {
  check_model([](auto x) { auto s = ad::sum(x); return s * s; }, wave(7));
  check_model([](auto x) { return ad::dot(x.first(4), x.last(4)) * x[2]; }, wave(8));
  const std::vector<double> c = wave(6, 2.0, 0.5);
  check_model([&](auto x) { auto d = ad::dot(x, std::span<const double>(c)); return d * d; }, wave(6));
  check_model([&](auto x) { return ad::dot(std::span<const double>(c), x) * x[0]; }, wave(6));
  check_model([](auto x) { return ad::exp(-ad::squared_norm(x)); }, wave(5, 0.4));
}

TEST(AdOps, LogSumExp) {
  check_model([](auto x) { return ad::log_sum_exp(x); }, wave(6));
  // Extreme spreads: a softmax weight underflows to 0, the result stays finite.
  check_model([](auto x) { return ad::log_sum_exp(x); }, {-1000.0, 0.0, 3.0, 1000.0},
              {.h = 1e-3});
  check_model([](auto x) { return ad::log_sum_exp(x); }, {-800.0, -800.5, -801.0}, {.h = 1e-5});
}

TEST(AdOps, SumLog1pExp) {
  check_model([](auto x) { return ad::sum_log1p_exp(x) * ad::sum(x); }, wave(9, 3.0));
  check_model([](auto x) { return ad::sum_log1p_exp(x); }, {-800.0, -40.0, 0.0, 40.0, 800.0},
              {.h = 1e-5});
}

TEST(AdOps, MatvecDataMatrix) {
  const std::size_t r = 5, c = 3;
  const std::vector<double> a = wave(r * c, 1.5);
  const std::vector<double> w = wave(r, 1.0, 0.3);
  check_model(
      [&](auto x) {
        auto y = ad::matvec(MatrixView<const double>{a.data(), r, c}, x);
        return ad::dot(y, std::span<const double>(w)) + 0.1 * ad::squared_norm(y);
      },
      wave(c));
}

TEST(AdOps, MatvecVarMatrix) {
  const std::size_t r = 4, c = 3;
  check_model(
      [&](auto x) {
        using T = typename decltype(x)::value_type;
        auto y = ad::matvec(MatrixView<const T>{x.data(), r, c}, x.subspan(r * c, c));
        return ad::sum(y) + ad::squared_norm(y);
      },
      wave(r * c + c));
}

// Builds a symmetric n x n matrix from its packed lower triangle `x`.
template <class T>
MatrixView<const T> symmetric_from_packed(std::span<const T> x, std::size_t n) {
  MatrixView<T> a = arena_matrix<T>(n, n);
  std::size_t p = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j) a(i, j) = a(j, i) = x[p++];
  return a;
}

std::vector<double> packed_lower(const std::vector<double>& a, std::size_t n) {
  std::vector<double> x;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j) x.push_back(a[i * n + j]);
  return x;
}

// A weighted sum of every entry of the Cholesky factor plus its log
// determinant, as a function of the packed lower triangle of A.
auto cholesky_model(std::size_t n) {
  return [n](auto x) {
    using T = typename decltype(x)::value_type;
    auto l = ad::cholesky(symmetric_from_packed<T>(x, n));
    T s = ad::log_determinant_cholesky(l);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j <= i; ++j) s += std::cos(static_cast<double>(i * n + j)) * l(i, j);
    return s;
  };
}

TEST(AdOps, CholeskyWellConditioned) {
  const std::size_t n = 40;  // large enough for the blocked BLAS paths
  std::vector<double> a(n * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      a[i * n + j] = std::exp(-0.5 * std::pow((double(i) - double(j)) / 3.0, 2)) + (i == j ? 0.5 : 0.0);
  check_model(cholesky_model(n), packed_lower(a, n), {.h = 1e-4, .check_hvp = false});
  // The HVP over fvar<var> is O(n^3) scalar nodes: check it on a smaller one.
  const std::size_t m = 6;
  std::vector<double> b(m * m);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < m; ++j) b[i * m + j] = a[i * n + j];
  check_model(cholesky_model(m), packed_lower(b, m));
}

TEST(AdOps, CholeskyIllConditioned) {
  // The 5 x 5 Hilbert matrix: condition number ~5e5.
  const std::size_t n = 5;
  std::vector<double> a(n * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) a[i * n + j] = 1.0 / static_cast<double>(i + j + 1);
  check_model(cholesky_model(n), packed_lower(a, n),
              {.h = 1e-7, .grad_rel = 1e-5, .grad_abs = 1e-5, .hvp_rel = 1e-4, .hvp_abs = 1e-2});
}

TEST(AdOps, CholeskyNotPositiveDefiniteIsNaN) {
  const std::vector<double> x = {1.0, 2.0, 1.0};  // [[1, 2], [2, 1]]
  auto f = cholesky_model(2);
  std::vector<double> g(3);
  EXPECT_TRUE(std::isnan(value_and_gradient(f, std::span<const double>(x), std::span<double>(g))));
  EXPECT_TRUE(std::isnan(value(f, std::span<const double>(x))));
}

// L (packed lower, diagonal pushed away from 0) and b from x.
template <class T>
MatrixView<const T> lower_from(std::span<const T> x, std::size_t n) {
  MatrixView<T> l = arena_matrix<T>(n, n);
  std::size_t p = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j) l(i, j) = i == j ? 2.0 + x[p++] : x[p++];
  return l;
}

TEST(AdOps, TriangularSolve) {
  const std::size_t n = 5, np = n * (n + 1) / 2;
  const std::vector<double> ldata = [&] {
    std::vector<double> l(n * n, 0.0), w = wave(np, 0.5);
    std::size_t p = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j <= i; ++j) l[i * n + j] = i == j ? 2.0 + w[p++] : w[p++];
    return l;
  }();
  const std::vector<double> bdata = wave(n, 1.0, 0.2);
  const std::vector<double> weights = wave(n, 1.0, -0.1);
  auto score = [&](auto y) { return ad::dot(y, std::span<const double>(weights)) + ad::squared_norm(y); };
  // var L, var b.
  check_model(
      [&](auto x) {
        using T = typename decltype(x)::value_type;
        return score(ad::tri_solve(lower_from<T>(x, n), x.subspan(np, n)));
      },
      wave(np + n, 0.5));
  // data L, var b.
  check_model(
      [&](auto x) { return score(ad::tri_solve(MatrixView<const double>{ldata.data(), n, n}, x)); },
      wave(n));
  // var L, data b.
  check_model(
      [&](auto x) {
        using T = typename decltype(x)::value_type;
        return score(ad::tri_solve(lower_from<T>(x, n), std::span<const double>(bdata)));
      },
      wave(np, 0.5));
}

TEST(AdOps, TriangularMatvec) {
  const std::size_t n = 5, np = n * (n + 1) / 2;
  const std::vector<double> ldata = wave(n * n, 0.7);  // upper triangle must be ignored
  const std::vector<double> xdata = wave(n, 1.0, 0.2);
  const std::vector<double> weights = wave(n, 1.0, -0.1);
  auto score = [&](auto y) { return ad::dot(y, std::span<const double>(weights)) + ad::squared_norm(y); };
  check_model(
      [&](auto x) {
        using T = typename decltype(x)::value_type;
        return score(ad::tri_matvec(lower_from<T>(x, n), x.subspan(np, n)));
      },
      wave(np + n, 0.5));
  check_model(
      [&](auto x) { return score(ad::tri_matvec(MatrixView<const double>{ldata.data(), n, n}, x)); },
      wave(n));
  check_model(
      [&](auto x) {
        using T = typename decltype(x)::value_type;
        return score(ad::tri_matvec(lower_from<T>(x, n), std::span<const double>(xdata)));
      },
      wave(np, 0.5));
  // Only the lower triangle is read: garbage above the diagonal changes nothing.
  std::vector<double> lower_only = ldata;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) lower_only[i * n + j] = 0.0;
  TapeScope scope;
  auto a = ad::tri_matvec(MatrixView<const double>{ldata.data(), n, n}, std::span<const double>(xdata));
  auto b = ad::tri_matvec(MatrixView<const double>{lower_only.data(), n, n}, std::span<const double>(xdata));
  for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(a[i], b[i]);
}

TEST(AdOps, EltMultiply) {
  const std::vector<double> c = wave(6, 2.0, 0.5);
  check_model([&](auto x) { return ad::squared_norm(ad::elt_multiply(x, std::span<const double>(c))) * x[1]; },
              wave(6));
}

TEST(AdOps, GpExpQuadCovAndAddDiag) {
  const std::vector<double> pts = wave(9, 3.0);
  const std::size_t n = pts.size();
  auto model = [&](auto u) {
    using T = typename decltype(u)::value_type;
    auto k = ad::add_diag(ad::gp_exp_quad_cov(std::span<const double>(pts), ad::exp(u[0]), ad::exp(u[1])), 0.1);
    T s = ad::log_determinant_cholesky(ad::cholesky(k));
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) s += std::sin(double(i + 2 * j)) * k(i, j);
    return s;
  };
  for (double la : {-1.0, 0.3, 1.5})
    for (double lr : {-2.0, 0.0, 1.0}) check_model(model, {la, lr});
}

TEST(AdOps, LogDeterminantCholesky) {
  const std::size_t n = 4, np = n * (n + 1) / 2;
  check_model(
      [&](auto x) {
        using T = typename decltype(x)::value_type;
        return ad::log_determinant_cholesky(lower_from<T>(x, n));
      },
      wave(np, 0.5));
}

}  // namespace
}  // namespace nutshell::ad
