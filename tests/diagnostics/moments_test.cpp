// row_moments (eight, then four rows at a time) against mean() and variance() one row at
// a time: the same bits, for row counts around the block of four, short
// rows, large offsets (where the refinement pass matters) and constants.
#include "nutshell/diagnostics/moments.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace nutshell::diagnostics {
namespace {

bool same(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof a) == 0;
}

TEST(RowMoments, EqualsMeanAndVarianceBitForBit) {
  std::uint64_t s = 99;
  auto uniform = [&] {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(s >> 11) / 9007199254740992.0;
  };
  for (std::size_t rows : {1u, 3u, 4u, 5u, 8u, 9u, 13u, 21u}) {
    for (std::size_t n : {0u, 1u, 2u, 3u, 17u, 400u}) {
      for (double offset : {0.0, 1e8, -3e15}) {
        std::vector<double> x(rows * n);
        for (std::size_t i = 0; i < x.size(); ++i)
          x[i] = offset + (i / (n ? n : 1) == 1 ? 0.25 : uniform() - 0.5);  // row 1 constant
        std::vector<double> means(rows), variances(rows), means_only(rows);
        row_moments(x.data(), rows, n, means.data(), variances.data());
        row_moments(x.data(), rows, n, means_only.data(), nullptr);
        for (std::size_t r = 0; r < rows; ++r) {
          const std::span<const double> row(x.data() + r * n, n);
          EXPECT_TRUE(same(means[r], mean(row))) << rows << " " << n << " " << offset;
          EXPECT_TRUE(same(means_only[r], mean(row)));
          EXPECT_TRUE(same(variances[r], variance(row))) << rows << " " << n << " " << offset;
        }
      }
    }
  }
}

}  // namespace
}  // namespace nutshell::diagnostics
