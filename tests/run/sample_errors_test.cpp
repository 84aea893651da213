// Errors that lose nothing: a density that throws std::domain_error (or
// RecoverableError) or returns NaN rejects that proposal and the chain goes
// on; any other exception ends only its own chain. Bad shapes are errors.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <memory>
#include <stdexcept>

#include "nutshell/mcmc/hmc.hpp"
#include "nutshell/mcmc/mala.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/resume.hpp"
#include "nutshell/run/sample.hpp"
#include "tests/support/gaussian.hpp"

namespace nutshell {
namespace {

using testing::Gaussian;

SampleOptions small(std::size_t warmup = 200, std::size_t samples = 200) {
  SampleOptions o;
  o.num_chains = 4;
  o.num_warmup = warmup;
  o.num_samples = samples;
  o.progress_bar = false;
  return o;
}

/// A standard normal that throws `E` at about one point in `every`: a pure
/// function of the position (its first coordinate's digits), so the runs
/// stay reproducible.
template <class E>
struct OccasionallyThrows {
  Gaussian g = Gaussian::independent(Vec{1.0, 1.0, 1.0});
  double every = 1000.0;
  double operator()(const Vec& x, Vec& grad) {
    const double u = std::abs(x(0)) * 1e6;
    if (u - std::floor(u) < 1.0 / every) throw E("cannot evaluate here");
    return g(x, grad);
  }
};

/// A standard normal that returns NaN at about one point in 1000.
struct OccasionallyNaN {
  Gaussian g = Gaussian::independent(Vec{1.0, 1.0, 1.0});
  double operator()(const Vec& x, Vec& grad) {
    const double u = std::abs(x(0)) * 1e6;
    if (u - std::floor(u) < 1e-3) return std::numeric_limits<double>::quiet_NaN();
    return g(x, grad);
  }
};

TEST(SampleErrors, DomainErrorRejectsTheProposalAndEveryChainFinishes) {
  auto d = sample(make_key(11), OccasionallyThrows<std::domain_error>{}, Vec{0.0, 0.0, 0.0},
                  small(500, 500));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->status.ok()) << d->status;
  EXPECT_EQ(d->num_chains(), 4u);
  EXPECT_EQ(d->num_draws(), 500u);
  EXPECT_GT(d->num_rejected_evaluations, 0u);
  std::uint64_t sum = 0;
  for (const auto& a : d->accounting)
    sum += a.num_rejected_evaluations + a.num_rejected_evaluations_warmup;
  EXPECT_EQ(sum, d->num_rejected_evaluations);
  // The draws are still right: |mean| within 5 MCSE on every coordinate.
  ASSERT_TRUE(d->summary.ok());
  for (const auto& row : d->summary->rows)
    EXPECT_LT(std::abs(row.mean), 5.0 * row.sd / std::sqrt(row.ess_bulk)) << row.name;
}

TEST(SampleErrors, RecoverableErrorAndNaNAreRejectionsForEveryGradientKernel) {
  auto a = sample(make_key(12), OccasionallyThrows<RecoverableError>{}, Vec{0.0, 0.0, 0.0},
                  small(200, 300));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(a->status.ok()) << a->status;
  EXPECT_GT(a->num_rejected_evaluations, 0u);
  auto b = sample(make_key(13), OccasionallyNaN{}, Vec{0.0, 0.0, 0.0}, small(200, 300));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_TRUE(b->status.ok()) << b->status;
  EXPECT_GT(b->num_rejected_evaluations, 0u);
  // hmc and mala reject the proposal (every 100th point, to be sure to hit).
  auto c = sample(make_key(14), mala::build_kernel(),
                  OccasionallyThrows<std::domain_error>{.every = 100.0}, Vec{0.0, 0.0, 0.0},
                  small(200, 500));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->status.ok()) << c->status;
  EXPECT_GT(c->num_rejected_evaluations, 0u);
  auto h = sample(make_key(15), hmc::build_kernel(),
                  OccasionallyThrows<std::domain_error>{.every = 100.0}, Vec{0.0, 0.0, 0.0},
                  small(200, 300));
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_TRUE(h->status.ok()) << h->status;
  EXPECT_GT(h->num_rejected_evaluations, 0u);
}

/// Throws std::runtime_error at the `at`-th call summed over every copy.
struct ThrowsOnceGlobally {
  Gaussian g = Gaussian::independent(Vec{1.0, 1.0});
  std::shared_ptr<std::atomic<long>> calls = std::make_shared<std::atomic<long>>(0);
  long at = 15000;
  double operator()(const Vec& x, Vec& grad) {
    if (calls->fetch_add(1) == at) throw std::runtime_error("disk on fire");
    return g(x, grad);
  }
};

TEST(SampleErrors, AnyOtherExceptionEndsOnlyItsChainWithMessageAndStep) {
  SampleOptions o = small(300, 1000);
  o.num_threads = 1;  // chains in order: the throw lands in chain 1 or 2's sampling
  auto d = sample(make_key(16), ThrowsOnceGlobally{}, Vec{0.0, 0.0}, o);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_FALSE(d->status.ok());
  EXPECT_NE(d->status.message().find("disk on fire"), std::string::npos) << d->status;
  EXPECT_NE(d->status.message().find("step "), std::string::npos) << d->status;
  EXPECT_EQ(d->num_chains(), 3u);
  EXPECT_EQ(d->num_draws(), 1000u);  // every other chain keeps all its draws
}

TEST(SampleErrors, PerChainStartsOfDifferentLengthsAreInvalidArgument) {
  std::vector<Vec> starts = {Vec{0.0, 3.0}, Vec{1.0}, Vec{0.0, 1.0}};
  auto d = sample(make_key(17), Gaussian::correlated_2d(), starts, small(50, 50));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << d.status();
}

TEST(SampleErrors, ResumingACheckpointOfALargerModelIsInvalidArgument) {
  auto big = sample(make_key(18), Gaussian::scales_10d(), Vec(xt::zeros<double>({10})),
                    small(50, 20));
  ASSERT_TRUE(big.ok()) << big.status();
  auto r = resume(big->checkpoints, nuts::Kernel{}, Gaussian::correlated_2d(), small(0, 20));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
}

}  // namespace
}  // namespace nutshell
