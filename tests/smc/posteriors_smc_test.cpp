// Adaptive tempered SMC on two shared posteriors (tests/posteriors):
// eight_schools_nc and gauss_100. Each model's log density is split into a
// prior we can sample (read off the Stan program in shared/posteriors) and
// likelihood = log density - prior. Means must be within 4 MCSE of the
// reference, the MCSE from R independent runs with different keys
// (sd of the runs' weighted means / sqrt(R)), combined with the
// reference's own MCSE. With few runs the per-coordinate sd has few degrees
// of freedom (z is Student-t with R - 1), so eight_schools_nc uses 20 runs;
// gauss_100 (100 coordinates, all equally hard once the particles' variance
// preconditions the kernel) pools the variance inflation
// kappa = mean_j(var of run means_j / posterior var_j) over coordinates and
// takes MCSE_j = sqrt(kappa * var_j / R). Calibrated by hand over 7 root
// keys: worst |z| 1.5-3.5 (eight_schools_nc), 2.2-3.8 (gauss_100), mean z^2
// 0.7-1.3.
#include <cmath>
#include <cstdio>
#include <numbers>
#include <vector>

#include <gtest/gtest.h>

#include "nutshell/mcmc/hmc.hpp"
#include "nutshell/smc/adaptive_tempered.hpp"
#include "tests/posteriors/posteriors.hpp"

