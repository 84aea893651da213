// ad::affine (y = offset + scale * x as one node): gradient against finite
// differences, forward mode and Hessian-vector products, including a zero
// and a negative scale, large values and an empty x; values bitwise those of
// the scalar loop; one swept node whatever the length.
#include <gtest/gtest.h>

#include <cmath>
#include <span>
#include <vector>

#include "nutshell/ad/ad.hpp"
#include "tests/ad/check_model.hpp"

namespace nutshell::ad {
namespace {

using testing::check_model;

// A non-linear function of y = affine(x[0], x[1], x[2..]), so the Hessian
// is not zero: sum_i c_i y_i + x[0] * |y|^2 / 2 + x[1]^3.
template <class T>
T through_affine(std::span<const T> x) {
  const auto y = affine(x[0], x[1], x.subspan(2));
  T s = x[1] * x[1] * x[1];
  for (std::size_t i = 0; i < y.size(); ++i) s += (0.3 + 0.1 * static_cast<double>(i)) * y[i];
  return s + 0.5 * x[0] * squared_norm(y);
}

TEST(AdAffine, GradientForwardAndHvp) {
  auto f = [](auto x) { return through_affine(x); };
  check_model(f, {0.7, 1.3, -0.4, 2.0, 0.1, -1.5, 0.9});
  check_model(f, {-2.0, 0.0, 1.0, -3.0, 0.5});            // scale 0
  check_model(f, {0.1, -4.5, 0.25, 1.0});                 // negative scale
  check_model(f, {1e3, 2e2, -1e3, 7e2}, {.grad_rel = 1e-6, .grad_abs = 1e-3});  // large
  check_model(f, {0.5, -0.8});                            // x empty
}

TEST(AdAffine, ValuesAreTheScalarLoopsAndOneNode) {
  const std::vector<double> x = {0.1, -2.5, 3.75, 1e-300, -1e300};
  TapeScope scope;
  const var a(0.3), b(-1.7);
  std::vector<var> xs(x.begin(), x.end());
  const std::size_t before = tape().size();
  const auto y = affine(a, b, std::span<const var>(xs));
  EXPECT_EQ(tape().size(), before + 1);
  ASSERT_EQ(y.size(), x.size());
  const auto yd = affine(0.3, -1.7, std::span<const double>(x));
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(y[i].val(), 0.3 + -1.7 * x[i]);
    EXPECT_EQ(yd[i], 0.3 + -1.7 * x[i]);
  }
  EXPECT_TRUE(affine(a, b, std::span<const var>()).empty());
  EXPECT_EQ(tape().size(), before + 1);  // nothing recorded for an empty x
}

}  // namespace
}  // namespace nutshell::ad
