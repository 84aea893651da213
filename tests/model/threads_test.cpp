// A model written once, sampled by `sample` on 1 and on 2 threads: the
// chains are bitwise identical (each thread records on its own tape; the
// model holds no mutable state). Run under --config=tsan where available.
#include <gtest/gtest.h>

#include <span>
#include <vector>

#include "nutshell/ad/ad.hpp"
#include "nutshell/distributions/continuous.hpp"
#include "nutshell/model/make_model.hpp"
#include "nutshell/run/sample.hpp"

namespace nutshell::model {
namespace {

TEST(ModelThreads, ChainsAreBitwiseIdenticalOnOneAndTwoThreads) {
  const std::vector<double> y{1.2, -0.3, 0.8, 2.1, 0.4};
  auto layout = Layout::create({real("mu"), positive("sigma"), simplex("w", 3)});
  ASSERT_TRUE(layout.ok());
  auto m = make_model(*layout, [&](const auto& p) {
    namespace dist = distributions;
    const auto w = p.vector("w");
    return dist::normal_lpdf(p.scalar("mu"), 0.0, 3.0) +
           dist::lognormal_lpdf(p.scalar("sigma"), 0.0, 1.0) +
           dist::normal_lpdf(y, p.scalar("mu"), p.scalar("sigma")) +
           dist::normal_lpdf(w, 1.0 / 3.0, 0.2);
  });
  auto init = m.layout().unconstrain({{"mu", {0.0}}, {"sigma", {1.0}}, {"w", {0.2, 0.3, 0.5}}});
  ASSERT_TRUE(init.ok()) << init.status();
  SampleOptions options;
  options.num_warmup = 200;
  options.num_samples = 200;
  options.progress_bar = false;
  options.num_threads = 1;
  auto one = sample(make_key(5), m, *init, options);
  options.num_threads = 2;
  auto two = sample(make_key(5), m, *init, options);
  ASSERT_TRUE(one.ok() && two.ok());
  ASSERT_TRUE(one->status.ok() && two->status.ok());
  EXPECT_TRUE(one->positions == two->positions);
  auto w = m.layout().constrain_draws(one->positions);
  ASSERT_TRUE(w.ok());
  // The simplex stays a simplex on every draw.
  for (std::size_t c = 0; c < w->shape(0); ++c)
    for (std::size_t d = 0; d < w->shape(1); ++d)
      EXPECT_NEAR((*w)(c, d, 2) + (*w)(c, d, 3) + (*w)(c, d, 4), 1.0, 1e-12);
}

}  // namespace
}  // namespace nutshell::model
