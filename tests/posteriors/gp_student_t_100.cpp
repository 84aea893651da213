#include "tests/posteriors/gp_student_t_100.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <xsimd/xsimd.hpp>
#include <xtensor-blas/xlinalg.hpp>

#include "nutshell/ad/linalg_kernels.hpp"
#include "tests/posteriors/json_fields.hpp"
#include "tests/posteriors/special_functions.hpp"

namespace nutshell::posteriors {
namespace {

constexpr double kJitter = 1e-6;

// All matrices are row-major with the lower triangle meaningful. LAPACK is
// column-major, so potrf sees the transpose: its 'U' factor of K is our L.
int factor_lower(double* a, int n) { return cxxlapack::potrf<int>('U', n, a, n); }

// e[j] = exp(scale * d2[j]), k[j] = eta2 * e[j] for j < len: the N^2/2
// exponentials are a tenth of an evaluation, worth vectorising where xsimd's
// exp is fast (AVX2 and wider; on SSE2 libm's scalar exp is quicker).
void exp_quad_row(const double* d2, std::size_t len, double scale, double eta2, double* e,
                  double* k) {
  std::size_t j = 0;
#if XSIMD_WITH_AVX2
  using Batch = xsimd::batch<double>;
  const Batch s(scale), a(eta2);
  for (; j + Batch::size <= len; j += Batch::size) {
    const Batch v = xsimd::exp(s * Batch::load_unaligned(d2 + j));
    v.store_unaligned(e + j);
    (a * v).store_unaligned(k + j);
  }
#endif
  for (; j < len; ++j) {
    e[j] = std::exp(scale * d2[j]);
    k[j] = eta2 * e[j];
  }
}

}  // namespace

GpStudentT100::Scratch::Scratch(std::size_t n)
    : chol(n * n, 0.0), kern(n * n, 0.0), adj(n * n, 0.0), f(n, 0.0), w(n, 0.0) {}

absl::StatusOr<GpStudentT100> GpStudentT100::load(std::string_view dir) {
  auto file = detail::read_posterior_json(kName, "data.json", dir);
  if (!file.ok()) return file.status();
  auto n = detail::get_int(*file, file->value, "N", 1);
  if (!n.ok()) return n.status();
  auto x = detail::get_reals(*file, file->value, "x", *n);
  auto y = detail::get_reals(*file, file->value, "y", *n);
  if (!x.ok()) return x.status();
  if (!y.ok()) return y.status();
  auto data = std::make_shared<Data>();
  data->n = static_cast<std::size_t>(*n);
  data->y = std::move(*y);
  data->d2.assign(data->n * data->n, 0.0);
  for (std::size_t i = 0; i < data->n; ++i)
    for (std::size_t j = 0; j < i; ++j) {
      const double d = (*x)[i] - (*x)[j];
      data->d2[i * data->n + j] = d * d;
    }
  return GpStudentT100(std::move(data));
}

std::vector<std::string> GpStudentT100::names() const {
  std::vector<std::string> out{"log_ell", "log_eta", "log_sigma", "log_nu_raw"};
  for (auto& s : indexed_names("z", data_->n)) out.push_back(std::move(s));
  return out;
}

double GpStudentT100::operator()(const Vec& u, Vec& grad) {
  using namespace cxxblas;
  const std::size_t n = data_->n;
  const int ni = static_cast<int>(n);
  const double ell = std::exp(u(0)), eta = std::exp(u(1)), sigma = std::exp(u(2)),
               nu_raw = std::exp(u(3));
  const double nu = 1.0 + nu_raw, eta2 = eta * eta;
  const double* z = u.data() + 4;
  const double* d2 = data_->d2.data();
  double* L = s_.chol.data();
  double* E = s_.kern.data();

  // K = eta^2 E + jitter I, lower triangle only.
  const double scale = -0.5 / (ell * ell);
  for (std::size_t i = 0; i < n; ++i) {
    exp_quad_row(d2 + i * n, i, scale, eta2, E + i * n, L + i * n);
    E[i * n + i] = 1.0;
    L[i * n + i] = eta2 + kJitter;
  }
  if (factor_lower(L, ni) != 0) {
    std::fill(grad.begin(), grad.end(), 0.0);
    return -std::numeric_limits<double>::infinity();
  }

  // f = L z.
  double* f = s_.f.data();
  std::copy(z, z + n, f);
  trmv(RowMajor, Lower, NoTrans, NonUnit, ni, L, ni, f, 1);

  // Student-t likelihood; w collects dlogp/df before being turned into L^T w.
  const double s2 = sigma * sigma, nu_s2 = nu * s2;
  const double* y = data_->y.data();
  double* w = s_.w.data();
  double sum_log1p = 0.0, sum_r2_q = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double r = y[i] - f[i];
    const double q = nu_s2 + r * r;
    w[i] = (nu + 1.0) * r / q;
    sum_log1p += std::log1p(r * r / nu_s2);
    sum_r2_q += r * r / q;
  }
  const double nd = static_cast<double>(n);
  const double log_2pi = std::log(2.0 * std::numbers::pi);
  const double loglik = nd * (detail::log_gamma(0.5 * (nu + 1.0)) - detail::log_gamma(0.5 * nu) -
                              0.5 * std::log(nu * std::numbers::pi) - u(2)) -
                        0.5 * (nu + 1.0) * sum_log1p;

