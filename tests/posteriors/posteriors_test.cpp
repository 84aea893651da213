// The hand-written densities against Stan's log_prob at the check points,
// against finite differences, and the loaders' behaviour on bad input.
#include "tests/posteriors/posteriors.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <type_traits>
#include <vector>

#include "nutshell/core/key.hpp"
#include "nutshell/core/logdensity.hpp"

namespace nutshell::posteriors {
namespace {

template <class M>
class PosteriorTest : public ::testing::Test {
 protected:
  static M load_model() {
    auto m = M::load();
    EXPECT_TRUE(m.ok()) << m.status();
    return *std::move(m);
  }
};

using Models = ::testing::Types<Gauss100, CorrGauss50, EightSchoolsNc, Logistic1000x25, Funnel10,
                                GpStudentT100>;
TYPED_TEST_SUITE(PosteriorTest, Models);

TYPED_TEST(PosteriorTest, NamesMatchStanCoordinates) {
  auto model = this->load_model();
  auto cp = load_check_points(TypeParam::kName);
  ASSERT_TRUE(cp.ok()) << cp.status();
  EXPECT_EQ(model.dim(), cp->coordinates.size());
  EXPECT_EQ(model.names(), cp->coordinates);
}

// Stan's lp__ and gradient, to 1e-8 relative, or to a few times what the
// R reference reached where conditioning limits both (gp_student_t_100).
TYPED_TEST(PosteriorTest, MatchesStanAtCheckPoints) {
  auto model = this->load_model();
  auto cp = load_check_points(TypeParam::kName);
  ASSERT_TRUE(cp.ok()) << cp.status();
  ASSERT_FALSE(cp->points.empty());
  double worst_lp = 0.0, worst_grad = 0.0, worst_grad_rel = 0.0;
  for (const CheckPoint& p : cp->points) {
    Vec grad = Vec::from_shape({model.dim()});
    const double lp = model(p.u, grad);
    const double lp_err = std::abs(lp - p.lp);
    worst_lp = std::max(worst_lp, lp_err);
    EXPECT_LE(lp_err, std::max(1e-8 * std::max(1.0, std::abs(p.lp)), 4 * cp->max_abs_err_lp_R))
        << p.label;
    for (std::size_t i = 0; i < model.dim(); ++i) {
      const double err = std::abs(grad(i) - p.grad(i));
      const double scale = std::max(1.0, std::abs(p.grad(i)));
      worst_grad = std::max(worst_grad, err);
      worst_grad_rel = std::max(worst_grad_rel, err / scale);
      EXPECT_LE(err, std::max(1e-8 * scale, 4 * cp->max_abs_err_grad_R))
          << p.label << ", coordinate " << model.names()[i];
    }
  }
  std::printf(
      "%-18s vs Stan: max |lp err| %.3g (R: %.3g), max |grad err| %.3g (R: %.3g), "
      "max rel grad err %.3g\n",
      std::string(TypeParam::kName).c_str(), worst_lp, cp->max_abs_err_lp_R, worst_grad,
      cp->max_abs_err_grad_R, worst_grad_rel);
}

// The check points plus a few Stan-style random starts.
template <class M>
std::vector<Vec> test_points(const M& model) {
  std::vector<Vec> points;
  auto cp = load_check_points(M::kName);
  EXPECT_TRUE(cp.ok()) << cp.status();
  if (cp.ok())
    for (const CheckPoint& p : cp->points) points.push_back(p.u);
  for (std::uint64_t seed = 0; seed < 3; ++seed)
    points.push_back(model.initial_point(make_key(seed), 1.0));
  return points;
}

TYPED_TEST(PosteriorTest, GradientMatchesFiniteDifferences) {
  if constexpr (std::is_same_v<TypeParam, GpStudentT100>)
    GTEST_SKIP() << "see GpStudentT100.GradientMatchesFiniteDifferences";
  auto model = this->load_model();
  for (const Vec& x : test_points(model)) {
    auto check = check_gradient(model, x);
    ASSERT_TRUE(check.ok()) << check.status();
    EXPECT_LT(check->max_relative_error, 1e-6)
        << "worst coordinate " << model.names()[check->worst_index];
  }
}

TYPED_TEST(PosteriorTest, CopiesEvaluateIndependently) {
  auto model = this->load_model();
  auto copy = model;
  const Vec a = model.initial_point(make_key(1)), b = model.initial_point(make_key(2));
  Vec ga = Vec::from_shape({model.dim()}), gb = ga, ga2 = ga;
  const double la = model(a, ga);
  const double lb = copy(b, gb);
  const double la2 = model(a, ga2);
  EXPECT_EQ(la, la2);
  EXPECT_EQ(ga, ga2);
  EXPECT_NE(la, lb);
}

TYPED_TEST(PosteriorTest, ReferenceFollowsCoordinates) {
  auto model = this->load_model();
  auto ref = model.reference();
  ASSERT_TRUE(ref.ok()) << ref.status();
  EXPECT_EQ(ref->names, model.names());
  ASSERT_EQ(ref->mean.size(), model.dim());
  EXPECT_TRUE(all_finite(ref->mean));
  EXPECT_TRUE(all_finite(ref->sd));
  EXPECT_TRUE(all_finite(ref->mcse_mean));
  EXPECT_TRUE(std::all_of(ref->sd.begin(), ref->sd.end(), [](double s) { return s > 0; }));
  EXPECT_TRUE(ref->variable("lp__").has_value());
  if (ref->has_exact()) {
    ASSERT_EQ(ref->exact_sd.size(), model.dim());
    // The Stan run agrees with the analytic answer except in the funnel.
    if (TypeParam::kName != "funnel_10") {
      for (std::size_t i = 0; i < model.dim(); ++i)
        EXPECT_NEAR(ref->mean(i), ref->exact_mean(i), 6 * ref->mcse_mean(i)) << ref->names[i];
    }
  }
}

TEST(Reference, UnconstrainedCoordinatesUseTheLogScaleSummaries) {
  auto model = EightSchoolsNc::load();
  ASSERT_TRUE(model.ok()) << model.status();
  auto ref = model->reference();
  ASSERT_TRUE(ref.ok()) << ref.status();
  EXPECT_DOUBLE_EQ(ref->mean(1), 0.814282582460191);  // log_tau, not tau
  ASSERT_TRUE(ref->variable("tau").has_value());
  EXPECT_GT(ref->variable("tau")->mean, 3.0);
  EXPECT_TRUE(ref->variable("theta[8]").has_value());
  EXPECT_FALSE(ref->has_exact());
}

TEST(Reference, ExactValuesWhereKnown) {
  auto gauss = Gauss100::load();
  auto funnel = Funnel10::load();
  auto corr = CorrGauss50::load();
  ASSERT_TRUE(gauss.ok() && funnel.ok() && corr.ok());
  auto g = gauss->reference();
  auto f = funnel->reference();
  auto c = corr->reference();
  ASSERT_TRUE(g.ok() && f.ok() && c.ok());
  EXPECT_DOUBLE_EQ(g->exact_sd(0), 0.1);
  EXPECT_DOUBLE_EQ(f->exact_sd(0), 3.0);
  EXPECT_NEAR(f->exact_sd(1), std::exp(2.25), 1e-9);
  EXPECT_TRUE(c->has_exact());
}

TEST(Metric, OnlyCorrGaussAdvisesDense) {
  EXPECT_TRUE(CorrGauss50::dense_metric_advised());
  EXPECT_FALSE(Gauss100::dense_metric_advised());
  EXPECT_FALSE(EightSchoolsNc::dense_metric_advised());
  EXPECT_FALSE(Logistic1000x25::dense_metric_advised());
  EXPECT_FALSE(Funnel10::dense_metric_advised());
  EXPECT_FALSE(GpStudentT100::dense_metric_advised());
}

TEST(Gauss100, ModeHasTheStatedDensity) {
  auto model = Gauss100::load();
  ASSERT_TRUE(model.ok());
  Vec grad = Vec::from_shape({model->dim()});
  EXPECT_NEAR((*model)(model->initial_point(), grad), -91.89385332, 1e-7);
}

// Along log_ell and log_eta the GP's lp carries ~5e-9 of Cholesky rounding
// noise (K has jitter 1e-6 against eta^2 ~ 4; Stan's lp has the same noise).
// Central differences with h = 1e-6 turn that into errors of 1e-3, so those
// four coordinates get a five-point stencil with h = 2e-3 (truncation and
// noise both ~1e-7), and z, where lp is smooth to 1e-13, the usual check.
TEST(GpStudentT100, GradientMatchesFiniteDifferences) {
  auto model = GpStudentT100::load();
  ASSERT_TRUE(model.ok()) << model.status();
  const std::size_t n = model->dim() - 4;
  for (const Vec& u : test_points(*model)) {
    Vec grad = Vec::from_shape({model->dim()}), scratch = grad;
    (*model)(u, grad);
    for (std::size_t i = 0; i < 4; ++i) {
      const double h = 2e-3;
      Vec x = u;
      auto at = [&](double step) {
        x(i) = u(i) + step;
        return (*model)(x, scratch);
      };
      const double numeric = (8 * (at(h) - at(-h)) - (at(2 * h) - at(-2 * h))) / (12 * h);
      EXPECT_LT(std::abs(numeric - grad(i)) / std::max({1.0, std::abs(numeric), std::abs(grad(i))}),
                1e-6)
          << model->names()[i];
    }
    // lp as a function of z alone, the hyperparameters held at u.
    auto z_only = [&](const Vec& z, Vec& gz) {
      Vec x = u, g = Vec::from_shape({u.size()});
      std::copy(z.begin(), z.end(), x.begin() + 4);
      const double lp = (*model)(x, g);
      std::copy(g.begin() + 4, g.end(), gz.begin());
      return lp;
    };
    Vec z = Vec::from_shape({n});
    std::copy(u.begin() + 4, u.end(), z.begin());
    auto check = check_gradient(z_only, z);
    ASSERT_TRUE(check.ok()) << check.status();
    EXPECT_LT(check->max_relative_error, 1e-6) << "worst z[" << check->worst_index + 1 << "]";
  }
}

TEST(GpStudentT100, NonPositiveDefiniteKernelIsRejectedNotThrown) {
  auto model = GpStudentT100::load();
  ASSERT_TRUE(model.ok());
  Vec u = model->initial_point();
  u(0) = 8.0;   // ell ~ 3000: K is numerically rank one
  u(1) = 10.0;  // eta^2 ~ 5e8 swamps the jitter
  Vec grad = Vec::from_shape({model->dim()});
  const double lp = (*model)(u, grad);
  EXPECT_FALSE(std::isfinite(lp) && lp > 0);
}

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    root_ = std::filesystem::path(tmp ? tmp : "/tmp") / "posteriors_loader_test";
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_ / "eight_schools_nc");
  }
  void TearDown() override { unsetenv(kPosteriorsDirEnv); }
  void write(const std::string& text) {
    std::ofstream(root_ / "eight_schools_nc" / "data.json") << text;
  }
  std::filesystem::path root_;
};

