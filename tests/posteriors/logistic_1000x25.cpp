#include "tests/posteriors/logistic_1000x25.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <xsimd/xsimd.hpp>

#include "tests/posteriors/json_fields.hpp"

namespace nutshell::posteriors {
namespace {

// Explicit xsimd loops rather than cblas dgemv: at 1000 x 25 threaded OpenBLAS
// gemv spends more on thread hand-off than on arithmetic (10 us against 5 us
// for both products single-threaded, and these loops match the latter without
// depending on OPENBLAS_NUM_THREADS).
using Batch = xsimd::batch<double>;
constexpr std::size_t kW = Batch::size;

// eta = alpha + X beta, four columns per sweep so that eta is loaded and
// stored once per four columns rather than once per column.
void linear_predictor(const double* x_cols, std::size_t n, std::size_t k, double alpha,
                      const double* beta, double* eta) {
  std::fill(eta, eta + n, alpha);
  std::size_t c = 0;
  for (; c + 4 <= k; c += 4) {
    const double* c0 = x_cols + c * n;
    const double *c1 = c0 + n, *c2 = c1 + n, *c3 = c2 + n;
    const Batch b0(beta[c]), b1(beta[c + 1]), b2(beta[c + 2]), b3(beta[c + 3]);
    std::size_t i = 0;
    for (; i + kW <= n; i += kW) {
      Batch e = Batch::load_unaligned(eta + i);
      e = xsimd::fma(b0, Batch::load_unaligned(c0 + i), e);
      e = xsimd::fma(b1, Batch::load_unaligned(c1 + i), e);
      e = xsimd::fma(b2, Batch::load_unaligned(c2 + i), e);
      e = xsimd::fma(b3, Batch::load_unaligned(c3 + i), e);
      e.store_unaligned(eta + i);
    }
    for (; i < n; ++i)
      eta[i] += beta[c] * c0[i] + beta[c + 1] * c1[i] + beta[c + 2] * c2[i] + beta[c + 3] * c3[i];
  }
  for (; c < k; ++c) {
    const double* col = x_cols + c * n;
    const Batch b(beta[c]);
    std::size_t i = 0;
    for (; i + kW <= n; i += kW)
      xsimd::fma(b, Batch::load_unaligned(col + i), Batch::load_unaligned(eta + i))
          .store_unaligned(eta + i);
    for (; i < n; ++i) eta[i] += beta[c] * col[i];
  }
}

// log(1 + exp(eta)) = max(eta, 0) + log1p(exp(-|eta|)) never overflows, and
// the same a = exp(-|eta|) gives the inverse logit without cancellation.
inline double bernoulli_scalar(double eta, double y, double& resid) {
  const double a = std::exp(-std::abs(eta));
  const double inv = 1.0 / (1.0 + a);
  resid = y - (eta >= 0.0 ? inv : a * inv);
  return y * eta - std::max(eta, 0.0) - std::log1p(a);
}

// Sum of the Bernoulli log likelihoods; eta is overwritten by y - p.
double bernoulli_terms(const double* y, double* eta, std::size_t n, double& sum_resid) {
  std::size_t i = 0;
  double ll = 0.0, sr = 0.0;
  // xsimd's exp/log1p beat libm only with AVX2 or wider; on plain SSE2 they
  // are slower than the scalar calls.
#if XSIMD_WITH_AVX2
  Batch acc_ll(0.0), acc_r(0.0);
  const Batch zero(0.0), one(1.0);
  for (; i + kW <= n; i += kW) {
    const Batch e = Batch::load_unaligned(eta + i), yy = Batch::load_unaligned(y + i);
    const Batch a = xsimd::exp(-xsimd::abs(e));
    const Batch inv = one / (one + a);
    const Batch r = yy - xsimd::select(e >= zero, inv, a * inv);
    acc_ll += yy * e - xsimd::max(e, zero) - xsimd::log1p(a);
    acc_r += r;
    r.store_unaligned(eta + i);
  }
  ll = xsimd::hadd(acc_ll);
  sr = xsimd::hadd(acc_r);
#endif
  for (; i < n; ++i) {
    double r;
    ll += bernoulli_scalar(eta[i], y[i], r);
    eta[i] = r;
    sr += r;
  }
  sum_resid = sr;
  return ll;
}

// g[c] += X[:, c] . r, four columns per sweep sharing the loads of r.
void add_xt_times(const double* x_cols, std::size_t n, std::size_t k, const double* r, double* g) {
  std::size_t c = 0;
  for (; c + 4 <= k; c += 4) {
    const double* c0 = x_cols + c * n;
    const double *c1 = c0 + n, *c2 = c1 + n, *c3 = c2 + n;
    Batch s0(0.0), s1(0.0), s2(0.0), s3(0.0);
    std::size_t i = 0;
    for (; i + kW <= n; i += kW) {
      const Batch rr = Batch::load_unaligned(r + i);
      s0 = xsimd::fma(rr, Batch::load_unaligned(c0 + i), s0);
      s1 = xsimd::fma(rr, Batch::load_unaligned(c1 + i), s1);
      s2 = xsimd::fma(rr, Batch::load_unaligned(c2 + i), s2);
      s3 = xsimd::fma(rr, Batch::load_unaligned(c3 + i), s3);
    }
    double t0 = xsimd::hadd(s0), t1 = xsimd::hadd(s1), t2 = xsimd::hadd(s2), t3 = xsimd::hadd(s3);
    for (; i < n; ++i) {
      t0 += r[i] * c0[i];
      t1 += r[i] * c1[i];
      t2 += r[i] * c2[i];
      t3 += r[i] * c3[i];
    }
    g[c] += t0;
    g[c + 1] += t1;
    g[c + 2] += t2;
    g[c + 3] += t3;
  }
  for (; c < k; ++c) {
    const double* col = x_cols + c * n;
    Batch s(0.0);
    std::size_t i = 0;
    for (; i + kW <= n; i += kW)
      s = xsimd::fma(Batch::load_unaligned(r + i), Batch::load_unaligned(col + i), s);
    double t = xsimd::hadd(s);
    for (; i < n; ++i) t += r[i] * col[i];
    g[c] += t;
  }
}

}  // namespace

absl::StatusOr<Logistic1000x25> Logistic1000x25::load(std::string_view dir) {
  auto file = detail::read_posterior_json(kName, "data.json", dir);
  if (!file.ok()) return file.status();
  auto n = detail::get_int(*file, file->value, "N", 1);
  auto k = detail::get_int(*file, file->value, "K", 1);
  if (!n.ok()) return n.status();
  if (!k.ok()) return k.status();
  auto x = detail::get_matrix(*file, file->value, "X", *n, *k);
  auto y = detail::get_ints(*file, file->value, "y", *n);
  if (!x.ok()) return x.status();
  if (!y.ok()) return y.status();

  auto data = std::make_shared<Data>();
  data->n = static_cast<std::size_t>(*n);
  data->k = static_cast<std::size_t>(*k);
  data->x_cols.resize(data->n * data->k);
  for (std::size_t i = 0; i < data->n; ++i)
    for (std::size_t c = 0; c < data->k; ++c) data->x_cols[c * data->n + i] = (*x)[i * data->k + c];
  for (long yi : *y) {
    if (yi != 0 && yi != 1) return detail::malformed(*file, "y must be 0 or 1");
    data->y.push_back(static_cast<double>(yi));
  }
  return Logistic1000x25(std::move(data));
}

std::vector<std::string> Logistic1000x25::names() const {
  std::vector<std::string> out{"alpha"};
  for (auto& s : indexed_names("beta", data_->k)) out.push_back(std::move(s));
  return out;
}

double Logistic1000x25::operator()(const Vec& u, Vec& grad) {
  const std::size_t n = data_->n, k = data_->k;
  const double log_2pi = std::log(2.0 * std::numbers::pi);
  const double alpha = u(0);
  const double* beta = u.data() + 1;
  double* g_beta = grad.data() + 1;

  linear_predictor(data_->x_cols.data(), n, k, alpha, beta, eta_.data());
  double sum_resid = 0.0;
  const double loglik = bernoulli_terms(data_->y.data(), eta_.data(), n, sum_resid);

  double ss_beta = 0.0;
  for (std::size_t c = 0; c < k; ++c) {
    ss_beta += beta[c] * beta[c];
    g_beta[c] = -beta[c];
  }
  add_xt_times(data_->x_cols.data(), n, k, eta_.data(), g_beta);
  grad(0) = -alpha / 25.0 + sum_resid;

  const double prior = (-0.5 * log_2pi - std::log(5.0) - alpha * alpha / 50.0) +
                       (-0.5 * static_cast<double>(k) * log_2pi - 0.5 * ss_beta);
  return prior + loglik;
}

}  // namespace nutshell::posteriors
