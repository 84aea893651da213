// corr_gauss_50: a 50-dimensional Gaussian with a dense, ill-conditioned covariance.
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

/// x ~ N(0, Sigma) with Sigma (condition number 1e4) from data.json;
/// coordinates x[1..N]. lp equals Stan's lp__ (multi_normal_cholesky_lpdf).
/// The Cholesky factor is computed once at load and shared between copies;
/// evaluation is const and solves in place in `grad`, so one object may serve
/// several threads.
class CorrGauss50 : public PosteriorBase<CorrGauss50> {
 public:
  /// Folder name under tests/posteriors/data/.
  static constexpr std::string_view kName = "corr_gauss_50";
  /// A diagonal metric leaves the 1e4 condition number in place.
  static constexpr bool kDenseMetricAdvised = true;

  /// Reads data.json (N, Sigma symmetric positive definite); `dir` as in
  /// `posterior_dir`.
  static absl::StatusOr<CorrGauss50> load(std::string_view dir = {});

  /// Number of unconstrained coordinates (N).

  std::size_t dim() const { return data_->n; }
  /// x[1], ..., x[N].
  std::vector<std::string> names() const { return indexed_names("x", dim()); }
  /// log p(x); writes -Sigma^{-1} x into grad (two triangular solves in place,
  /// no scratch).
  double operator()(const Vec& x, Vec& grad) const;

 private:
  struct Data {
    std::size_t n = 0;
    // L stored twice so that both triangular solves walk memory contiguously.
    std::vector<double> l_rows, l_cols;
    double log_norm = 0.0;  // -N/2 log(2 pi) - sum log L[i,i]
  };
  explicit CorrGauss50(std::shared_ptr<const Data> d) : data_(std::move(d)) {}
  std::shared_ptr<const Data> data_;
};

}  // namespace nutshell::posteriors
