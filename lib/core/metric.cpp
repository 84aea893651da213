#include "nutshell/core/metric.hpp"


#include <atomic>

#include <xtensor-blas/xlinalg.hpp>

#include "nutshell/core/normals.hpp"
#include "nutshell/core/vector_ops.hpp"

namespace nutshell {

namespace {
// Metric ids (Metric::id): process-wide, only ever compared for equality.
std::uint64_t next_metric_id() {
  static std::atomic<std::uint64_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed) + 1;
}

double dot(const Vec& a, const Vec& b) {
  double s = 0.0;
  const double* pa = a.data();
  const double* pb = b.data();
  for (std::size_t i = 0, n = a.size(); i < n; ++i) s += pa[i] * pb[i];
  return s;
}

// y = d .* x and y *= d, as vectorisable loops (NUTSHELL_SIMD_FOR).
void scale(std::size_t n, const double* __restrict d, const double* __restrict x,
           double* __restrict y) {
  NUTSHELL_SIMD_FOR(n, y[i] = d[i] * x[i];);
}
void scale_in_place(std::size_t n, const double* __restrict d, double* __restrict y) {
  NUTSHELL_SIMD_FOR(n, y[i] *= d[i];);
}

// Given z in `v`: p = L^-T z and v = L z, reading each triangle once.
// Row j of L^-1 is column j of L^-T (an axpy into p) and row j of L gives
// v_j (a dot product with z_0..z_j). Rows run from the last, so v_j can
// overwrite z_j: later rows only read z_0..z_{j-1}. (OpenBLAS's dtrsv for
// p and dtrmv for v cost about three dsymv at d = 100; this costs about
// one.)
void dense_draw(std::size_t n, const double* __restrict linv, const double* __restrict l,
                double* __restrict p, double* __restrict v) {
  for (std::size_t i = 0; i < n; ++i) p[i] = 0.0;
  for (std::size_t j = n; j-- > 0;) {
    const double zj = v[j];
    const double* __restrict li = linv + j * n;
    const double* __restrict lr = l + j * n;
    double acc[ops::kLanes] = {};
    NUTSHELL_SIMD_FOR(j + 1, p[i] += zj * li[i]; acc[lane] += lr[i] * v[i];);
    v[j] = ops::sum_lanes(acc);
  }
}

// Row j of a row-major k x d matrix.
const double* row(const Mat& m, std::size_t j) { return m.data() + j * m.shape(1); }

// x <- (I + U diag(a) U^T) x, one orthonormal column at a time (the rank-one
// factors commute, see the header), in place.
void apply_low_rank(const Mat& basis, const Vec& a, double* x, std::size_t d) {
  for (std::size_t j = 0; j < a.size(); ++j) {
    const double* u = row(basis, j);
    double c = 0.0;
    for (std::size_t i = 0; i < d; ++i) c += u[i] * x[i];
    c *= a(j);
    for (std::size_t i = 0; i < d; ++i) x[i] += c * u[i];
  }
}
}  // namespace

Metric Metric::identity(std::size_t dim) {
  Metric m;
  m.kind_ = Kind::kIdentity;
  m.dim_ = dim;
  m.diag_ = xt::ones<double>({dim});
  m.inv_sqrt_diag_ = xt::ones<double>({dim});
  m.id_ = next_metric_id();
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
  m.id_ = next_metric_id();
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
  // L^-1 by a triangular solve against the identity, once per metric.
  m.chol_inv_ = xt::eye<double>(n);
  cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit,
              static_cast<int>(n), static_cast<int>(n), 1.0, m.chol_.data(), static_cast<int>(n),
              m.chol_inv_.data(), static_cast<int>(n));
  m.diag_ = xt::diagonal(a);
  m.id_ = next_metric_id();
  return m;
}

