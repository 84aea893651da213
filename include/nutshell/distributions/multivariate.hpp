// Log densities of the multivariate families: multi_normal_cholesky and
// lkj_corr_cholesky. Matrices are row-major vectors (std::span, std::vector)
// of dim * dim doubles or vars; a Cholesky factor is lower-triangular. Each
// call is ONE tape node, whatever the dimension and the number of
// observations; conventions otherwise as in continuous.hpp.
#pragma once

#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <ranges>
#include <span>
#include <type_traits>
#include <vector>

#include "nutshell/ad/scalar_double.hpp"
#include "nutshell/distributions/continuous.hpp"
#include "nutshell/distributions/vectorise.hpp"

namespace nutshell::distributions {

namespace detail {
/// Work space of `n` doubles: on the stack when small, else on the heap
/// (never in the tape's arena, which a double-only call outside any tape
/// scope would grow without bound).
class Scratch {
 public:
  explicit Scratch(std::size_t n) {
    if (n > small_.size()) heap_.resize(n);
    data_ = n > small_.size() ? heap_.data() : small_.data();
  }
  double* data() { return data_; }

 private:
  // Left uninitialised: every user writes before reading, and zeroing 2 KB
  // on each call was a visible share of a 50-dimensional gradient.
  std::array<double, 256> small_;
  std::vector<double> heap_;
  double* data_;
};

/// The dimension of a row-major square matrix of `size` entries, or throws.
inline std::size_t square_dim(const char* fn, std::size_t size) {
  std::size_t d = 0;
  while (d * d < size) ++d;
  if (d * d != size) throw_size(fn, "the matrix must have dim * dim entries");
  return d;
}
}  // namespace detail

namespace detail {
/// True when the n doubles at p are all finite: an OR over integer sums
/// that vectorises (a branch, or a compare, per entry did not). The
/// exponent field plus one carries into the sign bit exactly when it is
/// all ones (infinity or NaN).
inline bool lower_row_finite(const double* p, std::size_t n) {
  constexpr std::uint64_t kExp = 0x7ffULL << 52;
  std::uint64_t acc = 0;
  for (std::size_t j = 0; j < n; ++j) acc |= (std::bit_cast<std::uint64_t>(p[j]) & kExp) + (1ULL << 52);
  return (acc >> 63) == 0;
}

/// multi_normal_cholesky_lpdf with a data factor L (row-major doubles): the
/// forward solve is row dot products with four accumulators (independent
/// chains instead of one serial sum), the back solve L^T w = z is axpy
/// updates along rows of L (contiguous, no dependence between entries), as
/// the hand-written corr_gauss_50 gradient does; BLAS dtrsv cost as much as
/// that whole gradient at dim 50. L is checked by a branch-free pass over
/// its exponent bits, and only when that finds a bad entry does
/// `check_factor` run (and throw, naming it). sum log L_ii takes one log
/// per 16 entries (sum_log).
template <bool propto, class Y, class Mu, class LT, class Check>
return_t<Y, Mu, LT> multi_normal_cholesky_data(const char* fn, const Y& y, const Mu& mu, const LT& L,
                                               std::size_t d, std::size_t m, const Check& check_factor) {
  const auto ys = seq(y);
  const auto ms = seq(mu);
  const double* l = std::ranges::data(L);
  bool ok = true;
  for (std::size_t i = 0; i < d; ++i) {
    ok &= l[i * d + i] > 0.0;
    ok &= lower_row_finite(l + i * d, i + 1);
  }
  if (!ok) check_factor();  // throws
  Partials<Y, Mu, LT> p(y, mu, L);
  Scratch scratch(2 * d);
  double* z = scratch.data();
  double* w = z + d;
  const bool mu_per_row = ms.size != d;
  double quad = 0.0;
  for (std::size_t r = 0; r < m; ++r) {
    const std::size_t row = r * d, mrow = mu_per_row ? row : 0;
    // z = L^{-1} (y - mu).
    double q = 0.0;
    for (std::size_t i = 0; i < d; ++i) {
      const double* li = l + i * d;
      double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
      std::size_t j = 0;
      for (; j + 4 <= i; j += 4) {
        a0 += li[j] * z[j];
        a1 += li[j + 1] * z[j + 1];
        a2 += li[j + 2] * z[j + 2];
        a3 += li[j + 3] * z[j + 3];
      }
      for (; j < i; ++j) a0 += li[j] * z[j];
      z[i] = (ys[row + i] - ms[mrow + i] - ((a0 + a1) + (a2 + a3))) / li[i];
      q += z[i] * z[i];
    }
    quad += q;
    if constexpr (Partials<Y, Mu, LT>::kAnyVar) {
      // w = L^{-T} z: d quad/2 / d y = w.
      std::copy(z, z + d, w);
      for (std::size_t i = d; i-- > 0;) {
        const double* li = l + i * d;
        const double wi = w[i] / li[i];
        w[i] = wi;
        for (std::size_t j = 0; j < i; ++j) w[j] -= li[j] * wi;
      }
      for (std::size_t i = 0; i < d; ++i) {
        p.template add<0>(row + i, -w[i]);
        p.template add<1>(mrow + i, w[i]);
      }
    }
  }
  double lp = -0.5 * quad;
  if constexpr (!propto) {
    double* diag = scratch.data();  // z is no longer needed
    for (std::size_t i = 0; i < d; ++i) diag[i] = l[i * d + i];
    const Seq<std::span<const double>> ds{diag, d};
    lp -= static_cast<double>(m) * sum_log(ds, d);
    lp -= static_cast<double>(m * d) * kLogSqrtTwoPi;
  }
  return p.build(lp, y, mu, L);
}
}  // namespace detail

/// log MultiNormal(y | mu, L L^T) = -|L^{-1}(y - mu)|^2 / 2 - sum log L_ii
/// - dim/2 log(2 pi), summed over the observations in y.
/// `mu` has dim entries (or one row per observation), `L` dim * dim
/// (row-major, lower-triangular; its upper triangle is never read) with a
/// positive finite diagonal and finite entries (else domain_error); `y`
/// holds one or more observations of dim entries, row after row.
template <bool propto = false, detail::Vector Y, detail::Vector Mu, detail::Vector LT>
detail::return_t<Y, Mu, LT> multi_normal_cholesky_lpdf(const Y& y, const Mu& mu, const LT& L) {
  constexpr const char* fn = "multi_normal_cholesky_lpdf";
  const auto ys = detail::seq(y);
  const auto ms = detail::seq(mu);
  const auto ls = detail::seq(L);
  const std::size_t d = detail::square_dim(fn, ls.size);
  if (d == 0 || ys.size % d != 0) detail::throw_size(fn, "y must hold whole observations of dim entries");
  const std::size_t m = ys.size / d;
  if (ms.size != d && ms.size != ys.size) detail::throw_size(fn, "mu must have dim entries or one row per observation");
  detail::check_variate(fn, ys);
  detail::check_location(fn, ms);
  auto check_factor = [&] {
    for (std::size_t i = 0; i < d; ++i) {
      detail::check_positive_finite(fn, "Cholesky factor diagonal", ls[i * d + i]);
      for (std::size_t j = 0; j < i; ++j) detail::check_finite(fn, "Cholesky factor entry", ls[i * d + j]);
    }
  };
  // A data factor (doubles, contiguous) takes the BLAS path below, which
  // checks its off-diagonal entries for free; any other factor is checked here.
  constexpr bool kDataFactor = std::is_same_v<detail::element_t<LT>, double>;
  if constexpr (!kDataFactor) check_factor();
  if constexpr (!detail::include<propto, Y, Mu, LT>) {
    if constexpr (kDataFactor) check_factor();
    return 0.0;
  } else if constexpr (kDataFactor) {
    return detail::multi_normal_cholesky_data<propto>(fn, y, mu, L, d, m, check_factor);
  } else {
    detail::Partials<Y, Mu, LT> p(y, mu, L);
    detail::Scratch scratch(2 * d);
    double* z = scratch.data();
    double* w = z + d;
    const bool mu_per_row = ms.size != d;
    double quad = 0.0;
    for (std::size_t r = 0; r < m; ++r) {
      const std::size_t row = r * d, mrow = mu_per_row ? row : 0;
      // z = L^{-1} (y - mu), forward substitution.
      for (std::size_t i = 0; i < d; ++i) {
        double acc = ys[row + i] - ms[mrow + i];
        for (std::size_t j = 0; j < i; ++j) acc -= ls[i * d + j] * z[j];
        z[i] = acc / ls[i * d + i];
        quad += z[i] * z[i];
      }
      if constexpr (detail::Partials<Y, Mu, LT>::kAnyVar) {
        // w = L^{-T} z: d quad/2 / d y = w, and d/dL of -quad/2 is w z^T.
        for (std::size_t i = d; i-- > 0;) {
          double acc = z[i];
          for (std::size_t j = i + 1; j < d; ++j) acc -= ls[j * d + i] * w[j];
          w[i] = acc / ls[i * d + i];
        }
        for (std::size_t i = 0; i < d; ++i) {
          p.template add<0>(row + i, -w[i]);
          p.template add<1>(mrow + i, w[i]);
          if constexpr (detail::is_var_arg<LT>)
            for (std::size_t j = 0; j <= i; ++j) p.template add<2>(i * d + j, w[i] * z[j]);
        }
      }
    }
    double lp = -0.5 * quad;
    if constexpr (detail::include<propto, LT>) {
      const double count = static_cast<double>(m);
      for (std::size_t i = 0; i < d; ++i) {
        lp -= count * std::log(ls[i * d + i]);
        p.template add<2>(i * d + i, -count / ls[i * d + i]);
      }
    }
    if constexpr (!propto) lp -= static_cast<double>(m * d) * detail::kLogSqrtTwoPi;
    return p.build(lp, y, mu, L);
  }
}

namespace detail {
/// log of the LKJ normalising constant c_K(eta) (Lewandowski, Kurowicka and
/// Joe 2009, eq. 16): sum_{k=1}^{K-1} (K-k) [(2 eta - 2 + K - k) log 2
/// + lbeta(b_k, b_k)], b_k = eta + (K - k - 1) / 2; and its eta-derivative.
inline double lkj_log_constant(double eta, std::size_t dim, double* d_eta) {
  const double K = static_cast<double>(dim);
  double c = 0.0, dc = 0.0;
  for (std::size_t kk = 1; kk < dim; ++kk) {
    const double k = static_cast<double>(kk), w = K - k, b = eta + 0.5 * (K - k - 1.0);
    c += w * ((2.0 * eta - 2.0 + w) * std::numbers::ln2 + 2.0 * ad::lgamma(b) - ad::lgamma(2.0 * b));
    if (d_eta) dc += w * (2.0 * std::numbers::ln2 + 2.0 * (ad::digamma(b) - ad::digamma(2.0 * b)));
  }
  if (d_eta) *d_eta = dc;
  return c;
}
}  // namespace detail

/// log LKJ(L L^T | eta) on the Cholesky factor L of a correlation matrix,
/// with the Jacobian of L -> L L^T (Stan's lkj_corr_cholesky):
/// sum_{i=1}^{K-1} (K - i + 2 eta - 3) log L_ii - log c_K(eta) (0-based i).
/// eta > 0 finite (else domain_error). L (dim * dim row-major) must be
/// lower-triangular with a positive diagonal, else -infinity; its rows are
/// assumed to have unit norm (as the Cholesky-correlation transform makes
/// them) and are not checked.
template <bool propto = false, detail::Vector LT, detail::Arg Eta>
detail::return_t<LT, Eta> lkj_corr_cholesky_lpdf(const LT& L, const Eta& eta) {
  constexpr const char* fn = "lkj_corr_cholesky_lpdf";
  static_assert(detail::Scalar<Eta>, "lkj_corr_cholesky_lpdf: eta is a scalar");
  const auto ls = detail::seq(L);
  const double e = detail::to_double(eta);
  detail::check_positive_finite(fn, "shape", e);
  const std::size_t d = detail::square_dim(fn, ls.size);
  for (std::size_t i = 0; i < d; ++i) {
    if (!(ls[i * d + i] > 0.0)) return detail::constant<LT, Eta>(detail::kNegInf);
    for (std::size_t j = i + 1; j < d; ++j)
      if (ls[i * d + j] != 0.0) return detail::constant<LT, Eta>(detail::kNegInf);
  }
  if constexpr (!detail::include<propto, LT, Eta>) {
    return 0.0;
  } else {
    detail::Partials<LT, Eta> p(L, eta);
    const double K = static_cast<double>(d);
    double lp = 0.0, sum_log_diag = 0.0;
    for (std::size_t i = 1; i < d; ++i) {
      const double lii = ls[i * d + i], log_lii = std::log(lii);
      const double coef = K - static_cast<double>(i) + 2.0 * e - 3.0;
      lp += coef * log_lii;
      sum_log_diag += log_lii;
      p.template add<0>(i * d + i, coef / lii);
    }
    double d_const = 0.0;
    if constexpr (detail::include<propto, Eta>)
      lp -= detail::lkj_log_constant(e, d, detail::is_var_arg<Eta> ? &d_const : nullptr);
    p.template add<1>(0, 2.0 * sum_log_diag - d_const);
    return p.build(lp, L, eta);
  }
}

}  // namespace nutshell::distributions

// The same densities for nested autodiff scalars (Hessian-vector products).
#include "nutshell/distributions/nested_multivariate.hpp"  // IWYU pragma: export
