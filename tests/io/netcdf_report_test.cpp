// netCDF and report writers: bad paths and full disks give clear errors
// and leave nothing; the report of a 100-dimensional run stays readable.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
#include <filesystem>

#include "nutshell/io/netcdf.hpp"
#include "nutshell/io/report.hpp"
#include "test_run.hpp"

namespace nutshell::io {
namespace {

// Runs `f` with file writes limited to `bytes` (writes past it fail as on
// a full disk).
template <class F>
absl::Status with_file_limit(std::size_t bytes, F f) {
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit old{};
  getrlimit(RLIMIT_FSIZE, &old);
  rlimit lim = old;
  lim.rlim_cur = bytes;
  setrlimit(RLIMIT_FSIZE, &lim);
  absl::Status s = f();
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  return s;
}

TEST(NetCdf, WritesAndReplacesAtomically) {
  const auto dir = testing::temp_dir("nc");
  RunData run = testing::make_run(2, 30, 5);
  ASSERT_TRUE(write_netcdf(run, dir + "/a.nc").ok());
  EXPECT_TRUE(std::filesystem::file_size(dir + "/a.nc") > 1000);
  EXPECT_FALSE(std::filesystem::exists(dir + "/a.nc.tmp"));
  ASSERT_TRUE(write_netcdf(run, dir + "/a.nc").ok());  // replaces
}

TEST(NetCdf, BadPathAndFullDiskAreErrors) {
  RunData run = testing::make_run(2, 30);
  auto s = write_netcdf(run, "/nonexistent-dir/a.nc");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cannot write /nonexistent-dir/a.nc.tmp"), std::string::npos) << s;
  const auto dir = testing::temp_dir("nc_full");
  RunData big = testing::make_run(4, 2000);
  s = with_file_limit(8192, [&] { return write_netcdf(big, dir + "/big.nc"); });
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("writing"), std::string::npos) << s;
  EXPECT_FALSE(std::filesystem::exists(dir + "/big.nc"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/big.nc.tmp"));
  run.parameters.pop_back();
  EXPECT_FALSE(write_netcdf(run, dir + "/invalid.nc").ok());
}

TEST(Report, HoldsEveryPlotTableAndWarning) {
  RunData run = testing::make_run(3, 50);
  auto page = render_report(run);
  ASSERT_TRUE(page.ok()) << page.status();
  std::size_t svgs = 0;
  for (auto p = page->find("<svg class=\"plot\""); p != std::string::npos; p = page->find("<svg class=\"plot\"", p + 1))
    ++svgs;
  EXPECT_EQ(svgs, report_plot_count(run));
  EXPECT_EQ(svgs, 2 * 10 + 3 + 1 + 1);
  EXPECT_NE(page->find("<td>L[1, 2]</td>"), std::string::npos);
  EXPECT_NE(page->find("class=\"div\""), std::string::npos);  // divergences marked
  EXPECT_NE(page->find("transitions after warmup ended with a divergence"), std::string::npos);
  EXPECT_EQ(page->find("http://"), page->find("http://www.w3.org/2000/svg"));  // only the SVG namespace
  EXPECT_EQ(page->find("https://"), std::string::npos);
}

TEST(Report, HundredDimensionsAreCollapsed) {
  RunData run = testing::make_run(4, 100);
  run.parameters = {{"theta", {100}}};
  run.draws = xt::xtensor<double, 3>::from_shape({4, 100, 100});
  for (std::size_t i = 0; i < run.draws.size(); ++i) run.draws.data()[i] = testing::value(i % 4, i / 400, i % 100);
  auto page = render_report(run, ReportOptions{.open_scalars = 12});
  ASSERT_TRUE(page.ok()) << page.status();
  std::size_t open = 0, closed = 0;
  for (auto p = page->find("<details class=\"scalar\""); p != std::string::npos;
       p = page->find("<details class=\"scalar\"", p + 1))
    (page->compare(p, 28, "<details class=\"scalar\" open") == 0 ? open : closed) += 1;
  EXPECT_EQ(open, 12u);
  EXPECT_EQ(closed, 88u);
  EXPECT_NE(page->find("<summary>theta[99] &mdash; mean"), std::string::npos);
  EXPECT_LT(page->size(), 6u << 20);  // a page a browser opens at once
}

TEST(Report, EbfmiMatchesDefinition) {
  RunData run = testing::make_run(1, 5);
  auto& e = const_cast<SampleStat*>(run.stat("energy"))->values;
  const double v[] = {1, 3, 2, 5, 4};
  for (int i = 0; i < 5; ++i) e(0, i) = v[i];
  // mean 3; sum sq dev = 4+0+1+4+1 = 10; sum sq diff = 4+1+9+1 = 15.
  EXPECT_DOUBLE_EQ(ebfmi(run)[0], 1.5);
}

TEST(Report, BadPathAndFullDiskAreErrors) {
  RunData run = testing::make_run(2, 40);
  auto s = write_report(run, "/nonexistent-dir/r.html");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cannot write"), std::string::npos);
  const auto dir = testing::temp_dir("report_full");
  s = with_file_limit(4096, [&] { return write_report(run, dir + "/r.html"); });
  ASSERT_FALSE(s.ok());
  EXPECT_FALSE(std::filesystem::exists(dir + "/r.html"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/r.html.tmp"));
}

}  // namespace
}  // namespace nutshell::io
