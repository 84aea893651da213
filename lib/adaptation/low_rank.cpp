// nutpie's low-rank modified mass matrix: the decompositions behind
// include/nutshell/adaptation/low_rank.hpp (see its comment for the method).
#include "nutshell/adaptation/low_rank.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <utility>
#include <vector>

#include <xtensor-blas/xlinalg.hpp>

#include "absl/strings/str_cat.h"

namespace nutshell::adaptation {

namespace detail {

// A^p for a symmetric positive definite A (eigenvalues clamped at 0 from
// below against round-off), through its eigendecomposition.
Mat spd_power(const Mat& a, double p) {
  auto [w, v] = xt::linalg::eigh(a);
  const std::size_t r = w.size();
  Mat out = xt::zeros<double>({r, r});
  for (std::size_t k = 0; k < r; ++k) {
    const double f = std::pow(std::max(w(k), 1e-300), p);
    for (std::size_t i = 0; i < r; ++i)
      for (std::size_t j = 0; j < r; ++j) out(i, j) += f * v(i, k) * v(j, k);
  }
  return out;
}

// The SPD geometric mean Sigma of Sigma Cg Sigma = Cx, as its eigenvalues
// and eigenvectors (columns). The textbook form Cg^-1/2 (Cg^1/2 Cx Cg^1/2)^1/2
// Cg^-1/2 squares the condition number: with Cx, Cg ~ 1e9 in the data
// directions and 1 in the regularised ones (an overdispersed early window),
// the eigensolver's absolute error on the inner product swamps the
// regularised directions and returns eigenvalues near 0 or below. Instead:
// B = Cx^1/2 Cg^1/2 = U S V^T gives (Cg^1/2 Cx Cg^1/2)^1/2 = V S V^T, so
// Sigma = Z^T Z with Z = S^1/2 V^T Cg^-1/2; the SVD of Z gives Sigma's
// eigenpairs (squared singular values, right singular vectors), positive by
// construction and without the squared range.
std::pair<Vec, Mat> spd_geometric_mean_eig(const Mat& cx, const Mat& cg) {
  const std::size_t r = cx.shape(0);
  const Mat b = xt::linalg::dot(spd_power(cx, 0.5), spd_power(cg, 0.5));
  auto [ub, sb, vbt] = xt::linalg::svd(b, false);
  Mat z = xt::linalg::dot(vbt, spd_power(cg, -0.5));
  for (std::size_t i = 0; i < r; ++i) {
    const double f = std::sqrt(sb(i));
    for (std::size_t j = 0; j < r; ++j) z(i, j) *= f;
  }
  auto [uz, sz, vzt] = xt::linalg::svd(z, false);
  Vec values = Vec::from_shape({r});
  Mat vectors = Mat::from_shape({r, r});
  for (std::size_t k = 0; k < r; ++k) {
    values(k) = sz(k) * sz(k);
    for (std::size_t i = 0; i < r; ++i) vectors(i, k) = vzt(k, i);
  }
  return {std::move(values), std::move(vectors)};
}

}  // namespace detail

/// The low-rank modified metric from the first `w.count` draws of `w` (see
/// the file comment). Errors: fewer than 3 draws, invalid options, a
/// decomposition that fails or a non-finite result.
absl::StatusOr<Metric> low_rank_metric(const DrawGradientWindow& w,
                                       const LowRankOptions& options) {
  if (auto s = options.validate(); !s.ok()) return s;
  const std::size_t n = w.count;
  if (n < 3)
    return absl::FailedPreconditionError(
        absl::StrCat("the low-rank estimate needs at least 3 draws, got ", n));
  const std::size_t d = w.draws.shape(1);
  // 1. Fisher diagonal of the window, then rescaled, centred d x n matrices.
  DrawGradientMoments m = draw_gradient_moments_init(d);
  Vec x = Vec::from_shape({d}), g = Vec::from_shape({d});
  for (std::size_t t = 0; t < n; ++t) {
    for (std::size_t i = 0; i < d; ++i) {
      x(i) = w.draws(t, i);
      g(i) = w.gradients(t, i);
    }
    draw_gradient_accumulate(m, x, g);
  }
  Vec sigma2 = xt::ones<double>({d});
  if (auto s = fisher_diagonal(m, sigma2); !s.ok()) return s;
  Mat xs = Mat::from_shape({d, n}), gs = Mat::from_shape({d, n});
  for (std::size_t i = 0; i < d; ++i) {
    const double sigma = std::sqrt(sigma2(i));
    for (std::size_t t = 0; t < n; ++t) {
      xs(i, t) = (w.draws(t, i) - m.draws.mean(i)) / sigma;
      gs(i, t) = (w.gradients(t, i) - m.gradients.mean(i)) * sigma;
    }
  }
  try {
    // 2. Orthonormal basis of both column spaces.
    auto [ux, sx, vxt] = xt::linalg::svd(xs, false);
    auto [ug, sg, vgt] = xt::linalg::svd(gs, false);
    const std::size_t kx = ux.shape(1), kg = ug.shape(1);
    Mat both = Mat::from_shape({d, kx + kg});
    for (std::size_t i = 0; i < d; ++i) {
      for (std::size_t j = 0; j < kx; ++j) both(i, j) = ux(i, j);
      for (std::size_t j = 0; j < kg; ++j) both(i, kx + j) = ug(i, j);
    }
    auto [qc, rc] = xt::linalg::qr(both);
    const Mat q = qc;  // d x r
    const std::size_t r = q.shape(1);
    // 3. Projected, regularised covariances.
    const Mat qt = xt::transpose(q);
    const Mat px = xt::linalg::dot(qt, xs), pg = xt::linalg::dot(qt, gs);
    Mat cx = xt::linalg::dot(px, xt::transpose(px)) / options.gamma;
    Mat cg = xt::linalg::dot(pg, xt::transpose(pg)) / options.gamma;
    for (std::size_t i = 0; i < r; ++i) {
      cx(i, i) += 1.0;
      cg(i, i) += 1.0;
    }
    // 4.-5. SPD geometric mean (Sigma Cg Sigma = Cx) and its eigenpairs.
    auto [vals, vecs] = detail::spd_geometric_mean_eig(cx, cg);
    std::vector<std::size_t> keep;
    for (std::size_t k = 0; k < r; ++k) {
      if (!std::isfinite(vals(k)) || !(vals(k) > 0.0))
        return absl::InternalError(absl::StrCat(
            "low-rank estimate: eigenvalue ", vals(k), " is not finite and positive"));
      if (vals(k) > options.eigenvalue_cutoff || vals(k) < 1.0 / options.eigenvalue_cutoff)
        keep.push_back(k);
    }
    Mat basis = xt::zeros<double>({keep.size(), d});
    Vec lambda = Vec::from_shape({keep.size()});
    for (std::size_t a = 0; a < keep.size(); ++a) {
      lambda(a) = vals(keep[a]);
      for (std::size_t i = 0; i < d; ++i) {
        double s = 0.0;
        for (std::size_t j = 0; j < r; ++j) s += q(i, j) * vecs(j, keep[a]);
        basis(a, i) = s;
      }
    }
    return Metric::low_rank(sigma2, basis, lambda);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("low-rank estimate: ", e.what()));
  }
}

}  // namespace nutshell::adaptation
