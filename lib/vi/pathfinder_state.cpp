// Pathfinder's local approximations: Algorithm 3 (the diagonal and the
// compact inverse-Hessian factors) and Algorithm 4 (drawing from them).
#include "nutshell/vi/pathfinder_state.hpp"

#include <cmath>
#include <deque>
#include <exception>
#include <numbers>

#include <xtensor-blas/xlinalg.hpp>

namespace nutshell::vi::pathfinder {
namespace {

// Inverse of an upper triangular J x J matrix by back substitution.
Mat upper_inverse(const Mat& r) {
  const std::size_t j = r.shape(0);
  Mat inv = xt::zeros<double>({j, j});
  for (std::size_t c = 0; c < j; ++c) {
    for (std::size_t i = c + 1; i-- > 0;) {
      double acc = (i == c) ? 1.0 : 0.0;
      for (std::size_t k = i + 1; k <= c; ++k) acc -= r(i, k) * inv(k, c);
      inv(i, c) = acc / r(i, i);
    }
  }
  return inv;
}

}  // namespace

std::vector<State> approximations(const LbfgsPath& path, std::size_t history_size) {
  const std::size_t rows = path.positions.shape(0), d = path.positions.shape(1);
  std::vector<State> out;
  Vec alpha = xt::ones<double>({d});
  std::deque<Vec> s_hist, y_hist;
  for (std::size_t l = 1; l < rows; ++l) {
    // s and y of the minimised objective -log p: y is minus the change of grad log p.
    const Vec s = xt::view(path.positions, l, xt::all()) - xt::view(path.positions, l - 1, xt::all());
    const Vec y =
        xt::view(path.gradients, l - 1, xt::all()) - xt::view(path.gradients, l, xt::all());
    const double b = xt::sum(s * y)();
    if (b > 1e-12 * xt::sum(y * y)() && std::isfinite(b)) {
      // Algorithm 3: the BFGS update of the diagonal Hessian diag(1/alpha),
      // rescaled by a / b, keeping only its diagonal.
      const double a = xt::sum(y * alpha * y)();
      const double c = xt::sum(s * s / alpha)();
      const Vec inv = a / (b * alpha) + y * y / b - a * s * s / (b * c * alpha * alpha);
      Vec next = 1.0 / inv;
      if (all_finite(next) && xt::all(next > 0.0)) alpha = std::move(next);
      s_hist.push_back(s);
      y_hist.push_back(y);
      if (s_hist.size() > history_size) {
        s_hist.pop_front();
        y_hist.pop_front();
      }
    }
    if (s_hist.empty()) continue;
    const std::size_t j = s_hist.size();
    Mat r = xt::zeros<double>({j, j});
    Mat yay = xt::zeros<double>({j, j});
    for (std::size_t p = 0; p < j; ++p)
      for (std::size_t q = 0; q < j; ++q) {
        if (p <= q) r(p, q) = xt::sum(s_hist[p] * y_hist[q])();
        yay(p, q) = xt::sum(y_hist[p] * alpha * y_hist[q])();
      }
    for (std::size_t p = 0; p < j; ++p) yay(p, p) += r(p, p);  // D + Y^T diag(alpha) Y
    const Mat rinv = upper_inverse(r);
    const Mat block = xt::linalg::dot(xt::transpose(rinv), xt::linalg::dot(yay, rinv));
    State st;
    st.position = xt::view(path.positions, l, xt::all());
    st.grad_position = xt::view(path.gradients, l, xt::all());
    st.alpha = alpha;
    st.beta = Mat::from_shape({d, 2 * j});
    for (std::size_t p = 0; p < j; ++p)
      for (std::size_t i = 0; i < d; ++i) {
        st.beta(i, p) = alpha(i) * y_hist[p](i);
        st.beta(i, j + p) = s_hist[p](i);
      }
    st.gamma = xt::zeros<double>({2 * j, 2 * j});
    for (std::size_t p = 0; p < j; ++p)
      for (std::size_t q = 0; q < j; ++q) {
        st.gamma(p, j + q) = -rinv(p, q);
        st.gamma(j + q, p) = -rinv(p, q);
        st.gamma(j + p, j + q) = block(p, q);
      }
    st.iteration = l;
    out.push_back(std::move(st));
  }
  return out;
}

Vec mean(const State& st) {
  const Vec bg = xt::linalg::dot(xt::transpose(st.beta), st.grad_position);
  return st.position + st.alpha * st.grad_position +
         xt::linalg::dot(st.beta, xt::linalg::dot(st.gamma, bg));
}

Mat covariance(const State& st) {
  Mat h = xt::linalg::dot(st.beta, xt::linalg::dot(st.gamma, xt::transpose(st.beta)));
  for (std::size_t i = 0; i < st.alpha.size(); ++i) h(i, i) += st.alpha(i);
  return h;
}

Vec covariance_diagonal(const State& st) {
  const Mat bg = xt::linalg::dot(st.beta, st.gamma);
  Vec out = st.alpha;
  for (std::size_t i = 0; i < out.size(); ++i)
    for (std::size_t k = 0; k < st.beta.shape(1); ++k) out(i) += bg(i, k) * st.beta(i, k);
  return out;
}

absl::StatusOr<Draws> sample(const Key& key, const State& st, std::size_t n) {
  const std::size_t d = st.alpha.size(), two_j = st.beta.shape(1);
  const Vec mu = mean(st);
  const double log_2pi = std::log(2.0 * std::numbers::pi);
  Draws out{Mat::from_shape({n, d}), Vec::from_shape({n})};
  Vec u = Vec::from_shape({d});
  try {
    if (two_j >= d) {
      // Dense: H = L L^T, phi = mu + L u.
      const Mat l = xt::linalg::cholesky(covariance(st));
      double log_det = 0.0;
      for (std::size_t i = 0; i < d; ++i) log_det += 2.0 * std::log(l(i, i));
      if (!std::isfinite(log_det)) throw std::runtime_error("singular");
      for (std::size_t r = 0; r < n; ++r) {
        normal(fold_in(key, r), u);
        for (std::size_t i = 0; i < d; ++i) {
          double acc = mu(i);
          for (std::size_t k = 0; k <= i; ++k) acc += l(i, k) * u(k);
          out.positions(r, i) = acc;
        }
        out.log_q(r) = -0.5 * (log_det + xt::sum(u * u)() + d * log_2pi);
      }
    } else {
      // Low rank: diag(alpha)^(-1/2) beta = Q R (thin), I + R gamma R^T = L L^T,
      // phi = mu + diag(alpha)^(1/2) (Q (L - I) Q^T u + u).
      const Vec sqrt_alpha = xt::sqrt(st.alpha);
      Mat scaled = st.beta;
      for (std::size_t i = 0; i < d; ++i) xt::view(scaled, i, xt::all()) /= sqrt_alpha(i);
      auto [q, rq] = xt::linalg::qr(scaled, xt::linalg::qrmode::reduced);
      Mat inner = xt::linalg::dot(rq, xt::linalg::dot(st.gamma, xt::transpose(rq)));
      for (std::size_t i = 0; i < two_j; ++i) inner(i, i) += 1.0;
      Mat l = xt::linalg::cholesky(inner);
      for (std::size_t i = 0; i < two_j; ++i)
        for (std::size_t k = i + 1; k < two_j; ++k) l(i, k) = 0.0;
      double log_det = xt::sum(xt::log(st.alpha))();
      for (std::size_t i = 0; i < two_j; ++i) log_det += 2.0 * std::log(l(i, i));
      if (!std::isfinite(log_det)) throw std::runtime_error("singular");
      for (std::size_t i = 0; i < two_j; ++i) l(i, i) -= 1.0;
      const Mat q_mat = q;
      for (std::size_t r = 0; r < n; ++r) {
        normal(fold_in(key, r), u);
        const Vec qtu = xt::linalg::dot(xt::transpose(q_mat), u);
        const Vec lqtu = xt::linalg::dot(l, qtu);
        const Vec v = xt::linalg::dot(q_mat, lqtu) + u;
        xt::view(out.positions, r, xt::all()) = mu + sqrt_alpha * v;
        out.log_q(r) = -0.5 * (log_det + xt::sum(u * u)() + d * log_2pi);
      }
    }
  } catch (const std::exception&) {
    return absl::FailedPreconditionError(
        "pathfinder: the inverse Hessian estimate is not positive definite");
  }
  if (!xt::all(xt::isfinite(out.positions)) || !all_finite(out.log_q))
    return absl::FailedPreconditionError("pathfinder: non-finite draws from the approximation");
  return out;
}

}  // namespace nutshell::vi::pathfinder
