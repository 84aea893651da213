// The README's "## Output" C++ sample, compiled and run (keep in step with
// README.md).
#include <gtest/gtest.h>

#include <filesystem>

#include "nutshell/nutshell.hpp"
#include "test_run.hpp"

namespace {

using nutshell::Vec;

auto logdensity = [](const Vec& x, Vec& grad) {
  grad = -x;
  return -0.5 * xt::sum(x * x)();
};

TEST(Readme, Output) {
  const std::string dir = nutshell::io::testing::temp_dir("readme");
  std::filesystem::current_path(dir);
  std::filesystem::create_directories("out");
  auto key = nutshell::make_key(0);
  const Vec x0{0.0, 0.0, 0.0};
  nutshell::SampleOptions options;
  options.num_warmup = 1000;
  options.num_samples = 1000;
  options.progress_bar = false;
  const std::vector<nutshell::io::Parameter> params = {{"mu", {}}, {"sigma", {}}, {"z", {1}}};
  auto constrain = [](std::span<const double> u, std::span<double> out) {
    out[0] = u[0];
    out[1] = std::exp(u[1]);
    out[2] = u[2];
  };

  namespace io = nutshell::io;
  io::CsvStream stream({.prefix = "out/schools", .num_chains = 4, .parameters = params,
                        .constrain = constrain, .num_warmup = 1000, .num_samples = 1000});
  auto draws = nutshell::sample(key, logdensity, x0, options, stream);
  ASSERT_TRUE(draws.ok());
  auto run = io::from_draws(*draws, {.parameters = params, .constrain = constrain});
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE(stream.finish(*run).ok());
  ASSERT_TRUE(io::write_netcdf(*run, "out/schools.nc").ok());
  ASSERT_TRUE(io::write_report(*run, "out/schools.html").ok());
  auto csv = io::read_stan_csv(std::vector<std::string>{"out/schools_1.csv", "out/schools_2.csv"});
  ASSERT_TRUE(csv.ok()) << csv.status();
  ASSERT_TRUE(io::write_report(csv->run, "cmdstan.html").ok());
  EXPECT_EQ(csv->run.num_chains(), 2u);
  EXPECT_EQ(csv->run.parameters[2].name, "z");
  EXPECT_EQ(csv->run.parameters[2].dims, std::vector<std::size_t>{1});
}

}  // namespace
