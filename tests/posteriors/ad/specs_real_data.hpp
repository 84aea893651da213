// The four real-data posteriors of issue 13, written once (their Stan
// programs and data in tests/posteriors/data/<name>/, the data from R's
// `datasets` package, see make_real_data.R there). They exist only in AD
// form: there is no hand-written twin, so the tests check them against
// finite differences and Stan's log_prob at check_points.json.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nutshell/ad/ad.hpp"
#include "nutshell/distributions/continuous.hpp"
#include "nutshell/distributions/discrete.hpp"
#include "nutshell/model/param.hpp"
#include "tests/posteriors/ad/ad_posterior.hpp"

namespace nutshell::posteriors {

/// N rows of K predictors (row-major) and a response: the regressions' data.
struct RegressionData {
  std::size_t n = 0, k = 0;
  std::vector<double> X, y;
};

/// data.json's N, K, X (N x K), y of posterior `name`.
absl::StatusOr<std::shared_ptr<const RegressionData>> load_regression_data(std::string_view name,
                                                                           std::string_view dir);

/// alpha + X beta as an arena vector (one node per row for AD scalars).
template <class T>
std::span<const T> linear_predictor(const RegressionData& d, const T& alpha,
                                    std::span<const T> beta) {
  const auto xb = ad::matvec(ad::MatrixView<const double>{d.X.data(), d.n, d.k}, beta);
  std::span<T> mu = ad::arena_vector<T>(d.n);
  for (std::size_t i = 0; i < d.n; ++i) mu[i] = alpha + xb[i];
  return mu;
}

/// alpha ~ normal(0, 100), beta ~ normal(0, 10), sigma ~ half-normal(0,
/// 10) and y ~ normal(alpha + X beta, sigma) (kStudentT false: mtcars, mpg
/// on the uncentred disp, hp, drat, wt, qsec, the strongly correlated
/// regression) or y ~ student_t(4, alpha + X beta, sigma) (kStudentT true:
/// stackloss on the uncentred Air.Flow, Water.Temp, Acid.Conc.).
template <bool kStudentT>
struct UncentredRegressionSpec {
  static constexpr std::string_view kName = kStudentT ? "stackloss_t" : "mtcars_uncentred";
  static constexpr bool kDenseMetricAdvised = false;
  std::shared_ptr<const RegressionData> data;

  static absl::StatusOr<UncentredRegressionSpec> load(std::string_view dir) {
    auto d = load_regression_data(kName, dir);
    if (!d.ok()) return d.status();
    return UncentredRegressionSpec{*std::move(d)};
  }
  std::vector<model::Param> parameters() const {
    return {model::real("alpha"), model::vector("beta", data->k), model::positive("sigma")};
  }
  template <class P>
  auto operator()(const P& p) const {
    const auto& alpha = p.scalar("alpha");
    const auto beta = p.vector("beta");
    const auto& sigma = p.scalar("sigma");
    const auto mu = linear_predictor(*data, alpha, beta);
    using namespace distributions;
    const auto prior = normal_lpdf(alpha, 0.0, 100.0) + normal_lpdf(beta, 0.0, 10.0) +
                       normal_lpdf(sigma, 0.0, 10.0);
    if constexpr (kStudentT) {
      return prior + student_t_lpdf(data->y, 4.0, mu, sigma);
    } else {
      return prior + normal_lpdf(data->y, mu, sigma);
    }
  }
};
using MtcarsUncentredSpec = UncentredRegressionSpec<false>;
using StacklossTSpec = UncentredRegressionSpec<true>;

/// ChickWeight: log weight[n] ~ normal(a[chick] + b[chick] time[n], sigma),
/// a = mu_a + tau_a z_a, b = mu_b + tau_b z_b (non-centred), 50 chicks:
/// 105 parameters. The hierarchical model with >= 100 parameters.
struct ChickweightHierSpec {
  static constexpr std::string_view kName = "chickweight_hier";
  static constexpr bool kDenseMetricAdvised = false;
  struct Data {
    std::size_t j = 0;
    std::vector<std::size_t> chick;  // 0-based
    std::vector<double> time, y;
  };
  std::shared_ptr<const Data> data;

