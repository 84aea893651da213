// make_model: one density over every kind of parameter, its gradient against
// finite differences, the Jacobian added once, no allocation per gradient,
// a throw for a bad read turned into a status by the kernels' `evaluate`.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <span>
#include <vector>

#include "nutshell/ad/ad.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/model/make_model.hpp"
#include "tests/support/alloc_counter.hpp"

namespace nutshell::model {
namespace {

Layout every_kind() {
  auto layout = Layout::create({real("mu"), positive("tau"), vector("theta", 3),
                                interval("p", 0.0, 1.0, 2), upper("u", 1.0),
                                ordered("c", 3), positive_ordered("d", 2), simplex("w", 4),
                                unit_vector("v", 3), cholesky_corr("L", 3), cov_matrix("S", 2),
                                matrix("M", 2, 3)});
  EXPECT_TRUE(layout.ok()) << layout.status();
  return *layout;
}

// Something smooth that uses every entry of every parameter.
struct Smooth {
  template <class P>
  auto operator()(const P& p) const {
    using T = typename P::scalar_type;
    T lp = -0.5 * p.scalar("mu") * p.scalar("mu") - p.scalar("tau") + ad::log(p.scalar("tau"));
    double k = 0.3;
    for (const char* name : {"theta", "p", "c", "d", "w", "v"})
      for (const T& x : p.vector(name)) lp = lp - 0.5 * k * x * x, k += 0.1;
    lp = lp - 0.5 * p.scalar("u") * p.scalar("u");
    for (const char* name : {"L", "S", "M"})
      for (const T& x : p.matrix(name).flat()) lp = lp - 0.1 * x * x;
    return lp;
  }
};

std::vector<Vec> points(std::size_t n) {
  std::vector<Vec> out;
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    Stream s(make_key(seed));
    Vec u = Vec::from_shape({n});
    for (double& v : u) v = s.normal();
    out.push_back(u);
  }
  return out;
}

TEST(MakeModel, GradientMatchesFiniteDifferences) {
  auto m = make_model(every_kind(), Smooth{});
  EXPECT_EQ(m.dim(), m.layout().dim());
  for (const Vec& u : points(m.dim())) {
    auto c = check_gradient(m, u);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_LT(c->max_relative_error, 1e-6) << "coordinate " << c->worst_index;
  }
}

TEST(MakeModel, AddsTheLogJacobianOnce) {
  const Layout layout = every_kind();
  auto m = make_model(layout, Smooth{});
  for (const Vec& u : points(m.dim())) {
    std::vector<double> scratch(layout.constrained_size());
    double jac = 0.0;
    const Reader<double> p(layout, std::span<const double>(u.data(), u.size()), scratch, jac);
    const double expected = Smooth{}(p) + jac;
    Vec grad = Vec::from_shape({m.dim()});
    EXPECT_NEAR(m(u, grad), expected, 1e-12 * std::abs(expected));
    EXPECT_DOUBLE_EQ(m(u), expected);
  }
}

TEST(MakeModel, SteadyStateGradientAllocatesNothing) {
  auto m = make_model(every_kind(), Smooth{});
  const Vec u = points(m.dim())[0];
  Vec grad = Vec::from_shape({m.dim()});
  for (int i = 0; i < 3; ++i) m(u, grad);  // the arena grows to size once
  long allocations = 0;
  {
    testing::AllocationScope scope;
    for (int i = 0; i < 100; ++i) {
      m(u, grad);
      m(u);
    }
    allocations = scope.count();
  }
  EXPECT_EQ(allocations, 0);
}

// The density is generic over every scalar ad records: forward mode and
// Hessian-vector products run through the constraints too.
TEST(MakeModel, ForwardModeAndHessianVectorProducts) {
  auto m = make_model(every_kind(), Smooth{});
  const Vec u = points(m.dim())[1];
  Vec v = points(m.dim())[2], hv, grad = Vec::from_shape({m.dim()});
  auto& density = m.density();
  const double lp = m(u, grad);
  const double dd = ad::directional_derivative(density, u, v);
  EXPECT_NEAR(dd, xt::sum(grad * v)(), 1e-10 * std::max(1.0, std::abs(dd)));
  EXPECT_NEAR(ad::hessian_vector_product(density, u, v, hv), lp, 1e-12 * std::abs(lp));
  // H v against differences of the gradient along v.
  const double h = 1e-5;
  Vec gp = grad, gm = grad;
  m(u + h * v, gp);
  m(u - h * v, gm);
  for (std::size_t i = 0; i < m.dim(); ++i)
    EXPECT_NEAR(hv(i), (gp(i) - gm(i)) / (2 * h), 1e-5 * std::max(1.0, std::abs(hv(i)))) << i;
}

TEST(MakeModel, BadReadIsAStatusNotACrash) {
  auto layout = Layout::create({real("mu")});
  ASSERT_TRUE(layout.ok());
  auto m = make_model(*layout, [](const auto& p) { return p.scalar("sigma"); });
  Vec u = {0.0}, grad = {0.0};
  auto lp = evaluate(m, u, grad);
  ASSERT_FALSE(lp.ok());
  EXPECT_NE(lp.status().message().find("'sigma'"), std::string::npos) << lp.status();
  // The tape was rewound: the next good evaluation works.
  auto ok = make_model(*layout, [](const auto& p) { return -0.5 * p.scalar("mu") * p.scalar("mu"); });
  u(0) = 2.0;
  EXPECT_DOUBLE_EQ(ok(u, grad), -2.0);
  EXPECT_DOUBLE_EQ(grad(0), -2.0);
}

TEST(MakeModel, InitialValuesToUnconstrainedAndBack) {
  auto m = make_model(every_kind(), Smooth{});
  Values v{{"mu", {0.1}},
           {"tau", {2.0}},
           {"theta", {1, 2, 3}},
           {"p", {0.2, 0.9}},
           {"u", {0.5}},
           {"c", {-1, 0, 1}},
           {"d", {0.5, 2}},
           {"w", {0.1, 0.2, 0.3, 0.4}},
           {"v", {0.6, 0.0, 0.8}},
           {"L", {1, 0, 0, 0.6, 0.8, 0, 0, 0.6, 0.8}},
           {"S", {2, 0.5, 0.5, 1}},
           {"M", {1, 2, 3, 4, 5, 6}}};
  auto u = m.layout().unconstrain(v);
  ASSERT_TRUE(u.ok()) << u.status();
  auto y = m.layout().constrain(std::span<const double>(u->data(), u->size()));
  ASSERT_TRUE(y.ok());
  const auto names = m.layout().names();
  std::map<std::string, double> by_name;
  for (std::size_t i = 0; i < names.size(); ++i) by_name[names[i]] = (*y)(i);
  EXPECT_DOUBLE_EQ(by_name["M[2,1]"], 4.0);
  EXPECT_NEAR(by_name["S[1,2]"], 0.5, 1e-12);
  EXPECT_NEAR(by_name["w[4]"], 0.4, 1e-12);
  EXPECT_NEAR(by_name["L[3,2]"], 0.6, 1e-12);
  EXPECT_NEAR(by_name["tau"], 2.0, 1e-12);
}

}  // namespace
}  // namespace nutshell::model
