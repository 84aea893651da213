#include "nutshell/mcmc/irmh.hpp"

#include <cmath>
#include <stdexcept>

#include <gtest/gtest.h>

#include "nutshell/core/algorithm.hpp"
#include "nutshell/run/scan.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/gaussian.hpp"
#include "tests/support/moments.hpp"

namespace nutshell {
namespace {

using testing::Gaussian;

/// N(mean, diag(sd^2)) as a proposal distribution (log density up to a constant).
struct DiagonalNormal {
  Vec mean, sd;
  void sample(const Key& key, Vec& out) const {
    normal(key, out);
    for (std::size_t i = 0; i < out.size(); ++i) out(i) = mean(i) + sd(i) * out(i);
  }
  double log_density(const Vec& x) const {
    double s = 0.0;
    for (std::size_t i = 0; i < x.size(); ++i) s += std::pow((x(i) - mean(i)) / sd(i), 2);
    return -0.5 * s;
  }
  std::size_t dim() const { return mean.size(); }
};

static_assert(irmh::ProposalDistribution<DiagonalNormal>);
static_assert(InPlaceSamplingAlgorithm<decltype(irmh::sampler(Gaussian::correlated_2d(), DiagonalNormal{}))>);

TEST(Irmh, TenDimensionalScalesWithOverdispersedNormal) {
  Gaussian target = Gaussian::scales_10d();
  const Vec sd = xt::sqrt(xt::diagonal(target.covariance()));
  auto alg = irmh::sampler(target, DiagonalNormal{xt::zeros<double>({10}), 1.5 * sd});
  auto s0 = alg.init(xt::ones<double>({10}));
  ASSERT_TRUE(s0.ok());
  auto run = run_inference_algorithm(make_key(41), alg, *s0, 60000);
  ASSERT_TRUE(run.ok()) << run.status();
  Mat kept = xt::view(run->positions, xt::range(100, 60000), xt::all());
  testing::expect_moments(kept, target.mean(), xt::diagonal(target.covariance()), 4.0, "irmh 10d");
  double acc = 0.0;
  for (const auto& i : run->infos) acc += i.is_accepted;
  std::printf("irmh 10d acceptance %.3f\n", acc / run->infos.size());
}

TEST(Irmh, BlackjaxCaseBWideProposal) {
  // Target N(1, 2^2), proposal N(1, 25^2), as in Blackjax's UnivariateNormalTest.
  Gaussian target(Vec{1.0}, Mat{{4.0}});
  auto alg = irmh::sampler(target, DiagonalNormal{Vec{1.0}, Vec{25.0}});
  auto s0 = alg.init(Vec{3.0});
  ASSERT_TRUE(s0.ok());
  auto run = run_inference_algorithm(make_key(42), alg, *s0, 50000);
  ASSERT_TRUE(run.ok());
  Mat kept = xt::view(run->positions, xt::range(5000, 50000), xt::all());
  testing::expect_moments(kept, Vec{1.0}, Vec{4.0}, 4.0, "irmh case B");
}

TEST(Irmh, IsRmhWithAnIndependentProposal) {
  // Bitwise the same transitions as rmh given the same proposal as a
  // general (asymmetric) proposal that ignores its starting point.
  Gaussian target = Gaussian::correlated_2d();
  DiagonalNormal q{Vec{0.0, 3.0}, Vec{2.0, 3.0}};
  auto as_rmh = rmh::proposal([&](const Key& k, const Vec&, Vec& to) { q.sample(k, to); },
                              [&](const Vec& to, const Vec&) { return q.log_density(to); });
  auto s0 = irmh::init(Vec{0.5, 2.0}, target);
  ASSERT_TRUE(s0.ok());
  irmh::State x = *s0;
  for (int k = 0; k < 50; ++k) {
    auto a = irmh::build_kernel()(make_key(k), x, target, q);
    auto b = rmh::build_kernel()(make_key(k), x, target, as_rmh);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_TRUE(a->state.position == b->state.position);
    EXPECT_EQ(a->info.acceptance_rate, b->info.acceptance_rate);
    x = a->state;
  }
}

TEST(Irmh, PurityAndNoAllocations) {
  Gaussian target = Gaussian::scales_10d();
  DiagonalNormal q{xt::zeros<double>({10}), 1.5 * xt::sqrt(xt::diagonal(target.covariance()))};
  auto s0 = irmh::init(xt::ones<double>({10}), target);
  ASSERT_TRUE(s0.ok());
  const irmh::State before = *s0;
  auto a = irmh::build_kernel()(make_key(4), *s0, target, q);
  auto b = irmh::build_kernel()(make_key(4), *s0, target, q);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a->state.position == b->state.position);
  EXPECT_TRUE(s0->position == before.position);
  EXPECT_EQ(s0->logdensity, before.logdensity);

  auto alg = irmh::sampler(target, q);
  irmh::State x = *s0, y = *s0;
  irmh::Info info;
  ASSERT_TRUE(alg.step_into(make_key(0), x, y, info).ok());
  irmh::Workspace ws;
  ASSERT_TRUE(irmh::build_kernel().step_into(make_key(0), x, target, q, y, info, ws).ok());
  testing::AllocationScope scope;
  for (int i = 1; i <= 100; ++i) {
    ASSERT_TRUE(alg.step_into(make_key(i), i % 2 ? y : x, i % 2 ? x : y, info).ok());
    ASSERT_TRUE(
        irmh::build_kernel().step_into(make_key(i), i % 2 ? y : x, target, q, i % 2 ? x : y, info, ws).ok());
  }
  EXPECT_EQ(scope.count(), 0);
}

TEST(Irmh, BadInputAndErrors) {
  Gaussian target = Gaussian::correlated_2d();
  auto s0 = irmh::init(Vec{0.0, 3.0}, target);
  ASSERT_TRUE(s0.ok());
  DiagonalNormal q3{xt::zeros<double>({3}), xt::ones<double>({3})};
  EXPECT_EQ(irmh::build_kernel()(make_key(0), *s0, target, q3).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(irmh::init(Vec{NAN, 0.0}, target).ok());

  struct Throwing {
    void sample(const Key&, Vec&) { throw std::runtime_error("cannot sample"); }
    double log_density(const Vec&) { return 0.0; }
  };
  auto r = irmh::build_kernel()(make_key(0), *s0, target, Throwing{});
  EXPECT_NE(r.status().message().find("cannot sample"), std::string::npos);
  auto thrower = [](const Vec&) -> double { throw std::runtime_error("density exploded"); };
  EXPECT_NE(irmh::init(Vec{0.0}, thrower).status().message().find("density exploded"),
            std::string::npos);
  irmh::State any{Vec{0.0}, 0.0};
  EXPECT_NE(irmh::build_kernel()(make_key(0), any, thrower, DiagonalNormal{Vec{0.0}, Vec{1.0}})
                .status().message().find("density exploded"),
            std::string::npos);
}

TEST(Irmh, NonFiniteProposalRejected) {
  auto half_line = [](const Vec& x) { return x(0) > 0 ? -x(0) : -INFINITY; };
  auto alg = irmh::sampler(half_line, DiagonalNormal{Vec{1.0}, Vec{2.0}});
  auto s0 = alg.init(Vec{0.5});
  ASSERT_TRUE(s0.ok());
  auto run = run_inference_algorithm(make_key(1), alg, *s0, 2000);
  ASSERT_TRUE(run.ok());
  EXPECT_GT(run->num_divergent, 100u);
  for (std::size_t i = 0; i < run->positions.shape(0); ++i) ASSERT_GT(run->positions(i, 0), 0.0);
}

}  // namespace
}  // namespace nutshell