  static absl::StatusOr<ChickweightHierSpec> load(std::string_view dir);
  std::vector<model::Param> parameters() const {
    return {model::real("mu_a"),        model::real("mu_b"),
            model::positive("tau_a"),   model::positive("tau_b"),
            model::positive("sigma"),   model::vector("z_a", data->j),
            model::vector("z_b", data->j)};
  }
  template <class P>
  auto operator()(const P& p) const {
    using T = typename P::scalar_type;
    const T& mu_a = p.scalar("mu_a");
    const T& mu_b = p.scalar("mu_b");
    const T& tau_a = p.scalar("tau_a");
    const T& tau_b = p.scalar("tau_b");
    const T& sigma = p.scalar("sigma");
    const auto z_a = p.vector("z_a");
    const auto z_b = p.vector("z_b");
    const std::size_t J = data->j, N = data->y.size();
    std::span<T> a = ad::arena_vector<T>(J), b = ad::arena_vector<T>(J);
    for (std::size_t c = 0; c < J; ++c) a[c] = mu_a + tau_a * z_a[c], b[c] = mu_b + tau_b * z_b[c];
    std::span<T> eta = ad::arena_vector<T>(N);
    for (std::size_t n = 0; n < N; ++n) eta[n] = a[data->chick[n]] + b[data->chick[n]] * data->time[n];
    using namespace distributions;
    return normal_lpdf(mu_a, 0.0, 10.0) + normal_lpdf(mu_b, 0.0, 1.0) +
           normal_lpdf(tau_a, 0.0, 1.0) + normal_lpdf(tau_b, 0.0, 0.5) +
           normal_lpdf(sigma, 0.0, 1.0) + normal_lpdf(z_a, 0.0, 1.0) + normal_lpdf(z_b, 0.0, 1.0) +
           normal_lpdf(data->y, std::span<const T>(eta), sigma);
  }
};

/// warpbreaks: breaks ~ poisson_log(X beta + tau z), X = ~ wool * tension
/// (6 columns), z ~ normal(0, 1) per loom (overdispersion, non-centred),
/// beta ~ normal(0, 5), tau ~ half-normal(0, 1): 61 parameters.
struct WarpbreaksPlnSpec {
  static constexpr std::string_view kName = "warpbreaks_pln";
  static constexpr bool kDenseMetricAdvised = false;
  struct Data {
    RegressionData design;  // y holds the counts
    std::vector<long> counts;
  };
  std::shared_ptr<const Data> data;

  static absl::StatusOr<WarpbreaksPlnSpec> load(std::string_view dir);
  std::vector<model::Param> parameters() const {
    return {model::vector("beta", data->design.k), model::positive("tau"),
            model::vector("z", data->design.n)};
  }
  template <class P>
  auto operator()(const P& p) const {
    using T = typename P::scalar_type;
    const auto beta = p.vector("beta");
    const T& tau = p.scalar("tau");
    const auto z = p.vector("z");
    const RegressionData& d = data->design;
    const auto xb = ad::matvec(ad::MatrixView<const double>{d.X.data(), d.n, d.k}, beta);
    std::span<T> eta = ad::arena_vector<T>(d.n);
    for (std::size_t i = 0; i < d.n; ++i) eta[i] = xb[i] + tau * z[i];
    using namespace distributions;
    return normal_lpdf(beta, 0.0, 5.0) + normal_lpdf(tau, 0.0, 1.0) + normal_lpdf(z, 0.0, 1.0) +
           poisson_log_lpmf(data->counts, std::span<const T>(eta));
  }
};

using MtcarsUncentred = AdPosterior<MtcarsUncentredSpec>;
using StacklossT = AdPosterior<StacklossTSpec>;
using ChickweightHier = AdPosterior<ChickweightHierSpec>;
using WarpbreaksPln = AdPosterior<WarpbreaksPlnSpec>;

}  // namespace nutshell::posteriors