TEST_F(LoaderTest, ExplicitDirectoryMayBeTheFolderOrItsParent) {
  write(R"({"J": 2, "y": [1, 2], "sigma": [1, 1]})");
  auto by_parent = EightSchoolsNc::load(root_.string());
  auto by_folder = EightSchoolsNc::load((root_ / "eight_schools_nc").string());
  ASSERT_TRUE(by_parent.ok()) << by_parent.status();
  ASSERT_TRUE(by_folder.ok()) << by_folder.status();
  EXPECT_EQ(by_parent->dim(), 4u);
}

TEST_F(LoaderTest, EnvironmentVariableIsHonoured) {
  write(R"({"J": 3, "y": [1, 2, 3], "sigma": [1, 1, 1]})");
  setenv(kPosteriorsDirEnv, root_.string().c_str(), 1);
  auto model = EightSchoolsNc::load();
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->dim(), 5u);
}

TEST_F(LoaderTest, MissingFilesAreNotFound) {
  auto model = Gauss100::load(root_.string());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kNotFound) << model.status();
  // The folder is found by its data.json; reference.json is still missing.
  write(R"({"J": 1, "y": [1], "sigma": [1]})");
  auto ref = load_reference("eight_schools_nc", {"mu"}, root_.string());
  EXPECT_EQ(ref.status().code(), absl::StatusCode::kNotFound) << ref.status();
}

TEST_F(LoaderTest, MalformedDataIsInvalidArgument) {
  for (const char* text : {
           "{not json",
           R"([1, 2])",
           R"({"J": 2, "y": [1, 2]})",
           R"({"J": 2, "y": [1, 2], "sigma": [1]})",
           R"({"J": 2, "y": [1, "a"], "sigma": [1, 1]})",
           R"({"J": 2, "y": [1, 2], "sigma": [1, -1]})",
           R"({"J": 1.5, "y": [1], "sigma": [1]})",
       }) {
    write(text);
    auto model = EightSchoolsNc::load(root_.string());
    EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument)
        << text << " -> " << model.status();
  }
}

}  // namespace
}  // namespace nutshell::posteriors
