// The pieces of the distributed lockstep warmups that need no MPI: the
// cross-chain reports as numbers (pack / unpack), the exchange-based
// combine over the one-process executor, the lockstep warmup run on a
// share of the chains, and the checkpoint fields of ChEES's and MEADS's
// kernels (without which their chains could not travel between ranks or
// resume from files). The MPI runs are in mpi_cross_chain_test (mpi_test.sh).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "nutshell/adaptation/cross_chain.hpp"
#include "nutshell/distributed/cross_chain.hpp"
#include "nutshell/distributed/executor.hpp"
#include "nutshell/distributed/sample.hpp"
#include "nutshell/mcmc/dynamic_hmc.hpp"
#include "nutshell/mcmc/ghmc.hpp"
#include "nutshell/run/checkpoint.hpp"
#include "nutshell/run/resume.hpp"
#include "nutshell/run/sample.hpp"
#include "tests/distributed/same_draws.hpp"
#include "tests/support/gaussian.hpp"

namespace nutshell {
namespace {

using adaptation::cross_chain::ChainStatistics;
using testing::Gaussian;

bool same_bits(const Vec& a, const Vec& b) {
  return a.size() == b.size() && (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

ChainStatistics report(std::size_t c) {
  ChainStatistics s;
  s.chain = c;
  s.position = Vec{0.1 * c, -0.0, std::numeric_limits<double>::quiet_NaN()};
  s.proposal_position = Vec{1.0, 2.0, 3.0};
  s.proposal_velocity = Vec{-1.0, 1e-300, std::numeric_limits<double>::infinity()};
  s.acceptance_rate = 0.123456789;
  s.is_divergent = c % 2 == 1;
  s.active = c % 3 != 0;
  return s;  // logdensity_grad stays empty, as in a ChEES report
}

TEST(CrossChainRecord, PackUnpackIsExact) {
  const ChainStatistics s = report(5);
  auto back = adaptation::cross_chain::unpack(5, adaptation::cross_chain::pack(s));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->chain, 5u);
  EXPECT_TRUE(same_bits(back->position, s.position));
  EXPECT_EQ(back->logdensity_grad.size(), 0u);
  EXPECT_TRUE(same_bits(back->proposal_position, s.proposal_position));
  EXPECT_TRUE(same_bits(back->proposal_velocity, s.proposal_velocity));
  EXPECT_EQ(std::memcmp(&back->acceptance_rate, &s.acceptance_rate, sizeof(double)), 0);
  EXPECT_EQ(back->is_divergent, s.is_divergent);
  EXPECT_EQ(back->active, s.active);
}

TEST(CrossChainRecord, MalformedIsAnErrorNotACrash) {
  std::vector<double> v = adaptation::cross_chain::pack(report(1));
  for (std::size_t cut : {std::size_t{0}, std::size_t{1}, v.size() - 1}) {
    std::vector<double> w(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(cut));
    EXPECT_EQ(adaptation::cross_chain::unpack(1, w).status().code(), absl::StatusCode::kDataLoss);
  }
  v.push_back(0.0);
  EXPECT_EQ(adaptation::cross_chain::unpack(1, v).status().code(), absl::StatusCode::kDataLoss);
  v = {1e18};  // a length larger than the record
  EXPECT_EQ(adaptation::cross_chain::unpack(1, v).status().code(), absl::StatusCode::kDataLoss);
  v = {-1.0};
  EXPECT_EQ(adaptation::cross_chain::unpack(1, v).status().code(), absl::StatusCode::kDataLoss);
}

TEST(ExchangeCombine, OverOneProcessIsTheLocalCombine) {
  distributed::LocalExecutor local;
  adaptation::cross_chain::ExchangeCombine<distributed::CrossChainExchange<distributed::LocalExecutor>> combine{
      {&local}};
  std::vector<ChainStatistics> stats = {report(2), report(0), report(1)};
  auto a = combine(stats);
  auto b = adaptation::cross_chain::LocalCombine{}(stats);
  ASSERT_TRUE(a.ok() && b.ok());
  for (std::size_t c = 0; c < 3; ++c) {
    EXPECT_EQ((*a)[c].chain, c);
    EXPECT_TRUE(same_bits((*a)[c].position, (*b)[c].position));
  }
  // A failure travels in the same exchange, and a gap in the chains is named.
  EXPECT_EQ(combine(stats, absl::InternalError("boom")).status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(combine.agree(absl::UnavailableError("x")).code(), absl::StatusCode::kUnavailable);
  stats.pop_back();
  EXPECT_FALSE(combine(stats).ok());
}

TEST(LockstepChains, AShareWithoutTheOthersIsAClearError) {
  auto g = Gaussian::correlated_2d();
  std::vector<Gaussian> fs(2, g);
  dynamic_hmc::Kernel k;
  std::vector<dynamic_hmc::State> states(2);
  for (auto& s : states) s = *k.init(Vec{0.0, 0.0}, g);
  std::vector<Key> keys = {make_key(1), make_key(2)};
  // Chains 1 and 3 of 4 with the in-process combine: 0 and 2 never report.
  auto r = chees_warmup(k, fs, states, keys, make_key(3), adaptation::CheesOptions{}, 3, 1,
                        adaptation::cross_chain::LocalCombine{}, LockstepChains{4, {1, 3}});
  EXPECT_FALSE(r.ok());
  auto bad = chees_warmup(k, fs, states, keys, make_key(3), adaptation::CheesOptions{}, 3, 1,
                          adaptation::cross_chain::LocalCombine{}, LockstepChains{4, {3, 1}});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

SampleOptions lockstep(Warmup w, std::size_t chains) {
  SampleOptions o;
  o.num_chains = chains;
  o.num_warmup = 80;
  o.num_samples = 100;
  o.num_threads = 2;
  o.progress_bar = false;
  o.warmup = w;
  return o;
}

TEST(DistributedLockstep, OneProcessExecutorIsBitwiseSample) {
  auto g = Gaussian::correlated_2d();
  distributed::LocalExecutor local;
  SampleOptions c = lockstep(Warmup::kChees, 4);
  auto a = distributed::sample_on(local, make_key(8), dynamic_hmc::Kernel{}, g, Vec{0.0, 0.0}, c);
  auto b = sample(make_key(8), dynamic_hmc::Kernel{}, g, Vec{0.0, 0.0}, c);
  ASSERT_TRUE(a.ok() && b.ok()) << a.status() << b.status();
  EXPECT_EQ(testing::draws_difference(*a, *b), "");
  SampleOptions m = lockstep(Warmup::kMeads, 4);
  m.meads.num_folds = 2;
  auto x = distributed::sample_on(local, make_key(9), ghmc::build_kernel(), g, Vec{0.0, 0.0}, m);
  auto y = sample(make_key(9), ghmc::build_kernel(), g, Vec{0.0, 0.0}, m);
  ASSERT_TRUE(x.ok() && y.ok()) << x.status() << y.status();
  EXPECT_EQ(testing::draws_difference(*x, *y), "");
}

// A chain's checkpoint through a file's record and back resumes bitwise:
// the state's hidden parts (jitter index, persistent momentum, slice) and
// the tuned parameters (fractional trajectory length, alpha, delta) included.
template <class K>
void resumes_through_record(const K& kernel, Warmup w, Key key) {
  auto g = Gaussian::correlated_2d();
  SampleOptions o = lockstep(w, 4);
  o.meads.num_folds = 2;
  auto whole = sample(key, kernel, g, Vec{0.0, 0.0}, o);
  o.num_samples = 40;
  auto head = sample(key, kernel, g, Vec{0.0, 0.0}, o);
  ASSERT_TRUE(whole.ok() && head.ok()) << whole.status() << head.status();
  using CP = std::decay_t<decltype(head->checkpoints[0])>;
  std::vector<CP> back;
  for (const auto& cp : head->checkpoints) {
    auto r = checkpoint::Record::parse(checkpoint::to_record(cp).serialize());
    ASSERT_TRUE(r.ok()) << r.status();
    auto c = checkpoint::from_record<decltype(cp.state), decltype(cp.params)>(*r, 2);
    ASSERT_TRUE(c.ok()) << c.status();
    back.push_back(*std::move(c));
  }
  o.num_samples = 60;
  auto tail = resume(back, kernel, g, o);
  ASSERT_TRUE(tail.ok()) << tail.status();
  for (std::size_t c = 0; c < 4; ++c)
    for (std::size_t i = 0; i < 60; ++i)
      for (std::size_t d = 0; d < 2; ++d)
        ASSERT_EQ(tail->positions(c, i, d), whole->positions(c, 40 + i, d)) << c << " " << i;
}

TEST(KernelCheckpoints, DynamicHmcResumesBitwiseThroughARecord) {
  resumes_through_record(dynamic_hmc::Kernel{}, Warmup::kChees, make_key(10));
}
TEST(KernelCheckpoints, GhmcResumesBitwiseThroughARecord) {
  resumes_through_record(ghmc::build_kernel(), Warmup::kMeads, make_key(11));
}

}  // namespace
}  // namespace nutshell
