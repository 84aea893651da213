// ad::fused: a formula recorded as one tape node, its partials from forward
// mode. The value and gradient equal the formula written out (one node per
// operation), it records exactly one node, its gradient matches finite
// differences (also near the edge of the formula's domain), and with
// fvar<var> (Hessian-vector products) and dual it runs the formula as written.
#include <gtest/gtest.h>

#include <cmath>
#include <span>
#include <vector>

#include "nutshell/ad/ad.hpp"
#include "tests/ad/check_model.hpp"

namespace nutshell::ad {
namespace {

// A Lennard-Jones pair energy of two 2-D points, shifted by a box image.
constexpr double kShift = 0.25;
auto pair_energy = [](const auto& xi, const auto& yi, const auto& xj, const auto& yj) {
  const auto dx = xi - xj - kShift, dy = yi - yj;
  const auto r2 = dx * dx + dy * dy;
  const auto inv6 = 1.0 / (r2 * r2 * r2);
  return 4.0 * (inv6 * inv6 - inv6);
};

template <class T>
T fused_model(std::span<const T> x) {
  T u = 0.0;
  for (std::size_t i = 0; i + 3 < x.size(); i += 2) u += fused(pair_energy, x[i], x[i + 1], x[i + 2], x[i + 3]);
  return u + fused([](const auto& a) { return ad::log1p(ad::square(a)); }, x[0]) +
         fused([](const auto& a, const auto& b) { return a * ad::exp(b); }, x[1], x[2]);
}

template <class T>
T written_out(std::span<const T> x) {
  T u = 0.0;
  for (std::size_t i = 0; i + 3 < x.size(); i += 2) u += pair_energy(x[i], x[i + 1], x[i + 2], x[i + 3]);
  return u + ad::log1p(ad::square(x[0])) + x[1] * ad::exp(x[2]);
}

TEST(Fused, EqualsTheFormulaWrittenOut) {
  const std::vector<double> x = {0.1, 0.3, 1.4, -0.2, 2.3, 0.5, 3.5, 0.1};
  auto f = [](auto u) { return fused_model(u); };
  auto g = [](auto u) { return written_out(u); };
  std::vector<double> gf(x.size()), gg(x.size());
  const double vf = value_and_gradient(f, std::span<const double>(x), std::span<double>(gf));
  const double vg = value_and_gradient(g, std::span<const double>(x), std::span<double>(gg));
  EXPECT_DOUBLE_EQ(vf, vg);
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(gf[i], gg[i], 1e-12 * std::max(1.0, std::abs(gg[i])));
}

TEST(Fused, RecordsOneNodePerCall) {
  TapeScope scope;
  const var a(0.1), b(0.3), c(1.4), d(-0.2);
  const std::size_t before = tape().size();
  [[maybe_unused]] const var u = fused(pair_energy, a, b, c, d);
  EXPECT_EQ(tape().size() - before, 1u);
  [[maybe_unused]] const var w = fused([](const auto& p, const auto& q) { return p * ad::exp(q); }, a, b);
  EXPECT_EQ(tape().size() - before, 2u);
}

TEST(Fused, GradientForwardModeAndHessianVectorProduct) {
  // check_model: gradient vs finite differences, dual vs gradient, HVP vs
  // finite differences of the gradient; at an ordinary point and at pairs
  // 0.8 apart (near the repulsive wall, r^-12 steep).
  for (const std::vector<double>& x : {std::vector<double>{0.1, 0.3, 1.4, -0.2, 2.3, 0.5, 3.5, 0.1},
                                       std::vector<double>{0.0, 0.0, 1.05, 0.0, 2.1, 0.0, 3.15, 0.0}}) {
    testing::ModelCheckOptions o;
    o.h = 1e-5;
    o.grad_rel = 1e-6;
    o.hvp_rel = 1e-5;
    o.hvp_abs = 1e-5;
    testing::check_model([](auto u) { return fused_model(u); }, x, o);
    testing::check_hessian_vector_product([](auto u) { return fused_model(u); }, x);
  }
}

}  // namespace
}  // namespace nutshell::ad
