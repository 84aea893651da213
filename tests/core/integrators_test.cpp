#include "nutshell/core/integrators.hpp"

#include <cmath>

#include <gtest/gtest.h>

#include "tests/support/gaussian.hpp"

namespace nutshell {
namespace {

using testing::Gaussian;

// Energy error after integrating to a fixed time T with step size h.
double energy_error(const Integrator& integ, double h, double t_end = 1.0) {
  Gaussian target = Gaussian::independent(Vec{1.0, 0.5, 2.0});
  const Metric metric = Metric::identity(3);
  IntegratorState z{Vec{0.3, -0.2, 1.0}, Vec{1.0, 0.5, -0.7}, 0.0, Vec::from_shape({3})};
  z.logdensity = target(z.position, z.logdensity_grad);
  const double h0 = -z.logdensity + metric.kinetic_energy(z.momentum);
  Vec v = Vec::from_shape({3});
  const int n = static_cast<int>(std::lround(t_end / h));
  for (int i = 0; i < n; ++i) EXPECT_TRUE(integrate_step(integ, metric, target, z, h, v).ok());
  return std::abs(-z.logdensity + metric.kinetic_energy(z.momentum) - h0);
}

TEST(Integrators, EnergyErrorOrder) {
  // Halving the step divides the energy error by 2^order: 4, 4 and 16.
  struct Case {
    Integrator integ;
    double expected_ratio;
  };
  for (const Case& c : {Case{velocity_verlet, 4.0}, Case{mclachlan, 4.0}, Case{yoshida, 16.0}}) {
    const double e1 = energy_error(c.integ, 0.1), e2 = energy_error(c.integ, 0.05);
    const double ratio = e1 / e2;
    EXPECT_NEAR(ratio, c.expected_ratio, 0.2 * c.expected_ratio) << c.integ.name;
  }
  // McLachlan's error constant is smaller than leapfrog's at equal cost
  // (two leapfrog steps of h/2 vs one McLachlan step of h).
  EXPECT_LT(energy_error(mclachlan, 0.1), energy_error(velocity_verlet, 0.05));
}

TEST(Integrators, HarmonicOscillatorAndReversibility) {
  // q'' = -q from q=0, p=1: after t=1, (sin 1, cos 1) (Blackjax's case).
  Gaussian target = Gaussian::independent(Vec{1.0});
  const Metric metric = Metric::identity(1);
  for (const Integrator& integ : {velocity_verlet, mclachlan, yoshida}) {
    IntegratorState z{Vec{0.0}, Vec{1.0}, 0.0, Vec::from_shape({1})};
    z.logdensity = target(z.position, z.logdensity_grad);
    Vec v = Vec::from_shape({1});
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(integrate_step(integ, metric, target, z, 0.01, v).ok());
    EXPECT_NEAR(z.position(0), std::sin(1.0), 1e-4) << integ.name;
    EXPECT_NEAR(z.momentum(0), std::cos(1.0), 1e-4) << integ.name;
    // Integrating backwards returns to the start.
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(integrate_step(integ, metric, target, z, -0.01, v).ok());
    EXPECT_NEAR(z.position(0), 0.0, 1e-12) << integ.name;
    EXPECT_NEAR(z.momentum(0), 1.0, 1e-12) << integ.name;
  }
}

TEST(Integrators, GradientEvaluationsPerStep) {
  EXPECT_EQ(velocity_verlet.gradient_evaluations(), 1u);
  EXPECT_EQ(mclachlan.gradient_evaluations(), 2u);
  EXPECT_EQ(yoshida.gradient_evaluations(), 3u);
  Gaussian target = Gaussian::independent(Vec{1.0, 1.0});
  IntegratorState z{Vec{0.0, 0.0}, Vec{1.0, 1.0}, 0.0, Vec{0.0, 0.0}};
  Vec v = Vec::from_shape({2});
  ASSERT_TRUE(integrate_step(yoshida, Metric::identity(2), target, z, 0.1, v).ok());
  EXPECT_EQ(target.evaluations, 3);
}

TEST(Integrators, ThrowingDensityBecomesStatus) {
  auto bad = [](const Vec&, Vec&) -> double { throw std::runtime_error("boom"); };
  IntegratorState z{Vec{0.0}, Vec{1.0}, 0.0, Vec{0.0}};
  Vec v = Vec::from_shape({1});
  auto s = integrate_step(velocity_verlet, Metric::identity(1), bad, z, 0.1, v);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("boom"), std::string::npos);
}

}  // namespace
}  // namespace nutshell
