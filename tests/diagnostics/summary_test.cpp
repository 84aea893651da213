#include "nutshell/diagnostics/summary.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <xtensor/xview.hpp>

#include "fixtures.hpp"
#include "nutshell/diagnostics/diagnostics.hpp"
#include "nutshell/diagnostics/moments.hpp"
#include "nutshell/diagnostics/quantile.hpp"

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

// The table's R-hat, ESS and quantiles come from one sort per parameter
// (sorted_draws.hpp); they must be the public functions' bits: AR(1)
// draws, heavy ties, a constant, values equal in the high half of their
// sort keys, and more than one radix chunk (65535 draws).
TEST(Summary, RowsAreBitwiseThePublicDiagnostics) {
  auto same = [](double a, double b) {
    return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof a) == 0;
  };
  std::uint64_t state = 12345;
  auto uniform = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) / 9007199254740992.0 - 0.5;
  };
  for (auto [m, n] : {std::pair<std::size_t, std::size_t>{4, 101}, {40, 2000}}) {
    Draws x = Draws::from_shape({m, n, 4});
    for (std::size_t c = 0; c < m; ++c) {
      double a = 0.0;
      for (std::size_t i = 0; i < n; ++i) {
        a = 0.9 * a + uniform();
        x(c, i, 0) = a + 0.1 * static_cast<double>(c);
        x(c, i, 1) = std::round(4 * uniform()) / 2;
        x(c, i, 2) = 2.5;
        x(c, i, 3) = 1.0 + std::floor(64 * (uniform() + 0.5)) * 0x1p-44;
      }
    }
    auto s = summary(x);
    auto rhat_all = rhat(x);
    auto bulk = ess_bulk(x);
    auto tail = ess_tail(x);
    ASSERT_TRUE(s.ok() && rhat_all.ok() && bulk.ok() && tail.ok());
    for (std::size_t k = 0; k < 4; ++k) {
      std::vector<double> all(m * n);
      for (std::size_t i = 0; i < m * n; ++i) all[i] = x.data()[i * 4 + k];
      const SummaryRow& r = s->rows[k];
      EXPECT_TRUE(same(r.rhat, (*rhat_all)(k))) << k << " " << r.rhat;
      EXPECT_TRUE(same(r.ess_bulk, (*bulk)(k))) << k << " " << r.ess_bulk;
      EXPECT_TRUE(same(r.ess_tail, (*tail)(k))) << k << " " << r.ess_tail;
      EXPECT_TRUE(same(r.median, median(all))) << k;
      EXPECT_TRUE(same(r.q5, quantile(all, 0.05))) << k;
      EXPECT_TRUE(same(r.q95, quantile(all, 0.95))) << k;
      EXPECT_TRUE(same(r.mean, mean(all))) << k;
    }
  }
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
  const std::vector<RankedColumns> one_column(1);
  const auto wrong_ranked = summary(x, 0, {}, one_column);
  EXPECT_EQ(wrong_ranked.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(wrong_ranked.status().message()).find("1 parameters for 2"),
            std::string::npos);
}

// Given sorted columns land in their own fields; mean and sd are computed.
TEST(Summary, GivenRankedColumnsFillTheirFields) {
  const Draws x = small_draws();
  const auto plain = summary(x, 3, {"a", "b"});
  ASSERT_TRUE(plain.ok());
  std::vector<RankedColumns> ranked(2);
  for (std::size_t k = 0; k < 2; ++k)
    ranked[k] = {10.0 + k, 20.0 + k, 30.0 + k, 40.0 + k, 50.0 + k, 60.0 + k};
  const auto given = summary(x, 3, {"a", "b"}, ranked);
  ASSERT_TRUE(given.ok()) << given.status();
  EXPECT_EQ(given->num_divergences, 3u);
  for (std::size_t k = 0; k < 2; ++k) {
    const SummaryRow& r = given->rows[k];
    EXPECT_EQ(r.name, plain->rows[k].name);
    EXPECT_EQ(r.mean, plain->rows[k].mean);
    EXPECT_EQ(r.sd, plain->rows[k].sd);
    EXPECT_EQ(r.median, 10.0 + k);
    EXPECT_EQ(r.q5, 20.0 + k);
    EXPECT_EQ(r.q95, 30.0 + k);
    EXPECT_EQ(r.rhat, 40.0 + k);
    EXPECT_EQ(r.ess_bulk, 50.0 + k);
    EXPECT_EQ(r.ess_tail, 60.0 + k);
  }
}

}  // namespace
}  // namespace nutshell::diagnostics
