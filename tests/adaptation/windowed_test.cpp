// The windowed-adaptation building blocks driven by hand, without a kernel:
// what update reports, which draws a metric is built from, and the
// no-restart rule on the last warmup step.
#include "nutshell/adaptation/windowed.hpp"

#include <cmath>
#include <functional>
#include <limits>

#include <gtest/gtest.h>

#include "nutshell/core/key.hpp"

namespace nutshell::adaptation {
namespace {

WindowAdaptation make(std::size_t n, WindowAdaptationOptions o = {}, bool metric = true) {
  auto wa = WindowAdaptation::create(n, o, metric);
  EXPECT_TRUE(wa.ok()) << wa.status();
  return *std::move(wa);
}

// Synthetic warmup: acceptance exp(-eps) (so dual averaging should settle
// at eps = -log 0.8), positions from N(0, sd(i)^2). The caller's "search"
// restarts from the current step size.
struct Driver {
  const WindowAdaptation& wa;
  std::function<double(std::size_t)> sd;
  std::vector<std::size_t> restarts;

  WindowAdaptationState run(std::size_t dim, std::size_t steps) {
    auto s = wa.init(1.0, Metric::identity(dim));
    for (std::size_t i = 0; i < steps; ++i) {
      Vec x = normal(fold_in(make_key(5), i), dim) * sd(i);
      const double acceptance = std::exp(-s.step_size);
      auto u = wa.update(std::move(s), x, acceptance);
      EXPECT_TRUE(u.ok()) << u.status();
      s = *std::move(u);
      if (s.needs_step_size_search) {
        restarts.push_back(i);
        s = wa.restart(std::move(s), s.step_size);
      }
    }
    return s;
  }
};

// With term_buffer = 0 the last window closes on the last step. The metric
// is still updated, but dual averaging is not restarted: Stan restarts it
// there and ends warmup with x_bar = 0, i.e. step size 1 (issue #3023).
TEST(WindowAdaptation, NoRestartWhenTheLastWindowClosesOnTheLastStep) {
  WindowAdaptationOptions o;
  o.schedule.term_buffer = 0;
  const WindowAdaptation wa = make(200, o);
  ASSERT_EQ(wa.schedule().window_ends, (std::vector<std::size_t>{99, 199}));
  Driver d{wa, [](std::size_t) { return 3.0; }};
  const auto s = d.run(1, 200);
  EXPECT_EQ(d.restarts, (std::vector<std::size_t>{99}));  // not 199
  EXPECT_TRUE(s.metric_updated);
  EXPECT_FALSE(s.needs_step_size_search);
  EXPECT_EQ(s.step_size_state.step, 100) << "dual averaging kept its 100 updates since step 99";
  const auto final = wa.final(s);
  EXPECT_NEAR(final.step_size, -std::log(0.8), 0.1 * -std::log(0.8));
  EXPECT_NEAR(final.inverse_mass_matrix.inverse_mass_diagonal()(0), 9.0, 4.0);
}

// Each metric is the regularised variance of its own window only: checked
// exactly against a two-pass variance of the second window's draws, which
// come from a distribution 100 times wider than the first window's.
TEST(WindowAdaptation, EachMetricUsesOnlyItsWindowsDraws) {
  const WindowAdaptation wa = make(200);  // windows [75, 99] and [100, 149]
  auto sd = [](std::size_t i) { return i < 100 ? 1.0 : 10.0; };
  Driver d{wa, sd};
  auto s = d.run(2, 150);
  EXPECT_EQ(d.restarts, (std::vector<std::size_t>{99, 149}));
  std::vector<Vec> window;
  for (std::size_t i = 100; i < 150; ++i) window.push_back(normal(fold_in(make_key(5), i), 2) * 10.0);
  for (std::size_t j = 0; j < 2; ++j) {
    double mean = 0.0, ss = 0.0;
    for (const Vec& x : window) mean += x(j) / 50.0;
    for (const Vec& x : window) ss += (x(j) - mean) * (x(j) - mean);
    const double want = (50.0 / 55.0) * (ss / 49.0) + 1e-3 * (5.0 / 55.0);
    EXPECT_NEAR(s.inverse_mass_matrix.inverse_mass_diagonal()(j), want, 1e-12 * want);
  }
}

TEST(WindowAdaptation, UpdateReportsWindowEndsAndSteps) {
  const WindowAdaptation wa = make(1000);
  auto s = wa.init(0.5, Metric::identity(1));
  EXPECT_EQ(s.step_size, 0.5);
  EXPECT_DOUBLE_EQ(s.step_size_state.mu, std::log(5.0));
  std::vector<std::size_t> ends;
  for (std::size_t i = 0; i < 1000; ++i) {
    s = *wa.update(std::move(s), Vec{std::sin(static_cast<double>(i))}, 0.8);
    EXPECT_EQ(s.step, i + 1);
    if (s.metric_updated) ends.push_back(i);
    if (s.needs_step_size_search) s = wa.restart(std::move(s), s.step_size);
  }
  EXPECT_EQ(ends, (std::vector<std::size_t>{99, 149, 249, 449, 949}));
  auto past = wa.update(s, Vec{0.0}, 0.8);
  EXPECT_EQ(past.status().code(), absl::StatusCode::kOutOfRange);
}

// update_into (what the warmup loops call) is update without the moves: the
// same states, bit for bit, window ends and restarts included; and the same
// error past the end.
TEST(WindowAdaptation, UpdateIntoIsUpdateInPlace) {
  const WindowAdaptation wa = make(400);
  auto pure = wa.init(0.5, Metric::identity(3));
  auto in_place = wa.init(0.5, Metric::identity(3));
  for (std::size_t i = 0; i < 400; ++i) {
    const Vec x = normal(fold_in(make_key(9), i), 3);
    const double acceptance = 0.5 + 0.4 * std::sin(static_cast<double>(i));
    pure = *wa.update(std::move(pure), x, acceptance);
    ASSERT_TRUE(wa.update_into(in_place, x, acceptance).ok());
    ASSERT_EQ(in_place.step, pure.step);
    ASSERT_EQ(in_place.step_size, pure.step_size);
    ASSERT_EQ(in_place.metric_updated, pure.metric_updated);
    ASSERT_EQ(in_place.needs_step_size_search, pure.needs_step_size_search);
    ASSERT_EQ(in_place.inverse_mass_matrix.inverse_mass_diagonal(),
              pure.inverse_mass_matrix.inverse_mass_diagonal());
    if (pure.needs_step_size_search) {
      pure = wa.restart(std::move(pure), 0.3);
      in_place = wa.restart(std::move(in_place), 0.3);
    }
  }
  EXPECT_EQ(wa.update_into(in_place, Vec{0.0, 0.0, 0.0}, 0.8).code(),
            absl::StatusCode::kOutOfRange);
}

// Without a metric (mala) there are no windows: one dual averaging run over
// the whole warmup, never restarted.
TEST(WindowAdaptation, StepSizeOnlyForKernelsWithoutAMetric) {
  const WindowAdaptation wa = make(1000, {}, /*metric=*/false);
  EXPECT_TRUE(wa.schedule().window_ends.empty());
  Driver d{wa, [](std::size_t) { return 1.0; }};
  const auto s = d.run(3, 1000);
  EXPECT_TRUE(d.restarts.empty());
  EXPECT_EQ(s.step_size_state.step, 1000);
  EXPECT_NEAR(wa.final(s).step_size, -std::log(0.8), 0.03 * -std::log(0.8));
}

TEST(WindowAdaptation, RejectsBadOptionsAndInputs) {
  EXPECT_EQ(WindowAdaptation::create(0, {}).status().code(), absl::StatusCode::kInvalidArgument);
  for (double target : {0.0, 1.0, 1.2, std::nan("")}) {
    WindowAdaptationOptions o;
    o.target_acceptance_rate = target;
    EXPECT_EQ(WindowAdaptation::create(1000, o).status().code(),
              absl::StatusCode::kInvalidArgument)
        << target;
  }
  for (double eps : {0.0, -1.0, std::numeric_limits<double>::infinity()}) {
    WindowAdaptationOptions o;
    o.initial_step_size = eps;
    EXPECT_FALSE(WindowAdaptation::create(1000, o).ok()) << eps;
  }
  WindowAdaptationOptions one_draw;
  one_draw.schedule.base_window = 1;  // first window: a single draw
  auto w = WindowAdaptation::create(1000, one_draw);
  EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(w.status().message().find("at least 2"), std::string::npos) << w.status();

  const WindowAdaptation wa = make(100);
  auto s = wa.init(1.0, Metric::identity(2));
  EXPECT_EQ(wa.update(s, Vec{1.0, 2.0, 3.0}, 0.5).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Positions that overflow the variance stop warmup with Stan's message.
TEST(WindowAdaptation, OverflowingWindowIsAnError) {
  const WindowAdaptation wa = make(100);  // one window, [15, 89]
  auto s = wa.init(1.0, Metric::identity(1));
  absl::Status status;
  for (std::size_t i = 0; i < 100 && status.ok(); ++i) {
    auto u = wa.update(std::move(s), Vec{i % 2 ? 1e300 : -1e300}, 0.8);
    if (!u.ok()) {
      status = u.status();
      EXPECT_EQ(i, 89u);
      break;
    }
    s = *std::move(u);
    if (s.needs_step_size_search) s = wa.restart(std::move(s), s.step_size);
  }
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("numerical overflow"), std::string::npos) << status;
  EXPECT_NE(status.message().find("step 89"), std::string::npos) << status;
}

}  // namespace
}  // namespace nutshell::adaptation
