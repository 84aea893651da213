#include "nutshell/diagnostics/summary.hpp"

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <xtensor/xview.hpp>

#include "fixtures.hpp"

namespace nutshell::diagnostics {
namespace {

using testing::relative_deviation;

TEST(Summary, RowsMatchPosterior) {
  for (const auto& c : testing::load_posterior_cases()) {
    SCOPED_TRACE(c.name);
    const auto s = summary(c.draws, 3);
    ASSERT_TRUE(s.ok()) << s.status();
    ASSERT_EQ(s->rows.size(), c.draws.shape()[2]);
    EXPECT_EQ(s->num_divergences, 3u);
    for (std::size_t k = 0; k < s->rows.size(); ++k) {
      const SummaryRow& r = s->rows[k];
      EXPECT_EQ(r.name, "x[" + std::to_string(k) + "]");
      const auto& e = c.expected;
      EXPECT_LE(relative_deviation(r.mean, e.at("mean")[k]), 1e-6);
      EXPECT_LE(relative_deviation(r.sd, e.at("sd")[k]), 1e-6);
      EXPECT_LE(relative_deviation(r.median, e.at("median")[k]), 1e-6);
      EXPECT_LE(relative_deviation(r.q5, e.at("q5")[k]), 1e-6);
      EXPECT_LE(relative_deviation(r.q95, e.at("q95")[k]), 1e-6);
      EXPECT_LE(relative_deviation(r.ess_bulk, e.at("ess_bulk")[k]), 1e-6);
      EXPECT_LE(relative_deviation(r.ess_tail, e.at("ess_tail")[k]), 1e-6);
      EXPECT_LE(relative_deviation(r.rhat, e.at("rhat")[k]), 1e-6);
    }
  }
}

Draws small_draws() {
  Draws x = Draws::from_shape({2, 6, 2});
  for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = std::sin(1.0 + i);
  return x;
}

TEST(Summary, NamesAndScalarDraws) {
  const Draws x = small_draws();
  const auto named = summary(x, 0, {"alpha", "beta"});
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->rows[0].name, "alpha");
  EXPECT_EQ(named->rows[1].name, "beta");

  const ChainDraws beta = xt::view(x, xt::all(), xt::all(), 1);
  const auto scalar = summary(beta, 1, "beta");
  ASSERT_TRUE(scalar.ok());
  ASSERT_EQ(scalar->rows.size(), 1u);
  EXPECT_EQ(scalar->rows[0].name, "beta");
  EXPECT_EQ(scalar->rows[0].mean, named->rows[1].mean);
  EXPECT_EQ(scalar->rows[0].ess_tail, named->rows[1].ess_tail);
}

TEST(Summary, PrintsAnAlignedTable) {
  Summary s;
  s.num_divergences = 2;
  s.rows.push_back({"mu", 0.1234, 1.0, 0.12, -1.6, 1.7, 1523.4, 987.6, 1.0012});
  s.rows.push_back({"a_long_parameter", -12.5, 0.5, -12.49, -13.3, -11.7,
                    std::nan(""), std::nan(""), std::nan("")});
  const std::string expected =
      "                      mean        sd    median      5.0%     95.0%"
      "  ess_bulk  ess_tail     r_hat\n"
      "              mu      0.12      1.00      0.12     -1.60      1.70"
      "      1523       988      1.00\n"
      "a_long_parameter    -12.50      0.50    -12.49    -13.30    -11.70"
      "       nan       nan       nan\n"
      "\nNumber of divergences: 2\n";
  EXPECT_EQ(s.to_string(), expected);
  std::ostringstream os;
  os << s;
  EXPECT_EQ(os.str(), expected);
}

TEST(Summary, BadInput) {
  const Draws x = small_draws();
  const auto wrong_names = summary(x, 0, {"only_one"});
  EXPECT_EQ(wrong_names.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(wrong_names.status().message()).find("1 parameter names for 2"),
            std::string::npos);
  EXPECT_EQ(summary(Draws::from_shape({0, 6, 2})).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(summary(ChainDraws::from_shape({2, 3})).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace nutshell::diagnostics
