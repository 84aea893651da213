#include "nutshell/core/metric.hpp"


#include <xtensor-blas/xlinalg.hpp>

namespace nutshell {

namespace {
double dot(const Vec& a, const Vec& b) {
  double s = 0.0;
  const double* pa = a.data();
  const double* pb = b.data();
  for (std::size_t i = 0, n = a.size(); i < n; ++i) s += pa[i] * pb[i];
  return s;
}
}  // namespace

Metric Metric::identity(std::size_t dim) {
  Metric m;
  m.kind_ = Kind::kIdentity;
  m.dim_ = dim;
  m.diag_ = xt::ones<double>({dim});
  m.inv_sqrt_diag_ = xt::ones<double>({dim});
  return m;
}

absl::StatusOr<Metric> Metric::diagonal(const Vec& inverse_mass_diagonal) {
  for (std::size_t i = 0; i < inverse_mass_diagonal.size(); ++i) {
    const double d = inverse_mass_diagonal(i);
    if (!std::isfinite(d) || !(d > 0.0))
      return absl::InvalidArgumentError(absl::StrCat(
          "diagonal inverse mass matrix must be finite and > 0; entry ", i, " is ", d));
  }
  Metric m;
  m.kind_ = Kind::kDiagonal;
  m.dim_ = inverse_mass_diagonal.size();
  m.diag_ = inverse_mass_diagonal;
  m.inv_sqrt_diag_ = 1.0 / xt::sqrt(inverse_mass_diagonal);
  return m;
}

absl::StatusOr<Metric> Metric::dense(const Mat& a) {
  if (a.dimension() != 2 || a.shape(0) != a.shape(1))
    return absl::InvalidArgumentError("dense inverse mass matrix must be square");
  const std::size_t n = a.shape(0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      if (!std::isfinite(a(i, j)))
        return absl::InvalidArgumentError(
            absl::StrCat("dense inverse mass matrix has a non-finite entry at (", i, ", ", j, ")"));
      if (std::abs(a(i, j) - a(j, i)) > 1e-10 * std::max(1.0, std::abs(a(i, j))))
        return absl::InvalidArgumentError(
            absl::StrCat("dense inverse mass matrix is not symmetric at (", i, ", ", j, ")"));
    }
  Mat chol;
  try {
    chol = xt::linalg::cholesky(a);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("dense inverse mass matrix is not positive definite (", e.what(), ")"));
  }
  for (std::size_t i = 0; i < n; ++i)
    if (!(chol(i, i) > 0.0) || !std::isfinite(chol(i, i)))
      return absl::InvalidArgumentError("dense inverse mass matrix is not positive definite");
  Metric m;
  m.kind_ = Kind::kDense;
  m.dim_ = n;
  m.dense_ = a;
  m.chol_ = std::move(chol);
  m.diag_ = xt::diagonal(a);
  return m;
}

void Metric::sample_momentum(const Key& key, Vec& p) const {
  normal(key, p);
  switch (kind_) {
    case Kind::kIdentity:
      return;
    case Kind::kDiagonal:
      for (std::size_t i = 0; i < dim_; ++i) p(i) *= inv_sqrt_diag_(i);
      return;
    case Kind::kDense: {
      // p = L^-T z has covariance (L L^T)^-1 = M: solve L^T p = z in place.
      cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, static_cast<int>(dim_),
                  chol_.data(), static_cast<int>(dim_), p.data(), 1);
      return;
    }
  }
}

void Metric::velocity(const Vec& p, Vec& v) const {
  switch (kind_) {
    case Kind::kIdentity:
      for (std::size_t i = 0; i < dim_; ++i) v(i) = p(i);
      return;
    case Kind::kDiagonal:
      for (std::size_t i = 0; i < dim_; ++i) v(i) = diag_(i) * p(i);
      return;
    case Kind::kDense:
      cblas_dsymv(CblasRowMajor, CblasLower, static_cast<int>(dim_), 1.0, dense_.data(),
                  static_cast<int>(dim_), p.data(), 1, 0.0, v.data(), 1);
      return;
  }
}

double Metric::kinetic_energy(const Vec& p, const Vec& v) { return 0.5 * dot(p, v); }

double Metric::kinetic_energy(const Vec& p) const {
  switch (kind_) {
    case Kind::kIdentity:
      return 0.5 * dot(p, p);
    case Kind::kDiagonal: {
      double s = 0.0;
      for (std::size_t i = 0; i < dim_; ++i) s += diag_(i) * p(i) * p(i);
      return 0.5 * s;
    }
    case Kind::kDense: {
      double s = 0.0;
      for (std::size_t i = 0; i < dim_; ++i) {
        double row = 0.0;
        for (std::size_t j = 0; j < dim_; ++j) row += dense_(i, j) * p(j);
        s += p(i) * row;
      }
      return 0.5 * s;
    }
  }
  return 0.0;
}

bool Metric::is_turning(const Vec& v_left, const Vec& v_right, const Vec& rho) {
  return dot(v_left, rho) <= 0.0 || dot(v_right, rho) <= 0.0;
}

}  // namespace nutshell