absl::StatusOr<Metric> Metric::low_rank(const Vec& scale, const Mat& basis,
                                        const Vec& eigenvalues) {
  const std::size_t d = scale.size();
  for (std::size_t i = 0; i < d; ++i)
    if (!std::isfinite(scale(i)) || !(scale(i) > 0.0))
      return absl::InvalidArgumentError(absl::StrCat(
          "low-rank metric: the diagonal part must be finite and > 0; entry ", i, " is ",
          scale(i)));
  const std::size_t k = eigenvalues.size();
  if (basis.dimension() != 2 || basis.shape(0) != k || basis.shape(1) != d)
    return absl::InvalidArgumentError(absl::StrCat(
        "low-rank metric: the basis must be ", k, " x ", d, " (eigenvalues x dimension), got ",
        basis.dimension() == 2 ? absl::StrCat(basis.shape(0), " x ", basis.shape(1))
                               : std::string("a non-matrix")));
  if (k > d)
    return absl::InvalidArgumentError(
        absl::StrCat("low-rank metric: rank ", k, " exceeds the dimension ", d));
  for (std::size_t j = 0; j < k; ++j)
    if (!std::isfinite(eigenvalues(j)) || !(eigenvalues(j) > 0.0))
      return absl::InvalidArgumentError(absl::StrCat(
          "low-rank metric: eigenvalues must be finite and > 0; eigenvalue ", j, " is ",
          eigenvalues(j)));
  for (std::size_t a = 0; a < k; ++a)
    for (std::size_t b = a; b < k; ++b) {
      double g = 0.0;
      for (std::size_t i = 0; i < d; ++i) g += basis(a, i) * basis(b, i);
      if (!(std::abs(g - (a == b ? 1.0 : 0.0)) < 1e-8))
        return absl::InvalidArgumentError(absl::StrCat(
            "low-rank metric: the basis rows are not orthonormal (row ", a, " . row ", b, " = ",
            g, ")"));
    }
  Metric m;
  m.kind_ = Kind::kLowRank;
  m.dim_ = d;
  m.scale_ = scale;
  m.sigma_ = xt::sqrt(scale);
  m.basis_ = basis;
  m.eigenvalues_ = eigenvalues;
  m.lambda_m1_ = eigenvalues - 1.0;
  m.inv_sqrt_lambda_m1_ = 1.0 / xt::sqrt(eigenvalues) - 1.0;
  m.sqrt_lambda_m1_ = xt::sqrt(eigenvalues) - 1.0;
  m.scaled_basis_ = Mat::from_shape({k, d});
  for (std::size_t j = 0; j < k; ++j)
    for (std::size_t i = 0; i < d; ++i) m.scaled_basis_(j, i) = m.sigma_(i) * basis(j, i);
  // diag(M^-1)_i = sigma_i^2 (1 + sum_j (lambda_j - 1) u_ij^2).
  m.diag_ = Vec::from_shape({d});
  for (std::size_t i = 0; i < d; ++i) {
    double s = 1.0;
    for (std::size_t j = 0; j < k; ++j) s += m.lambda_m1_(j) * basis(j, i) * basis(j, i);
    m.diag_(i) = scale(i) * s;
  }
  m.id_ = next_metric_id();
  return m;
}

void Metric::sample_momentum(const Key& key, Vec& p) const {
  // The vectorised ziggurat (normals.hpp), ~4x cheaper than Box-Muller:
  // the draw is paid once per transition over only a dozen steps.
  standard_normals(key, p);
  switch (kind_) {
    case Kind::kIdentity:
      return;
    case Kind::kDiagonal:
      scale_in_place(dim_, inv_sqrt_diag_.data(), p.data());
      return;
    case Kind::kDense: {
      // p = L^-T z has covariance (L L^T)^-1 = M: solve L^T p = z in place.
      cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, static_cast<int>(dim_),
                  chol_.data(), static_cast<int>(dim_), p.data(), 1);
      return;
    }
    case Kind::kLowRank:
      // p = S^-1 (I + U (Lambda^-1/2 - I) U^T) z: covariance
      // S^-1 (I + U (Lambda^-1 - I) U^T) S^-1 = M.
      apply_low_rank(basis_, inv_sqrt_lambda_m1_, p.data(), dim_);
      for (std::size_t i = 0; i < dim_; ++i) p(i) /= sigma_(i);
      return;
  }
}

void Metric::sample_momentum(const Key& key, Vec& p, Vec& v) const {
  if (kind_ != Kind::kDense) {
    sample_momentum(key, p);
    velocity(p, v);
    return;
  }
  // z into v, then p = L^-T z and v = L z = M^-1 p in one pass.
  standard_normals(key, v);
  dense_draw(dim_, chol_inv_.data(), chol_.data(), p.data(), v.data());
}

