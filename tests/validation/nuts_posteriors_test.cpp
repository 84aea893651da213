// Issue 3's acceptance test: Stan-style window adaptation (1000 steps) then
// NUTS (1000 draws) on 4 chains must reproduce the reference posteriors of
// long Stan runs: every mean within 4 MCSE, every sd within 10%, R-hat < 1.01
// (the checks: reference_check.hpp). The posterior is chosen by the first
// command-line argument (see BUILD).
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "nutshell/adaptation/window_adaptation.hpp"
#include "tests/posteriors/ad/all.hpp"
#include "tests/posteriors/posteriors.hpp"
#include "tests/validation/reference_check.hpp"

namespace nutshell {
namespace {

std::string g_posterior;
std::uint64_t g_seed = 20261121;  // the root key; a second argument replaces it

template <class Model>
void check_against_reference(bool expect_success) {
  auto model = Model::load();
  ASSERT_TRUE(model.ok()) << model.status();
  const bool dense = Model::kDenseMetricAdvised;
  const auto chains = validation::run_chains(*model, g_seed, [dense](Model& f) {
    adaptation::WindowAdaptationOptions options;
    options.is_mass_matrix_diagonal = !dense;
    return adaptation::window_adaptation(nuts::Kernel{}, f, options);
  });
  validation::check_against_reference(*model, chains, std::string(Model::kName), expect_success);
}

TEST(NutsOnReferencePosteriors, RecoversTheReference) {
  using namespace posteriors;
  if (g_posterior == "gauss_100") return check_against_reference<Gauss100>(true);
  if (g_posterior == "corr_gauss_50") return check_against_reference<CorrGauss50>(true);
  if (g_posterior == "eight_schools_nc") return check_against_reference<EightSchoolsNc>(true);
  if (g_posterior == "logistic_1000x25") return check_against_reference<Logistic1000x25>(true);
  if (g_posterior == "funnel_10") return check_against_reference<Funnel10>(false);
  // The same posteriors written once (layout + distributions + AD).
  if (g_posterior == "gauss_100_ad") return check_against_reference<Gauss100Ad>(true);
  if (g_posterior == "corr_gauss_50_ad") return check_against_reference<CorrGauss50Ad>(true);
  if (g_posterior == "eight_schools_nc_ad") return check_against_reference<EightSchoolsNcAd>(true);
  if (g_posterior == "logistic_1000x25_ad") return check_against_reference<Logistic1000x25Ad>(true);
  if (g_posterior == "funnel_10_ad") return check_against_reference<Funnel10Ad>(false);
  if (g_posterior == "gp_student_t_100") return check_against_reference<GpStudentT100>(true);
  if (g_posterior == "gp_student_t_100_ad") return check_against_reference<GpStudentT100Ad>(true);
  FAIL() << "unknown posterior '" << g_posterior << "'";
}

}  // namespace
}  // namespace nutshell

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc > 1) nutshell::g_posterior = argv[1];
  if (argc > 2) nutshell::g_seed = std::stoull(argv[2]);
  return RUN_ALL_TESTS();
}
