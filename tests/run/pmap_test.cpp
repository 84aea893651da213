#include "nutshell/run/pmap.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "nutshell/adaptation/window_adaptation.hpp"
#include "nutshell/mcmc/hmc.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/scan.hpp"
#include "tests/support/gaussian.hpp"

namespace nutshell {
namespace {

using testing::Gaussian;

// One NUTS chain of `n` draws from chain key k: what each pmap task does.
absl::StatusOr<Mat> nuts_chain(const Key& k, std::size_t n) {
  auto alg = nuts::sampler(Gaussian::correlated_2d(), nuts::Params{0.4, Metric::identity(2)});
  auto s0 = alg.init(Vec{0.5, 2.0});
  if (!s0.ok()) return s0.status();
  auto run = run_inference_algorithm(k, alg, *s0, n);
  if (!run.ok()) return run.status();
  return std::move(run->positions);
}

void expect_bitwise_equal(const Mat& a, const Mat& b) {
  ASSERT_EQ(a.shape(), b.shape());
  for (std::size_t i = 0; i < a.size(); ++i)
    ASSERT_EQ(a.data()[i], b.data()[i]) << "entry " << i;  // exact, not approximate
}

TEST(Pmap, ResultsAreBitwiseIdenticalForAnyThreadCount) {
  const Key key = make_key(11);
  auto task = [](std::size_t, const Key& k) { return nuts_chain(k, 300); };
  auto one = pmap(key, 7, task, PmapOptions{.num_threads = 1});
  auto two = pmap(key, 7, task, PmapOptions{.num_threads = 2});
  auto many = pmap(key, 7, task, PmapOptions{.num_threads = 5});
  auto dflt = pmap(key, 7, task);
  ASSERT_TRUE(one.ok() && two.ok() && many.ok() && dflt.ok()) << two.status;
  for (std::size_t c = 0; c < 7; ++c) {
    expect_bitwise_equal(*one.chains[c], *two.chains[c]);
    expect_bitwise_equal(*one.chains[c], *many.chains[c]);
    expect_bitwise_equal(*one.chains[c], *dflt.chains[c]);
  }
  // Chains differ from each other (each has its own key).
  EXPECT_NE((*one.chains[0])(299, 0), (*one.chains[1])(299, 0));
}

TEST(Pmap, ChainCUsesSplitOneOfTheKey) {
  const Key key = make_key(12);
  auto r = pmap(key, 3, [](std::size_t, const Key& k) { return nuts_chain(k, 50); });
  ASSERT_TRUE(r.ok());
  for (std::size_t c = 0; c < 3; ++c) {
    auto alone = nuts_chain(split_one(key, c), 50);
    ASSERT_TRUE(alone.ok());
    expect_bitwise_equal(*r.chains[c], *alone);
  }
}

// A density that throws after a number of evaluations when armed: chain 2
// arms it, the others do not.
struct FragileGaussian {
  long fail_after = -1;
  long calls = 0;
  double operator()(const Vec& x, Vec& g) {
    if (fail_after >= 0 && ++calls > fail_after) throw std::runtime_error("model blew up");
    g = -x;
    return -0.5 * ops::squared_norm(x);
  }
};

TEST(Pmap, AFailingChainDoesNotBringTheOthersDown) {
  auto task = [](std::size_t c, const Key& k) -> absl::StatusOr<Mat> {
    FragileGaussian f;
    if (c == 2) f.fail_after = 200;
    auto alg = hmc::sampler(f, hmc::Params{0.3, Metric::identity(3), 5});
    Vec x0 = {0.1, 0.2, 0.3};
    if (c == 4) x0(1) = std::numeric_limits<double>::quiet_NaN();  // invalid start
    auto s0 = alg.init(x0);
    if (!s0.ok()) return s0.status();
    auto run = run_inference_algorithm(k, alg, *s0, 200);
    if (!run.ok()) return run.status();
    return std::move(run->positions);
  };
  for (std::size_t threads : {1u, 2u}) {
    auto r = pmap(make_key(13), 6, task, PmapOptions{.num_threads = threads});
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.num_failed(), 2u);
    ASSERT_FALSE(r.chains[2].ok());
    ASSERT_FALSE(r.chains[4].ok());
    EXPECT_NE(r.chains[2].status().message().find("chain 2"), std::string::npos);
    EXPECT_NE(r.chains[2].status().message().find("model blew up"), std::string::npos)
        << r.chains[2].status();
    EXPECT_EQ(r.chains[4].status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(r.status.message().find("2 of 6 chains failed"), std::string::npos) << r.status;
    EXPECT_NE(r.status.message().find("chain 2"), std::string::npos);
    EXPECT_NE(r.status.message().find("chain 4"), std::string::npos);
    for (std::size_t c : {0u, 1u, 3u, 5u}) {
      ASSERT_TRUE(r.chains[c].ok()) << r.chains[c].status();
      EXPECT_EQ(r.chains[c]->shape(0), 200u);
    }
  }
}

TEST(Pmap, AnExceptionEscapingTheTaskFailsOnlyItsChain) {
  auto r = pmap(make_key(14), 4, [](std::size_t c, const Key&) -> int {
    if (c == 1) throw std::logic_error("bad task");
    return static_cast<int>(c) * 10;
  });
  EXPECT_FALSE(r.ok());
  ASSERT_FALSE(r.chains[1].ok());
  EXPECT_NE(r.chains[1].status().message().find("chain 1 threw: bad task"), std::string::npos);
  EXPECT_EQ(*r.chains[3], 30);
}

// Each chain gets a fresh copy of the task: state kept in the functor (a
// bound sampler's scratch, a counter) never leaks from one chain to the next,
// whatever thread ran what before.
struct CountingTask {
  int calls = 0;
  int operator()(std::size_t, const Key&) { return ++calls; }
};

TEST(Pmap, EveryChainGetsAFreshCopyOfTheTask) {
  for (std::size_t threads : {1u, 3u}) {
    auto r = pmap(make_key(15), 9, CountingTask{}, PmapOptions{.num_threads = threads});
    ASSERT_TRUE(r.ok());
    for (const auto& c : r.chains) EXPECT_EQ(*c, 1);
  }
}

TEST(Pmap, ZeroChainsIsAnEmptySuccess) {
  auto r = pmap(make_key(16), 0, [](std::size_t, const Key&) { return 1; });
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.chains.empty());
}

TEST(Pmap, WarmupPlusSamplingIsAlsoThreadCountInvariant) {
  auto task = [](std::size_t, const Key& k) -> absl::StatusOr<Mat> {
    auto warmup = adaptation::window_adaptation(nuts::Kernel{}, Gaussian::scales_10d());
    auto adapted = warmup.run(split_one(k, 0), xt::ones<double>({10}), 200);
    if (!adapted.ok()) return adapted.status();
    auto alg = nuts::sampler(Gaussian::scales_10d(), adapted->parameters);
    auto run = run_inference_algorithm(split_one(k, 1), alg, adapted->state, 100);
    if (!run.ok()) return run.status();
    return std::move(run->positions);
  };
  auto one = pmap(make_key(17), 3, task, PmapOptions{.num_threads = 1});
  auto two = pmap(make_key(17), 3, task, PmapOptions{.num_threads = 2});
  ASSERT_TRUE(one.ok() && two.ok()) << one.status << two.status;
  for (std::size_t c = 0; c < 3; ++c) expect_bitwise_equal(*one.chains[c], *two.chains[c]);
}

}  // namespace
}  // namespace nutshell
