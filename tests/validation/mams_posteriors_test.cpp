// Issue 16's correctness check for MAMS (mcmc/mams.hpp) run by `sample`
// with its own warmup (adaptation/mams_adaptation.hpp): 4 chains, 1000
// warmup transitions, 2000 draws (MAMS's draws are cheap), then every
// reference mean within 4 MCSE, every sd within 10% and R-hat < 1.01, as
// nuts_posteriors_test.cpp. The posterior is the first command-line
// argument (see BUILD); an optional second is the root key and a third
// max_l_growth (`--test_arg=...`), for calibration by hand. Run by hand with
// the default key and keys 1-4 (4 posteriors, 20 runs): all pass; worst |z|
// 3.03, worst sd error 4.3%, max R-hat 1.0086 (gauss_100, whose min bulk
// ESS ranges 526-1088 over the keys), no divergence.
//
// gp_student_t_100 (2026-12-07) runs 8 chains x (1000 + 4000): with 4 x 2000
// key 3 failed R-hat on log_ell (1.014), with 8 x 2000 again (1.011), and
// with 4 x 4000 the default key's log_eta sd was 12.6% high (one chain's
// excursion, min bulk ESS 616). 8 x 4000 on the default key and keys 1-4:
// all pass, worst |z| 2.38-2.98, worst sd error 1.8-5.7%, max R-hat
// <= 1.0033, min bulk ESS >= 1737, no divergence; 63-76 s on 2 threads.
//
// The MCSE of the comparison combines ours (posterior's mcse_mean on our 4
// chains) and the reference run's: sqrt(ours^2 + ref^2).
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "nutshell/diagnostics/diagnostics.hpp"
#include "nutshell/mcmc/mams.hpp"
#include "nutshell/run/sample.hpp"
#include "tests/posteriors/posteriors.hpp"

namespace nutshell {
namespace {

std::string g_posterior;
std::uint64_t g_seed = 20261206;
double g_l_growth = 0.0;  // a third argument: max_l_growth (calibration by hand)

// The centred funnel_10 is checked as nuts_posteriors_test.cpp checks it
// (reference_check.hpp, expect_success = false): no sampler is expected to
// recover it, so the only check is that the run says it failed. NUTS says
// so with divergences; GHMC's single leapfrog steps and MAMS's trajectories
// rarely diverge there (none on funnel_10), so here a failure flagged by
// any of the standard diagnostics counts (Vehtari et al. 2021): a
// divergence, R-hat >= 1.01, or a min bulk ESS below 100 per chain.
template <class Model>
void check_against_reference() {
  const bool expect_success = Model::kName != std::string_view("funnel_10");
  auto model = Model::load();
  ASSERT_TRUE(model.ok()) << model.status();
  auto ref = model->reference();
  ASSERT_TRUE(ref.ok()) << ref.status();
  SampleOptions options;
  // gp_student_t_100's hyperparameters mix slowest (min bulk ESS ~650-900
  // in 4 x 2000, R-hat up to 1.014 on log_ell): twice the chains there.
  const bool gp = Model::kName == std::string_view("gp_student_t_100");
  options.num_chains = gp ? 8 : 4;
  options.num_warmup = 1000;
  options.num_samples = gp ? 4000 : 2000;
  options.progress_bar = false;
  if (g_l_growth > 0.0) options.microcanonical.mams.max_l_growth = g_l_growth;
  auto draws = sample(make_key(g_seed), mams::Kernel{}, *model, model->initial_point(), options);
  ASSERT_TRUE(draws.ok()) << draws.status();
  ASSERT_TRUE(draws->status.ok()) << draws->status;
  const diagnostics::Draws& x = draws->positions;
  const std::size_t n = x.shape(0) * x.shape(1);
  auto rhat = diagnostics::rhat(x);
  auto mcse = diagnostics::mcse_mean(x);
  ASSERT_TRUE(rhat.ok() && mcse.ok());
  const auto names = model->names();
  const Vec& ref_mean = ref->has_exact() ? ref->exact_mean : ref->mean;
  const Vec& ref_sd = ref->has_exact() ? ref->exact_sd : ref->sd;
  double worst_z = 0.0, worst_sd = 0.0;
  for (std::size_t j = 0; j < model->dim(); ++j) {
    auto column = xt::view(x, xt::all(), xt::all(), j);
    const double mean = xt::mean(column)();
    const double sd = std::sqrt(xt::variance(column)() * n / (n - 1.0));
    const double ref_mcse = ref->has_exact() ? 0.0 : ref->mcse_mean(j);
    const double se = std::hypot((*mcse)(j), ref_mcse);
    const double z = std::abs(mean - ref_mean(j)) / se;
    worst_z = std::max(worst_z, z);
    worst_sd = std::max(worst_sd, std::abs(sd / ref_sd(j) - 1.0));
    if (!expect_success) continue;
    EXPECT_LT(z, 4.0) << names[j] << ": mean " << mean << " vs reference " << ref_mean(j)
                      << " (combined mcse " << se << ")";
    EXPECT_LT(std::abs(sd / ref_sd(j) - 1.0), 0.10)
        << names[j] << ": sd " << sd << " vs reference " << ref_sd(j);
    EXPECT_LT((*rhat)(j), 1.01) << names[j];
  }
  std::uint64_t gradients = 0;
  for (const auto& a : draws->accounting)
    gradients += a.gradient_evaluations + a.gradient_evaluations_warmup +
                 a.gradient_evaluations_step_size_search;
  auto bulk = diagnostics::ess_bulk(x);
  ASSERT_TRUE(bulk.ok());
  std::printf("%s (mams): worst |z| %.2f, worst sd error %.3f, max R-hat %.4f, min bulk ESS %.0f, "
              "%zu divergences, %llu gradients; step size / L per chain:",
              std::string(Model::kName).c_str(), worst_z, worst_sd, xt::amax(*rhat)(),
              xt::amin(*bulk)(),
              draws->num_divergent, static_cast<unsigned long long>(gradients));
  for (const auto& p : draws->params) std::printf(" %.3g/%.3g", p.step_size, p.L);
  std::printf("\n");
  if (expect_success)
    EXPECT_LE(draws->num_divergent, n / 100);
  else
    EXPECT_TRUE(draws->num_divergent > 0 || xt::amax(*rhat)() >= 1.01 ||
                xt::amin(*bulk)() < 100.0 * static_cast<double>(x.shape(0)))
        << "funnel_10: no divergence and R-hat < 1.01: the failure went unflagged";
}

TEST(MamsOnReferencePosteriors, RecoversTheReference) {
  using namespace posteriors;
  if (g_posterior == "gauss_100") return check_against_reference<Gauss100>();
  if (g_posterior == "corr_gauss_50") return check_against_reference<CorrGauss50>();
  if (g_posterior == "eight_schools_nc") return check_against_reference<EightSchoolsNc>();
  if (g_posterior == "logistic_1000x25") return check_against_reference<Logistic1000x25>();
  if (g_posterior == "gp_student_t_100") return check_against_reference<GpStudentT100>();
  if (g_posterior == "funnel_10") return check_against_reference<Funnel10>();
  FAIL() << "unknown posterior '" << g_posterior << "'";
}

}  // namespace
}  // namespace nutshell

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc > 1) nutshell::g_posterior = argv[1];
  if (argc > 2) nutshell::g_seed = std::stoull(argv[2]);
  if (argc > 3) nutshell::g_l_growth = std::stod(argv[3]);
  return RUN_ALL_TESTS();
}
