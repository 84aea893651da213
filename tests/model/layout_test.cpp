// The layout: offsets, names, draws to constrained values, initial values to
// the unconstrained vector, and the errors that name the parameter.
#include <gtest/gtest.h>

#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "nutshell/model/layout.hpp"
#include "nutshell/model/reader.hpp"
#include "tests/support/alloc_counter.hpp"

namespace nutshell::model {
namespace {

Layout example() {
  auto layout = Layout::create({real("mu"), positive("tau"), vector("theta", 3),
                                cholesky_corr("L", 2), simplex("w", 3), ordered("c", 2),
                                interval("p", 0.0, 1.0)});
  EXPECT_TRUE(layout.ok()) << layout.status();
  return *layout;
}

Values example_values() {
  return {{"mu", {0.5}},
          {"tau", {2.0}},
          {"theta", {1.0, 2.0, 3.0}},
          {"L", {1.0, 0.0, 0.6, 0.8}},
          {"w", {0.2, 0.3, 0.5}},
          {"c", {-1.0, 4.0}},
          {"p", {0.25}}};
}

TEST(Layout, SizesAndNames) {
  const Layout layout = example();
  EXPECT_EQ(layout.dim(), 1u + 1 + 3 + 1 + 2 + 2 + 1);
  EXPECT_EQ(layout.constrained_size(), 1u + 1 + 3 + 4 + 3 + 2 + 1);
  const std::vector<std::string> names{"mu",     "tau",    "theta[1]", "theta[2]", "theta[3]",
                                       "L[1,1]", "L[2,1]", "L[1,2]",   "L[2,2]",   "w[1]",
                                       "w[2]",   "w[3]",   "c[1]",     "c[2]",     "p"};
  EXPECT_EQ(layout.names(), names);
  EXPECT_EQ(layout.csv_names()[2], "theta.1");
  EXPECT_EQ(layout.csv_names()[6], "L.2.1");
}

TEST(Layout, InitialValuesRoundTrip) {
  const Layout layout = example();
  auto u = layout.unconstrain(example_values());
  ASSERT_TRUE(u.ok()) << u.status();
  ASSERT_EQ(u->size(), layout.dim());
  EXPECT_NEAR((*u)(1), std::log(2.0), 1e-15);
  auto y = layout.constrain(std::span<const double>(u->data(), u->size()));
  ASSERT_TRUE(y.ok()) << y.status();
  // Stan's order: L column-major.
  const std::vector<double> expected{0.5, 2.0, 1.0, 2.0, 3.0, 1.0, 0.6, 0.0,
                                     0.8, 0.2, 0.3, 0.5, -1.0, 4.0, 0.25};
  ASSERT_EQ(y->size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR((*y)(i), expected[i], 1e-12) << layout.names()[i];
}

TEST(Layout, ConstrainDraws) {
  const Layout layout = example();
  Draws draws = xt::zeros<double>({std::size_t{2}, std::size_t{3}, layout.dim()});
  draws(1, 2, 1) = std::log(5.0);
  auto out = layout.constrain_draws(draws);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->shape(2), layout.names().size());
  EXPECT_NEAR((*out)(1, 2, 1), 5.0, 1e-12);
  EXPECT_NEAR((*out)(0, 0, 1), 1.0, 1e-12);
  EXPECT_NEAR((*out)(0, 0, 9), 1.0 / 3.0, 1e-12);  // w[1] at the origin
  EXPECT_FALSE(layout.constrain_draws(xt::zeros<double>({std::size_t{1}, std::size_t{1}, std::size_t{3}})).ok());
}

void expect_error_naming(const Layout& layout, Values values, const std::string& name,
                         const std::string& what) {
  auto u = layout.unconstrain(values);
  ASSERT_FALSE(u.ok()) << "expected an error for " << name;
  EXPECT_EQ(u.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(u.status().message().find("'" + name + "'"), std::string::npos) << u.status();
  EXPECT_NE(u.status().message().find(what), std::string::npos) << u.status();
}

TEST(Layout, BadInitialValuesNameTheParameter) {
  const Layout layout = example();
  Values v = example_values();
  v["tau"] = {-1.0};
  expect_error_naming(layout, v, "tau", "must be > 0");
  v = example_values();
  v["c"] = {3.0, 1.0};
  expect_error_naming(layout, v, "c", "increasing");
  v = example_values();
  v["w"] = {0.2, 0.3, 0.4};
  expect_error_naming(layout, v, "w", "sum to 1");
  v = example_values();
  v["L"] = {1.0, 0.0, 0.5, 0.5};
  expect_error_naming(layout, v, "L", "norm");
  v = example_values();
  v.erase("theta");
  expect_error_naming(layout, v, "theta", "no initial value");
  v = example_values();
  v["theta"] = {1.0, 2.0};
  expect_error_naming(layout, v, "theta", "a vector of 3");
  v = example_values();
  v["sigma"] = {1.0};
  expect_error_naming(layout, v, "sigma", "not a parameter");

  auto cov = Layout::create({cov_matrix("Sigma", 2)});
  ASSERT_TRUE(cov.ok());
  expect_error_naming(*cov, {{"Sigma", {1.0, 2.0, 2.0, 1.0}}}, "Sigma", "positive definite");
}

TEST(Layout, BadDeclarationsAreErrors) {
  EXPECT_FALSE(Layout::create({real("a"), real("a")}).ok());
  EXPECT_FALSE(Layout::create({real("")}).ok());
  EXPECT_FALSE(Layout::create({real("x[1]")}).ok());
  EXPECT_FALSE(Layout::create({simplex("w", 1)}).ok());
  EXPECT_FALSE(Layout::create({interval("p", 1.0, 0.0)}).ok());
  EXPECT_FALSE(Layout::create({Param{"m", {2, 2}, constraints::Identity{3}}}).ok());
}

TEST(Reader, ViewsAndLogJacobian) {
  const Layout layout = example();
  auto u = layout.unconstrain(example_values());
  ASSERT_TRUE(u.ok());
  std::vector<double> scratch(layout.constrained_size());
  double lp = 0.0;
  Reader<double> p(layout, std::span<const double>(u->data(), u->size()), scratch, lp);
  EXPECT_NEAR(p.scalar("tau"), 2.0, 1e-14);
  EXPECT_EQ(p.vector("theta").size(), 3u);
  EXPECT_NEAR(p.vector("w")[2], 0.5, 1e-14);
  EXPECT_NEAR(p.matrix("L")(1, 0), 0.6, 1e-14);
  EXPECT_NEAR(p.matrix("L")(1, 1), 0.8, 1e-14);
  // The log-Jacobian is the sum over parameters: check it against the transforms.
  double expected = 0.0;
  for (const Entry& e : layout.entries()) {
    std::vector<double> out(e.c_size);
    std::visit(
        [&](const auto& t) {
          t.template constrain<double>(
              std::span<const double>(u->data() + e.u_offset, e.u_size), out, expected);
        },
        e.param.transform);
  }
  EXPECT_DOUBLE_EQ(lp, expected);
  EXPECT_NEAR(lp - expected, 0.0, 0.0);
  EXPECT_THROW(p.scalar("theta"), std::invalid_argument);
  EXPECT_THROW(p.vector("nope"), std::invalid_argument);
  EXPECT_THROW(p.matrix("mu"), std::invalid_argument);
  std::vector<double> small(3);
  EXPECT_THROW(Reader<double>(layout, std::span<const double>(u->data(), u->size()), small, lp),
               std::invalid_argument);
}

// Unconstrained parameters are read in place from u (no copy into the
// scratch), and a layout without constraints needs no scratch at all.
TEST(Reader, UnconstrainedParametersAreReadInPlace) {
  const Layout layout = example();
  EXPECT_TRUE(layout.constrains());
  auto u = layout.unconstrain(example_values());
  ASSERT_TRUE(u.ok());
  std::vector<double> scratch(layout.constrained_size(), -7.0);
  double lp = 0.0;
  const std::span<const double> us(u->data(), u->size());
  const Reader<double> p(layout, us, scratch, lp);
  EXPECT_EQ(&p.scalar("mu"), us.data() + layout.find("mu")->u_offset);
  EXPECT_EQ(p.vector("theta").data(), us.data() + layout.find("theta")->u_offset);
  EXPECT_EQ(p.vector("w").data(), scratch.data() + layout.find("w")->c_offset);
  // The unconstrained entries' scratch slots are untouched.
  EXPECT_EQ(scratch[layout.find("theta")->c_offset], -7.0);

  auto plain = Layout::create({real("v"), vector("x", 3)});
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->constrains());
  const std::vector<double> x = {1.0, 2.0, 3.0, 4.0};
  double lp2 = 0.0;
  const Reader<double> q(*plain, std::span<const double>(x), std::span<double>(), lp2);
  EXPECT_EQ(q.scalar("v"), 1.0);
  EXPECT_EQ(q.vector("x")[2], 4.0);
  EXPECT_EQ(lp2, 0.0);
}

// A caller-owned scratch, reused: reading allocates nothing.
TEST(Reader, ReusedScratchAllocatesNothing) {
  const Layout layout = example();
  auto u = layout.unconstrain(example_values());
  ASSERT_TRUE(u.ok());
  std::vector<double> scratch(layout.constrained_size());
  double total = 0.0;
  long allocations = 0;
  {
    testing::AllocationScope scope;
    for (int i = 0; i < 100; ++i) {
      double lp = 0.0;
      const Reader<double> p(layout, std::span<const double>(u->data(), u->size()), scratch, lp);
      total += lp + p.scalar("tau") + p.vector("w")[0] + p.matrix("L")(1, 0);
    }
    allocations = scope.count();
  }
  EXPECT_EQ(allocations, 0);
  EXPECT_TRUE(std::isfinite(total));
}

}  // namespace
}  // namespace nutshell::model
