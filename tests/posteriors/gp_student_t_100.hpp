// gp_student_t_100: latent GP (exp-quad kernel) with Student-t noise, non-centered.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nutshell/core/types.hpp"
#include "tests/posteriors/posterior_base.hpp"

namespace nutshell::posteriors {

/// ell ~ Gamma(2, 1), eta ~ half-N(5), sigma ~ half-N(2), nu_raw ~ Gamma(2, 0.1),
/// z ~ N(0, I), f = chol(eta^2 exp(-(x_i-x_j)^2 / (2 ell^2)) + 1e-6 I) z,
/// y[n] ~ StudentT(1 + nu_raw, f[n], sigma). Coordinates
/// (log_ell, log_eta, log_sigma, log_nu_raw, z[1..N]); lp equals Stan's lp__.
///
/// Each evaluation factors the N x N kernel matrix (LAPACK potrf) and
/// back-propagates through the Cholesky factor with two triangular solves
/// (Murray 2016), O(N^3). When the kernel matrix is not numerically positive
/// definite it returns -inf (Stan rejects such a point too).
///
/// Not thread-safe: evaluation works in three N x N scratch matrices owned by
/// the object. Give each chain its own copy; copies share the data and
/// allocate only the scratch (~250 kB for N = 100).
///
/// Run with OPENBLAS_NUM_THREADS=1 (chains are the parallelism): threaded
/// OpenBLAS splits these 100 x 100 solves across threads, which is slower
/// (~125 us against ~85 us per gradient with -c opt -march=native) and
/// allocates inside OpenBLAS on every call.
class GpStudentT100 : public PosteriorBase<GpStudentT100> {
 public:
  /// Folder name under tests/posteriors/data/.
  static constexpr std::string_view kName = "gp_student_t_100";
  static constexpr bool kDenseMetricAdvised = false;

  /// Reads data.json (N, x, y); `dir` as in `posterior_dir`.
  static absl::StatusOr<GpStudentT100> load(std::string_view dir = {});

  /// Number of unconstrained coordinates (N + 4).

  std::size_t dim() const { return data_->n + 4; }
  /// log_ell, log_eta, log_sigma, log_nu_raw, z[1], ..., z[N].
  std::vector<std::string> names() const;
  /// log p(u) and its gradient; no heap allocation.
  double operator()(const Vec& u, Vec& grad);

 private:
  struct Data {
    std::size_t n = 0;
    std::vector<double> y;
    std::vector<double> d2;  // (x_i - x_j)^2, row-major N x N, lower triangle
  };
  struct Scratch {
    explicit Scratch(std::size_t n);
    std::vector<double> chol, kern, adj;  // L, exp(-d2/(2 ell^2)), Lbar then Kbar
    std::vector<double> f, w;             // L z, then L^T dlogp/df
  };
  explicit GpStudentT100(std::shared_ptr<const Data> d) : data_(std::move(d)), s_(data_->n) {}
  // Contracts the adjoint of K with dK/dlog(ell) and dK/dlog(eta).
  void hyper_gradient(double ell, double eta, double& g_log_ell, double& g_log_eta);
  std::shared_ptr<const Data> data_;
  Scratch s_;
};

}  // namespace nutshell::posteriors
