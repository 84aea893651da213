// logistic_1000x25: Bayesian logistic regression, N = 1000 rows, K = 25 predictors.
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

/// alpha ~ N(0, 5), beta[k] ~ N(0, 1), y[n] ~ Bernoulli(logit^-1(alpha + X[n] beta));
/// coordinates (alpha, beta[1..K]); lp equals Stan's lp__
/// (bernoulli_logit_glm_lpmf). One gradient is two O(N*K) passes over X
/// plus N exp/log1p pairs, vectorised with xsimd.
///
/// Not thread-safe: evaluation writes into an N-vector of scratch held by the
/// object. Give each chain its own copy; copies share the data (X, y) and
/// allocate only the scratch.
class Logistic1000x25 : public PosteriorBase<Logistic1000x25> {
 public:
  /// Folder name under tests/posteriors/data/.
  static constexpr std::string_view kName = "logistic_1000x25";
  static constexpr bool kDenseMetricAdvised = false;

  /// Reads data.json (N, K, X as N rows of K, y in {0, 1}); `dir` as in
  /// `posterior_dir`.
  static absl::StatusOr<Logistic1000x25> load(std::string_view dir = {});

  /// Number of unconstrained coordinates (K + 1).

  std::size_t dim() const { return data_->k + 1; }
  /// alpha, beta[1], ..., beta[K].
  std::vector<std::string> names() const;
  /// log p(u) and its gradient; no heap allocation.
  double operator()(const Vec& u, Vec& grad);

 private:
  struct Data {
    std::size_t n = 0, k = 0;
    std::vector<double> x_cols;  // X column-major: the K columns are contiguous
    std::vector<double> y;       // 0.0 / 1.0
  };
  explicit Logistic1000x25(std::shared_ptr<const Data> d) : data_(std::move(d)), eta_(data_->n) {}
  std::shared_ptr<const Data> data_;
  std::vector<double> eta_;  // linear predictor, then residuals y - p
};

}  // namespace nutshell::posteriors