namespace nutshell::smc {
namespace {

constexpr double kLog2Pi = 1.8378770664093453;

// eight_schools_nc in (mu, log_tau, theta_raw[1..J]): mu ~ N(0, 5),
// tau ~ half-Cauchy(0, 5) with the Jacobian of log, theta_raw ~ N(0, 1).
struct EightSchoolsPrior {
  double operator()(const Vec& u, Vec& g) const {
    const double mu = u(0), t = u(1), q = std::exp(2.0 * t) / 25.0;
    double lp = -0.5 * (mu / 5.0) * (mu / 5.0) - std::log(5.0) - 0.5 * kLog2Pi;
    g(0) = -mu / 25.0;
    lp += std::log(2.0 / (std::numbers::pi * 5.0)) - std::log1p(q) + t;
    g(1) = 1.0 - 2.0 * q / (1.0 + q);
    for (std::size_t j = 2; j < u.size(); ++j) {
      lp += -0.5 * u(j) * u(j) - 0.5 * kLog2Pi;
      g(j) = -u(j);
    }
    return lp;
  }
  static Mat draws(const Key& key, std::size_t n, std::size_t dim) {
    Mat x = Mat::from_shape({n, dim});
    for (std::size_t i = 0; i < n; ++i) {
      Stream s(fold_in(key, i));
      x(i, 0) = 5.0 * s.normal();
      x(i, 1) = std::log(5.0 * std::abs(std::tan(std::numbers::pi * (s.uniform() - 0.5))));
      for (std::size_t j = 2; j < dim; ++j) x(i, j) = s.normal();
    }
    return x;
  }
};

// gauss_100: a weakly informative N(0, 10^2) prior on every coordinate (the
// widest posterior sd is 10).
struct WidePrior {
  double operator()(const Vec& x, Vec& g) const {
    double lp = 0.0;
    for (std::size_t j = 0; j < x.size(); ++j) {
      lp += -0.5 * x(j) * x(j) / 100.0 - std::log(10.0) - 0.5 * kLog2Pi;
      g(j) = -x(j) / 100.0;
    }
    return lp;
  }
  static Mat draws(const Key& key, std::size_t n, std::size_t dim) {
    Mat x = Mat::from_shape({n, dim});
    normal(key, std::span<double>(x.data(), x.size()));
    return x * 10.0;
  }
};

// log density - prior, and its gradient.
template <class Model, class Prior>
struct Likelihood {
  Model model;
  Prior prior;
  mutable Vec scratch;
  double operator()(const Vec& x, Vec& g) const {
    ensure_size(scratch, x.size());
    const double lp = prior(x, scratch);
    const double l = model(x, g);
    for (std::size_t j = 0; j < x.size(); ++j) g(j) -= scratch(j);
    return l - lp;
  }
};

template <class Model, class Prior>
void check_means(const char* name, std::size_t num_particles, int runs, int mcmc_steps,
                 int leapfrog, bool pooled) {
  auto model = Model::load();
  ASSERT_TRUE(model.ok()) << model.status();
  auto ref = model->reference();
  ASSERT_TRUE(ref.ok()) << ref.status();
  const std::size_t d = model->dim();
  for (Vec x : {Vec(xt::zeros<double>({d})), Vec(xt::ones<double>({d}) * 0.7)}) {
    auto gc = check_gradient(Prior{}, x);
    ASSERT_TRUE(gc.ok());
    EXPECT_LT(gc->max_relative_error, 1e-6) << name << " prior gradient";
  }
  Options options;
  options.num_mcmc_steps = mcmc_steps;
  options.num_threads = 2;
  hmc::Params params;
  params.num_integration_steps = leapfrog;
  adaptive_tempered::Sampler sampler(Prior{}, Likelihood<Model, Prior>{*model, Prior{}, {}},
                                     hmc::Kernel{}, params, options, {.target_ess = 0.5});
  std::vector<Vec> means;
  for (int r = 0; r < runs; ++r) {
    const Key key = split_one(make_key(31337), r);
    auto state = sampler.init(Prior::draws(fold_in(key, 0), num_particles, d));
    ASSERT_TRUE(state.ok()) << state.status();
    auto result = adaptive_tempered::run(fold_in(key, 1), sampler, *state);
    ASSERT_TRUE(result.ok()) << result.status();
    means.push_back(weighted_mean(result->state.particles));
    if (r == 0)
      std::printf("%s: %zu stages, final ess %.0f of %zu, last acceptance %.2f\n", name,
                  result->num_stages(), result->ess.back(), num_particles,
                  result->acceptance_rates.back());
  }
  Vec m = xt::zeros<double>({d}), v = xt::zeros<double>({d});
  for (std::size_t j = 0; j < d; ++j) {
    for (const Vec& mr : means) m(j) += mr(j) / runs;
    for (const Vec& mr : means) v(j) += (mr(j) - m(j)) * (mr(j) - m(j)) / (runs - 1);
  }
  double kappa = 0.0;
  for (std::size_t j = 0; j < d; ++j) kappa += v(j) / (ref->sd(j) * ref->sd(j)) / d;
  std::printf("%s: run-to-run variance of a mean = posterior variance / %.0f (pooled)\n", name,
              1.0 / kappa);
  double worst = 0.0, z2 = 0.0;
  for (std::size_t j = 0; j < d; ++j) {
    const double var_run = pooled ? kappa * ref->sd(j) * ref->sd(j) : v(j);
    const double mcse = std::sqrt(var_run / runs + ref->mcse_mean(j) * ref->mcse_mean(j));
    const double z = (m(j) - ref->mean(j)) / mcse;
    worst = std::max(worst, std::abs(z));
    z2 += z * z / d;
    EXPECT_LT(std::abs(z), 4.0) << name << " " << ref->names[j] << ": " << m(j) << " vs "
                                << ref->mean(j) << " mcse " << mcse;
  }
  std::printf("%s: %d runs of %zu particles, worst |mean - ref| = %.2f MCSE, mean z^2 %.2f\n",
              name, runs, num_particles, worst, z2);
}

TEST(PosteriorsSmc, EightSchoolsNc) {
  check_means<posteriors::EightSchoolsNc, EightSchoolsPrior>("eight_schools_nc", 1000, 20, 10, 8, false);
}

TEST(PosteriorsSmc, Gauss100) {
  check_means<posteriors::Gauss100, WidePrior>("gauss_100", 1000, 4, 5, 8, true);
}

}  // namespace
}  // namespace nutshell::smc
