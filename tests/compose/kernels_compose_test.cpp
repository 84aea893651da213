// Every kernel of the table composes: it runs under pmap with bitwise the
// same chains for one and two threads, and those that update a plain Vec
// state work as a block kernel inside the mixed composition and leave the
// joint distribution right.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "nutshell/mcmc/barker.hpp"
#include "nutshell/mcmc/elliptical_slice.hpp"
#include "nutshell/mcmc/ghmc.hpp"
#include "nutshell/mcmc/hmc.hpp"
#include "nutshell/mcmc/irmh.hpp"
#include "nutshell/mcmc/mala.hpp"
#include "nutshell/mcmc/mclmc.hpp"
#include "nutshell/compose/mixed.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/mcmc/rmh.hpp"
#include "nutshell/run/sample.hpp"
#include "nutshell/sgmcmc/sghmc.hpp"
#include "nutshell/sgmcmc/sgld.hpp"
#include "nutshell/mcmc/slice.hpp"
#include "tests/support/gaussian.hpp"
#include "tests/support/moments.hpp"

namespace nutshell {
namespace {

using testing::Gaussian;

constexpr std::size_t kChains = 3, kSteps = 60;

// Runs kChains chains of `alg` from `states` with 1 and 2 threads; they
// must succeed and agree bit for bit.
template <class A>
void expect_threads_do_not_matter(const A& alg, const std::vector<typename A::State>& states,
                                  const char* name) {
  auto one = run_chains(make_key(5), alg, states, kSteps, {}, PmapOptions{.num_threads = 1});
  auto two = run_chains(make_key(5), alg, states, kSteps, {}, PmapOptions{.num_threads = 2});
  ASSERT_TRUE(one.ok()) << name << ": " << one.status;
  ASSERT_TRUE(two.ok()) << name << ": " << two.status;
  for (std::size_t c = 0; c < kChains; ++c) {
    const Mat& a = one.chains[c]->positions;
    const Mat& b = two.chains[c]->positions;
    ASSERT_EQ(a.shape(0), kSteps) << name;
    EXPECT_TRUE(a == b) << name << ": chain " << c << " depends on the thread count";
  }
  // Different chains got different keys.
  EXPECT_FALSE(one.chains[0]->positions == one.chains[1]->positions) << name;
}

template <class A, class Init>
std::vector<typename A::State> initial_states(A& alg, Init&& init) {
  std::vector<typename A::State> out;
  for (std::size_t c = 0; c < kChains; ++c) {
    auto s = init(alg, Vec{0.1 * c, -0.2, 0.3});
    EXPECT_TRUE(s.ok()) << s.status();
    out.push_back(*s);
  }
  return out;
}

auto plain_init = [](auto& alg, const Vec& x) { return alg.init(x); };
auto keyed_init = [](auto& alg, const Vec& x) { return alg.init(x, make_key(9)); };

TEST(Compose, EveryKernelRunsInPmapIndependentlyOfThreads) {
  Gaussian target = Gaussian::independent(Vec{1.0, 2.0, 0.5});
  const Metric identity = Metric::identity(3);
  {
    auto alg = hmc::sampler(target, hmc::Params{0.3, identity, 5});
    expect_threads_do_not_matter(alg, initial_states(alg, plain_init), "hmc");
  }
  {
    auto alg = nuts::sampler(target, nuts::Params{0.3, identity});
    expect_threads_do_not_matter(alg, initial_states(alg, plain_init), "nuts");
  }
  {
    auto alg = mala::sampler(target, mala::Params{0.2});
    expect_threads_do_not_matter(alg, initial_states(alg, plain_init), "mala");
  }
  {
    auto alg = barker::sampler(target, barker::Params{0.5, identity});
    expect_threads_do_not_matter(alg, initial_states(alg, plain_init), "barker");
  }
  {
    auto alg = rmh::sampler(target, *rmh::NormalRandomWalk::isotropic(0.8));
    expect_threads_do_not_matter(alg, initial_states(alg, plain_init), "rmh");
  }
  {
    struct Wide {
      void sample(const Key& k, Vec& out) const {
        normal(k, out);
        out *= 3.0;
      }
      double log_density(const Vec& x) const { return -xt::sum(x * x)() / 18.0; }
    };
    auto alg = irmh::sampler(target, Wide{});
    expect_threads_do_not_matter(alg, initial_states(alg, plain_init), "irmh");
  }
  {
    auto alg = slice::sampler(target, slice::Params{});
    expect_threads_do_not_matter(alg, initial_states(alg, plain_init), "slice");
  }
  {
    auto prior = elliptical_slice::GaussianPrior::diagonal(Vec{0, 0, 0}, Vec{1, 4, 0.25});
    ASSERT_TRUE(prior.ok());
    auto loglik = [](const Vec& x) { return -0.5 * (x(0) - 1.0) * (x(0) - 1.0); };
    auto alg = elliptical_slice::sampler(loglik, *prior);
    expect_threads_do_not_matter(alg, initial_states(alg, plain_init), "elliptical_slice");
  }
  {
    auto alg = ghmc::sampler(target, ghmc::Params{0.3, identity, 0.2, 0.1});
    expect_threads_do_not_matter(alg, initial_states(alg, keyed_init), "ghmc");
  }
  {
    auto alg = mclmc::sampler(target, mclmc::Params{2.0, 0.5});
    expect_threads_do_not_matter(alg, initial_states(alg, keyed_init), "mclmc");
  }
  {
    // Stochastic-gradient kernels: 50 "data points", each contributing
    // 1/50 of a standard normal's log density.
    auto datum = [](const Vec& theta, std::size_t, Vec& grad) { grad -= theta / 50.0; };
    auto estimator = sgmcmc::make_gradient_estimator(50, 10, datum);
    ASSERT_TRUE(estimator.ok());
    auto sg = sgld::sampler(*estimator, sgld::Params<sgmcmc::ConstantStepSize>{{0.01}});
    expect_threads_do_not_matter(sg, initial_states(sg, plain_init), "sgld");
    auto sh = sghmc::sampler(*estimator, sghmc::Params<sgmcmc::ConstantStepSize>{{0.01}});
    expect_threads_do_not_matter(sh, initial_states(sh, plain_init), "sghmc");
  }
}

// A 2-block Gaussian: x (continuous, NUTS) and y (a Vec block updated by the
// kernel under test), jointly N(0, [[1, rho], [rho, 1]]) in each of 2
// coordinates. The y marginal must come out N(0, 1).
struct Others {
  Vec y;
};
constexpr double kRho = 0.6;
double joint(const Vec& x, const Vec& y, Vec* gx, Vec* gy) {
  const double c = 1.0 / (1.0 - kRho * kRho);
  double lp = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    lp += -0.5 * c * (x(i) * x(i) - 2 * kRho * x(i) * y(i) + y(i) * y(i));
    if (gx) (*gx)(i) = -c * (x(i) - kRho * y(i));
    if (gy) (*gy)(i) = -c * (y(i) - kRho * x(i));
  }
  return lp;
}

template <class Block>
void expect_block_kernel_is_exact(Block block, const char* name, std::size_t steps = 20000) {
  auto f = [](const Vec& x, Vec& grad, const Others& o) { return joint(x, o.y, &grad, nullptr); };
  auto kernel = mixed::build_kernel<Others>(nuts::build_kernel(), std::move(block));
  auto alg = mixed::sampler(kernel, f, nuts::Params{0.8, Metric::identity(2)});
  auto s0 = alg.init(Vec{0.0, 0.0}, Others{Vec{0.5, -0.5}});
  ASSERT_TRUE(s0.ok()) << name << ": " << s0.status();
  auto run = run_inference_algorithm(make_key(17), alg, *s0, steps,
                                     [](const auto& s, const auto&) { return s.others.y; });
  ASSERT_TRUE(run.ok()) << name << ": " << run.status();
  Mat ys = Mat::from_shape({run->values.size(), 2});
  for (std::size_t i = 0; i < run->values.size(); ++i)
    for (std::size_t j = 0; j < 2; ++j) ys(i, j) = run->values[i](j);
  testing::expect_moments(ys, Vec{0.0, 0.0}, Vec{1.0, 1.0}, 4.0, name);
}

TEST(Compose, KernelsAsBlocksInTheMixedComposition) {
  auto g_grad = [](const Vec& y, Vec& grad, const Vec& x, const Others&) {
    return joint(x, y, nullptr, &grad);
  };
  auto g_value = [](const Vec& y, const Vec& x, const Others&) {
    return joint(x, y, nullptr, nullptr);
  };
  const Metric identity = Metric::identity(2);
  expect_block_kernel_is_exact(
      mixed::kernel_block(&Others::y, hmc::build_kernel(), hmc::Params{0.5, identity, 3}, g_grad),
      "hmc block");
  expect_block_kernel_is_exact(
      mixed::kernel_block(&Others::y, nuts::build_kernel(), nuts::Params{0.6, identity}, g_grad),
      "nuts block");
  expect_block_kernel_is_exact(
      mixed::kernel_block(&Others::y, mala::build_kernel(), mala::Params{0.3}, g_grad),
      "mala block");
  expect_block_kernel_is_exact(
      mixed::kernel_block(&Others::y, barker::build_kernel(), barker::Params{0.8, identity}, g_grad),
      "barker block");
  expect_block_kernel_is_exact(
      mixed::kernel_block(&Others::y, rmh::build_kernel(), *rmh::NormalRandomWalk::isotropic(1.0),
                          g_value),
      "rmh block");
  expect_block_kernel_is_exact(
      mixed::kernel_block(&Others::y, slice::build_kernel(), slice::Params{}, g_value),
      "slice block");
  struct Wide {
    void sample(const Key& k, Vec& out) const {
      normal(k, out);
      out *= 2.0;
    }
    double log_density(const Vec& y) const { return -xt::sum(y * y)() / 8.0; }
  };
  expect_block_kernel_is_exact(
      mixed::kernel_block(&Others::y, irmh::build_kernel(), Wide{}, g_value), "irmh block");
}

}  // namespace
}  // namespace nutshell
