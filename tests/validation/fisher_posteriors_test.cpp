// Issue 13's correctness check: the Fisher adaptations (nutpie's
// fisher_diagonal and fisher_low_rank, 1000 warmup steps) then NUTS (1000
// draws) on 4 chains must pass the same validation as window adaptation
// (nuts_posteriors_test.cpp): every reference mean within 4 MCSE, every sd
// within 10%, R-hat < 1.01. The posterior and the adaptation are the first
// and second command-line arguments (see BUILD); an optional third is the
// root key (`--test_arg=K`). Run by hand with the default key and keys 1-4
// (all 8 targets, 40 runs): all pass; worst |z| 3.30, max R-hat 1.0070, at
// most 8 divergences in 4000 draws (eight_schools_nc).
//
// The MCSE of the comparison combines ours (posterior's mcse_mean on our 4
// chains) and the reference run's: sqrt(ours^2 + ref^2).
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "nutshell/adaptation/fisher_adaptation.hpp"
#include "nutshell/diagnostics/diagnostics.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/scan.hpp"
#include "tests/posteriors/posteriors.hpp"

namespace nutshell {
namespace {

std::string g_posterior;
bool g_low_rank = false;
std::uint64_t g_seed = 20261121;  // a third argument overrides it (calibration by hand)

constexpr std::size_t kChains = 4, kWarmup = 1000, kDraws = 1000;

struct Chains {
  diagnostics::Draws draws;
  std::size_t divergences = 0;
  std::vector<double> step_sizes;
};

template <class Model>
Chains run_chains(const Model& model) {
  Chains out;
  out.draws = diagnostics::Draws::from_shape({kChains, kDraws, model.dim()});
  const Key root = make_key(g_seed);
  for (std::size_t c = 0; c < kChains; ++c) {
    const Key chain_key = split_one(root, c);
    const auto keys = split<3>(chain_key);
    Model f = model;  // each chain owns its scratch buffers
    adaptation::FisherAdaptationOptions options;
    options.low_rank = g_low_rank;
    auto warmup = adaptation::fisher_adaptation(nuts::Kernel{}, f, options);
    auto adapted = warmup.run(keys[0], model.initial_point(keys[1]), kWarmup);
    EXPECT_TRUE(adapted.ok()) << adapted.status();
    if (!adapted.ok()) return out;
    out.step_sizes.push_back(adapted->parameters.step_size);
    auto sampler = nuts::sampler(f, adapted->parameters);
    auto run = run_inference_algorithm(keys[2], sampler, adapted->state, kDraws);
    EXPECT_TRUE(run.ok()) << run.status();
    if (!run.ok()) return out;
    out.divergences += run->num_divergent;
    xt::view(out.draws, c, xt::all(), xt::all()) = run->positions;
  }
  return out;
}

template <class Model>
void check_against_reference(bool expect_success) {
  auto model = Model::load();
  ASSERT_TRUE(model.ok()) << model.status();
  auto ref = model->reference();
  ASSERT_TRUE(ref.ok()) << ref.status();
  const Chains chains = run_chains(*model);
  auto rhat = diagnostics::rhat(chains.draws);
  auto mcse = diagnostics::mcse_mean(chains.draws);
  ASSERT_TRUE(rhat.ok() && mcse.ok());
  const auto names = model->names();
  // Exact answers where the posterior has them (the funnel's Stan run is biased).
  const Vec& ref_mean = ref->has_exact() ? ref->exact_mean : ref->mean;
  const Vec& ref_sd = ref->has_exact() ? ref->exact_sd : ref->sd;
  std::size_t worst = 0;
  double worst_z = 0.0;
  int failures = 0;
  for (std::size_t j = 0; j < model->dim(); ++j) {
    auto column = xt::view(chains.draws, xt::all(), xt::all(), j);
    const double mean = xt::mean(column)();
    const double sd = std::sqrt(xt::variance(column)() * (kChains * kDraws) / (kChains * kDraws - 1.0));
    const double ref_mcse = ref->has_exact() ? 0.0 : ref->mcse_mean(j);
    const double se = std::sqrt((*mcse)(j) * (*mcse)(j) + ref_mcse * ref_mcse);
    const double z = std::abs(mean - ref_mean(j)) / se;
    if (z > worst_z) worst_z = z, worst = j;
    if (!expect_success) continue;
    failures += z >= 4.0;
    EXPECT_LT(z, 4.0) << names[j] << ": mean " << mean << " vs reference " << ref_mean(j)
                      << " (combined mcse " << se << ")";
    EXPECT_LT(std::abs(sd / ref_sd(j) - 1.0), 0.10)
        << names[j] << ": sd " << sd << " vs reference " << ref_sd(j);
    EXPECT_LT((*rhat)(j), 1.01) << names[j];
  }
  const std::string model_name(Model::kName);
  std::printf("%s (%s): %zu divergences, worst |z| %.2f at %s, max R-hat %.4f, step sizes",
              model_name.c_str(),
              g_low_rank ? "fisher_low_rank" : "fisher_diagonal", chains.divergences, worst_z, names[worst].c_str(), xt::amax(*rhat)());
  for (double e : chains.step_sizes) std::printf(" %.3g", e);
  std::printf("\n");
  if (expect_success) {
    // The references ran at adapt_delta 0.95 without a divergence; at the
    // default 0.8 a rare one in eight schools' leftover funnel is normal
    // (Stan behaves the same), but more than 1% would mean a broken tree.
    EXPECT_LE(chains.divergences, kChains * kDraws / 100);
  } else {
    // The centred funnel defeats NUTS in the neck: the honest outcome is
    // that it says so.
    EXPECT_GT(chains.divergences, 0u);
  }
}

TEST(FisherAdaptationOnReferencePosteriors, RecoversTheReference) {
  using namespace posteriors;
  if (g_posterior == "gauss_100") return check_against_reference<Gauss100>(true);
  if (g_posterior == "corr_gauss_50") return check_against_reference<CorrGauss50>(true);
  if (g_posterior == "eight_schools_nc") return check_against_reference<EightSchoolsNc>(true);
  if (g_posterior == "logistic_1000x25") return check_against_reference<Logistic1000x25>(true);
  if (g_posterior == "funnel_10") return check_against_reference<Funnel10>(false);
  FAIL() << "unknown posterior '" << g_posterior << "'";
}

}  // namespace
}  // namespace nutshell

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc > 1) nutshell::g_posterior = argv[1];
  if (argc > 2) nutshell::g_low_rank = std::string(argv[2]) == "fisher_low_rank";
  if (argc > 3) nutshell::g_seed = std::stoull(argv[3]);
  return RUN_ALL_TESTS();
}
