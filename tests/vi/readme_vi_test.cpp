// The README's "Variational inference" sample, compiled and run (keep in step
// with README.md).
#include <vector>

#include <gtest/gtest.h>

#include "nutshell/adaptation/window_adaptation.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/vi/meanfield_vi.hpp"
#include "nutshell/vi/pathfinder.hpp"
#include "nutshell/vi/pathfinder_init.hpp"

namespace {

using nutshell::Vec;

auto logdensity = [](const Vec& x, Vec& grad) {
  grad = -x;
  return -0.5 * xt::sum(x * x)();
};

TEST(ReadmeVi, Sample) {
  auto key = nutshell::make_key(1);
  auto vi = nutshell::vi::meanfield_vi(logdensity);
  auto fit = vi.fit(key, Vec{1.0, -1.0});
  ASSERT_TRUE(fit.ok()) << fit.status();
  nutshell::Mat q_draws = vi.sample(nutshell::split_one(key, 1), fit->state, 1000);
  EXPECT_EQ(q_draws.shape(0), 1000u);

  auto pf = nutshell::vi::pathfinder::approximate(key, logdensity, Vec{1.0, -1.0});
  ASSERT_TRUE(pf.ok()) << pf.status();

  std::vector<Vec> starts = {Vec{1.0, -1.0}, Vec{-2.0, 0.5}, Vec{0.3, 1.9}, Vec{-1.0, -1.5}};
  auto init = nutshell::vi::pathfinder_init(key, logdensity, starts, 4);
  ASSERT_TRUE(init.ok()) << init.status();
  nutshell::nuts::Params base;
  base.inverse_mass_matrix = init->inverse_mass_matrix;
  auto warmup =
      nutshell::adaptation::window_adaptation(nutshell::nuts::Kernel{}, logdensity, {}, base);
  auto adapted = warmup.run(nutshell::split_one(key, 2), init->positions[0], 1000);
  ASSERT_TRUE(adapted.ok()) << adapted.status();
  EXPECT_NEAR(adapted->parameters.inverse_mass_matrix.inverse_mass_diagonal()(0), 1.0, 0.3);
}

}  // namespace