void Metric::velocity(const Vec& p, Vec& v) const {
  switch (kind_) {
    case Kind::kIdentity:
      ops::copy(p, v);
      return;
    case Kind::kDiagonal:
      if (p.data() == v.data()) return scale_in_place(dim_, diag_.data(), v.data());
      scale(dim_, diag_.data(), p.data(), v.data());
      return;
    case Kind::kDense:
      cblas_dsymv(CblasRowMajor, CblasLower, static_cast<int>(dim_), 1.0, dense_.data(),
                  static_cast<int>(dim_), p.data(), 1, 0.0, v.data(), 1);
      return;
    case Kind::kLowRank: {
      // v = S^2 p + sum_j (lambda_j - 1) w_j (w_j^T p), w_j = S u_j.
      for (std::size_t i = 0; i < dim_; ++i) v(i) = scale_(i) * p(i);
      for (std::size_t j = 0; j < eigenvalues_.size(); ++j) {
        const double* w = row(scaled_basis_, j);
        double c = 0.0;
        for (std::size_t i = 0; i < dim_; ++i) c += w[i] * p(i);
        c *= lambda_m1_(j);
        for (std::size_t i = 0; i < dim_; ++i) v(i) += c * w[i];
      }
      return;
    }
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
    case Kind::kLowRank: {
      double s = 0.0;
      for (std::size_t i = 0; i < dim_; ++i) s += scale_(i) * p(i) * p(i);
      for (std::size_t j = 0; j < eigenvalues_.size(); ++j) {
        const double* w = row(scaled_basis_, j);
        double c = 0.0;
        for (std::size_t i = 0; i < dim_; ++i) c += w[i] * p(i);
        s += lambda_m1_(j) * c * c;
      }
      return 0.5 * s;
    }
  }
  return 0.0;
}

bool Metric::is_turning(const Vec& v_left, const Vec& v_right, const Vec& rho) {
  return dot(v_left, rho) <= 0.0 || dot(v_right, rho) <= 0.0;
}

void Metric::sqrt_transpose_times(const Vec& g, Vec& out) const {
  switch (kind_) {
    case Kind::kIdentity:
      for (std::size_t i = 0; i < dim_; ++i) out(i) = g(i);
      return;
    case Kind::kDiagonal:
      for (std::size_t i = 0; i < dim_; ++i) out(i) = g(i) / inv_sqrt_diag_(i);
      return;
    case Kind::kDense:
      // (L^T g)_i = sum_{j >= i} L(j, i) g_j.
      for (std::size_t i = 0; i < dim_; ++i) {
        double s = 0.0;
        for (std::size_t j = i; j < dim_; ++j) s += chol_(j, i) * g(j);
        out(i) = s;
      }
      return;
    case Kind::kLowRank:
      // R^T g = (I + U (Lambda^1/2 - I) U^T) (sigma .* g).
      for (std::size_t i = 0; i < dim_; ++i) out(i) = sigma_(i) * g(i);
      apply_low_rank(basis_, sqrt_lambda_m1_, out.data(), dim_);
      return;
  }
}

void Metric::add_sqrt_times(double a, const Vec& w, Vec& x) const {
  switch (kind_) {
    case Kind::kIdentity:
      for (std::size_t i = 0; i < dim_; ++i) x(i) += a * w(i);
      return;
    case Kind::kDiagonal:
      for (std::size_t i = 0; i < dim_; ++i) x(i) += a * w(i) / inv_sqrt_diag_(i);
      return;
    case Kind::kDense:
      // Row i reads w only, so x may be updated as we go.
      for (std::size_t i = 0; i < dim_; ++i) {
        double s = 0.0;
        for (std::size_t j = 0; j <= i; ++j) s += chol_(i, j) * w(j);
        x(i) += a * s;
      }
      return;
    case Kind::kLowRank:
      // R w = sigma .* (w + sum_j (lambda_j^1/2 - 1) u_j (u_j^T w)): every
      // coefficient reads the original w, so x is updated term by term.
      for (std::size_t i = 0; i < dim_; ++i) x(i) += a * sigma_(i) * w(i);
      for (std::size_t j = 0; j < eigenvalues_.size(); ++j) {
        const double* u = row(basis_, j);
        double c = 0.0;
        for (std::size_t i = 0; i < dim_; ++i) c += u[i] * w(i);
        c *= a * sqrt_lambda_m1_(j);
        for (std::size_t i = 0; i < dim_; ++i) x(i) += c * sigma_(i) * u[i];
      }
      return;
  }
}

absl::Status Metric::assign_diagonal(const Vec& inverse_mass_diagonal) {
  if (kind_ != Kind::kDiagonal || dim_ != inverse_mass_diagonal.size()) {
    auto m = diagonal(inverse_mass_diagonal);
    if (!m.ok()) return m.status();
    *this = *std::move(m);
    return absl::OkStatus();
  }
  for (std::size_t i = 0; i < dim_; ++i) {
    const double d = inverse_mass_diagonal(i);
    if (!std::isfinite(d) || !(d > 0.0))
      return absl::InvalidArgumentError(absl::StrCat(
          "diagonal inverse mass matrix must be finite and > 0; entry ", i, " is ", d));
  }
  for (std::size_t i = 0; i < dim_; ++i) {
    diag_(i) = inverse_mass_diagonal(i);
    inv_sqrt_diag_(i) = 1.0 / std::sqrt(diag_(i));
  }
  id_ = next_metric_id();
  return absl::OkStatus();
}

}  // namespace nutshell
