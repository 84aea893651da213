// barker, slice and irmh on eight_schools_nc (10-D, hierarchical, heavy-tailed
// tau) against the Stan reference means.
#include <cmath>
#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "nutshell/mcmc/barker.hpp"
#include "nutshell/mcmc/irmh.hpp"
#include "nutshell/run/scan.hpp"
#include "nutshell/mcmc/slice.hpp"
#include "tests/posteriors/posteriors.hpp"
#include "tests/support/moments.hpp"

namespace nutshell {
namespace {

using posteriors::EightSchoolsNc;
using posteriors::Reference;

struct Fixture {
  EightSchoolsNc model;
  Reference ref;
};

absl::StatusOr<Fixture> load() {
  auto model = EightSchoolsNc::load();
  if (!model.ok()) return model.status();
  auto ref = model->reference();
  if (!ref.ok()) return ref.status();
  return Fixture{*std::move(model), *std::move(ref)};
}

// Each coordinate's mean within 4 combined MCSEs (ours by batch means, the
// reference's from Stan), and its sd within 10% as a sanity check.
void expect_reference_means(const Mat& draws, const Reference& ref, const std::string& label) {
  for (std::size_t j = 0; j < ref.mean.size(); ++j) {
    const auto series = testing::column(draws, j);
    const auto m = testing::batch_means(series);
    const double se = std::sqrt(m.mcse * m.mcse + ref.mcse_mean(j) * ref.mcse_mean(j));
    EXPECT_LT(std::abs(m.mean - ref.mean(j)), 4.0 * se)
        << label << " " << ref.names[j] << ": " << m.mean << " vs " << ref.mean(j) << " (mcse "
        << m.mcse << ")";
    double ss = 0.0;
    for (double x : series) ss += (x - m.mean) * (x - m.mean);
    const double sd = std::sqrt(ss / static_cast<double>(series.size() - 1));
    EXPECT_LT(std::abs(sd / ref.sd(j) - 1.0), 0.1) << label << " sd of " << ref.names[j];
  }
}

// Drops the first `burn_in` rows.
Mat after(const Mat& draws, std::size_t burn_in) {
  return xt::view(draws, xt::range(burn_in, draws.shape(0)), xt::all());
}

TEST(EightSchools, Barker) {
  auto loaded = load();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  auto& [model, ref] = *loaded;
  auto metric = Metric::diagonal(ref.sd * ref.sd);
  ASSERT_TRUE(metric.ok());
  auto alg = barker::sampler(model, barker::Params{1.0, *metric});
  auto s0 = alg.init(model.initial_point());
  ASSERT_TRUE(s0.ok());
  auto run = run_inference_algorithm(make_key(51), alg, *s0, 400000, RunOptions{.thinning = 10});
  ASSERT_TRUE(run.ok()) << run.status();
  expect_reference_means(after(run->positions, 500), ref, "barker");
}

TEST(EightSchools, SliceCoordinatewise) {
  auto loaded = load();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  auto& [model, ref] = *loaded;
  auto alg = slice::sampler(ValueOnly(model), slice::Params{.width = ref.sd});
  auto s0 = alg.init(model.initial_point());
  ASSERT_TRUE(s0.ok());
  auto run = run_inference_algorithm(make_key(52), alg, *s0, 60000);
  ASSERT_TRUE(run.ok()) << run.status();
  expect_reference_means(after(run->positions, 500), ref, "slice");
}

/// A multivariate Student-t with diagonal scale: heavier tails than the
/// posterior, as an independence proposal needs.
struct DiagonalStudentT {
  Vec location, scale;
  double df = 5.0;
  void sample(const Key& key, Vec& out) const {
    Stream s(key);
    const double w = std::sqrt(df / (2.0 * s.gamma(df / 2.0)));  // 1 / sqrt(chi2_df / df)
    for (std::size_t i = 0; i < out.size(); ++i) out(i) = location(i) + scale(i) * w * s.normal();
  }
  double log_density(const Vec& x) const {
    double q = 0.0;
    for (std::size_t i = 0; i < x.size(); ++i) q += std::pow((x(i) - location(i)) / scale(i), 2);
    return -0.5 * (df + static_cast<double>(x.size())) * std::log1p(q / df);
  }
  std::size_t dim() const { return location.size(); }
};

TEST(EightSchools, IrmhStudentT) {
  auto loaded = load();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  auto& [model, ref] = *loaded;
  auto alg = irmh::sampler(ValueOnly(model), DiagonalStudentT{ref.mean, 1.3 * ref.sd, 5.0});
  auto s0 = alg.init(model.initial_point());
  ASSERT_TRUE(s0.ok());
  auto run = run_inference_algorithm(make_key(53), alg, *s0, 400000, RunOptions{.thinning = 10});
  ASSERT_TRUE(run.ok()) << run.status();
  double acc = 0.0;
  for (const auto& i : run->infos) acc += i.acceptance_rate;
  std::printf("irmh eight schools mean acceptance %.3f\n", acc / run->infos.size());
  expect_reference_means(after(run->positions, 100), ref, "irmh");
}

}  // namespace
}  // namespace nutshell