  // The adjoint of L's lower triangle, dlogp/df z^T, before w is overwritten.
  double* P = s_.adj.data();
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j) P[i * n + j] = w[i] * z[j];

  // dlogp/dz = L^T dlogp/df - z.
  trmv(RowMajor, Lower, Trans, NonUnit, ni, L, ni, w, 1);
  double ss_z = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    ss_z += z[i] * z[i];
    grad(4 + i) = w[i] - z[i];
  }

  double g_log_ell = 0.0, g_log_eta = 0.0;
  hyper_gradient(ell, eta, g_log_ell, g_log_eta);
  grad(0) = g_log_ell + 2.0 - ell;
  grad(1) = g_log_eta - eta2 / 25.0 + 1.0;
  grad(2) = -nd + (nu + 1.0) * sum_r2_q - s2 / 4.0 + 1.0;
  const double dnu =
      nd * (0.5 * detail::digamma(0.5 * (nu + 1.0)) - 0.5 * detail::digamma(0.5 * nu) - 0.5 / nu) -
      0.5 * sum_log1p + (nu + 1.0) / (2.0 * nu) * sum_r2_q;
  grad(3) = nu_raw * dnu + 2.0 - 0.1 * nu_raw;

  const double priors = (u(0) - ell)                                      // Gamma(2, 1)
                        + (-0.5 * log_2pi - std::log(5.0) - eta2 / 50.0)  // N(0, 5)
                        + (-0.5 * log_2pi - std::log(2.0) - s2 / 8.0)     // N(0, 2)
                        + (2.0 * std::log(0.1) + u(3) - 0.1 * nu_raw)     // Gamma(2, 0.1)
                        + (-0.5 * nd * log_2pi - 0.5 * ss_z);             // z
  const double log_jacobian = u(0) + u(1) + u(2) + u(3);
  return priors + loglik + log_jacobian;
}

// Reverse mode through L = chol(K): Murray's blocked algorithm
// (`ad::kernels::cholesky_adjoint`) turns the adjoint of L's lower triangle,
// left in s_.adj by operator(), into the adjoint Kbar of K's lower triangle,
// which is then contracted with dK/dtheta.
void GpStudentT100::hyper_gradient(double ell, double eta, double& g_log_ell, double& g_log_eta) {
  const std::size_t n = data_->n;
  const double* L = s_.chol.data();
  const double* E = s_.kern.data();
  const double* d2 = data_->d2.data();
  double* P = s_.adj.data();
  ad::kernels::cholesky_adjoint(L, P, n);

  // dK/dlog(eta) = 2 eta^2 E; dK/dlog(ell) = eta^2 E d2 / ell^2 (zero diagonal).
  double sum_e = 0.0, sum_ed2 = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    sum_e += P[i * n + i];  // E[i,i] = 1
    for (std::size_t j = 0; j < i; ++j) {
      const double e = E[i * n + j] * P[i * n + j];
      sum_e += e;
      sum_ed2 += e * d2[i * n + j];
    }
  }
  const double eta2 = eta * eta;
  g_log_eta = 2.0 * eta2 * sum_e;
  g_log_ell = eta2 * sum_ed2 / (ell * ell);
}

}  // namespace nutshell::posteriors
