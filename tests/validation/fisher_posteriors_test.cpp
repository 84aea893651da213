// Issue 13's correctness check: the Fisher adaptations (nutpie's
// fisher_diagonal and fisher_low_rank, and fisher_auto which picks one at the
// end of warmup; 1000 warmup steps) then NUTS (1000 draws) on 4 chains must
// pass the same validation as window adaptation (reference_check.hpp: every
// reference mean within 4 MCSE, every sd within 10%, R-hat < 1.01). The
// posterior and the adaptation are the first and second command-line
// arguments (see BUILD); an optional third is the root key
// (`--test_arg=K`). Run by hand with the default key and keys 1-4 (the 8
// fisher_diagonal / fisher_low_rank targets on the shared posteriors, 40
// runs): all pass; worst |z| 3.30, max R-hat 1.0070, at most 8 divergences
// in 4000 draws (eight_schools_nc). Again after dual averaging took the
// symmetric statistic late in warmup (session 12; all 10 targets, the same
// 5 keys, OpenBLAS's autodetected kernels as under bazel, 50 runs): all
// pass; worst |z| 3.11, max R-hat 1.0070, at most 4 divergences.
#include <string>

#include <gtest/gtest.h>

#include "nutshell/adaptation/fisher_adaptation.hpp"
#include "tests/posteriors/ad/specs_real_data.hpp"
#include "tests/posteriors/posteriors.hpp"
#include "tests/validation/reference_check.hpp"

namespace nutshell {
namespace {

std::string g_posterior;
std::string g_adaptation = "fisher_diagonal";
std::uint64_t g_seed = 20261121;  // a third argument overrides it (calibration by hand)

template <class Model>
void check_against_reference(bool expect_success) {
  auto model = Model::load();
  ASSERT_TRUE(model.ok()) << model.status();
  const auto chains = validation::run_chains(*model, g_seed, [](Model& f) {
    adaptation::FisherAdaptationOptions options;
    options.low_rank = g_adaptation != "fisher_diagonal";
    options.choose_automatically = g_adaptation == "fisher_auto";
    return adaptation::fisher_adaptation(nuts::Kernel{}, f, options);
  });
  validation::check_against_reference(
      *model, chains, std::string(Model::kName) + " (" + g_adaptation + ")", expect_success);
}

TEST(FisherAdaptationOnReferencePosteriors, RecoversTheReference) {
  using namespace posteriors;
  if (g_posterior == "gauss_100") return check_against_reference<Gauss100>(true);
  if (g_posterior == "corr_gauss_50") return check_against_reference<CorrGauss50>(true);
  if (g_posterior == "eight_schools_nc") return check_against_reference<EightSchoolsNc>(true);
  if (g_posterior == "logistic_1000x25") return check_against_reference<Logistic1000x25>(true);
  if (g_posterior == "funnel_10") return check_against_reference<Funnel10>(false);
  // The real-data posteriors (tests/posteriors/ad/specs_real_data.hpp).
  if (g_posterior == "mtcars_uncentred") return check_against_reference<MtcarsUncentred>(true);
  if (g_posterior == "stackloss_t") return check_against_reference<StacklossT>(true);
  if (g_posterior == "warpbreaks_pln") return check_against_reference<WarpbreaksPln>(true);
  if (g_posterior == "chickweight_hier") return check_against_reference<ChickweightHier>(true);
  FAIL() << "unknown posterior '" << g_posterior << "'";
}

}  // namespace
}  // namespace nutshell

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc > 1) nutshell::g_posterior = argv[1];
  if (argc > 2) nutshell::g_adaptation = argv[2];
  if (argc > 3) nutshell::g_seed = std::stoull(argv[3]);
  return RUN_ALL_TESTS();
}
