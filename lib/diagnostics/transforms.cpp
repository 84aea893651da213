#include "nutshell/diagnostics/transforms.hpp"

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include "nutshell/diagnostics/quantile.hpp"
#include "nutshell/diagnostics/sorted_draws.hpp"
#include "nutshell/diagnostics/special_functions.hpp"

namespace nutshell::diagnostics {

xt::xtensor<double, 2> split_chains(const xt::xtensor<double, 2>& x) {
  const std::size_t m = x.shape()[0], n = x.shape()[1];
  if (n <= 1) return x;
  const std::size_t half = n / 2;
  const std::size_t second_start = n - half;  // skips the middle draw if odd
  xt::xtensor<double, 2> out({2 * m, half});
  for (std::size_t c = 0; c < m; ++c) {
    const double* row = x.data() + c * n;
    std::copy(row, row + half, out.data() + c * half);
    std::copy(row + second_start, row + n, out.data() + (m + c) * half);
  }
  return out;
}

namespace {

// Phi^-1((r - 3/8) / (s + 1/4)) for the integer ranks r = 1..s, computed
// once per s and thread: the untied draws of every quantity with s draws
// (every dimension, bulk and folded, in a convergence check) take their
// values from the same table, and the normal quantile is a large share of
// rank normalisation. Same expression as the direct one, so the same bits.
// Not kept past kMaxTable draws (memory).
constexpr std::size_t kMaxTable = std::size_t{1} << 20;

const std::vector<double>& normal_scores(std::size_t s) {
  thread_local std::vector<double> table;
  thread_local std::size_t table_s = 0;
  if (table_s != s) {
    table.resize(s);
    for (std::size_t r = 1; r <= s; ++r) table[r - 1] = rank_normal_score(r, s);
    table_s = s;
  }
  return table;
}

}  // namespace

double rank_normal_score(std::size_t r, std::size_t s) {
  constexpr double c = 3.0 / 8.0;
  const double denominator = static_cast<double>(s) - 2 * c + 1;
  return normal_quantile((static_cast<double>(r) - c) / denominator);
}

// Small n: a comparison sort (below the radix sort's fixed cost); else the
// pair sort of sorted_draws.hpp with the positions as tags.
std::vector<std::size_t> argsort(std::span<const double> v) {
  constexpr std::size_t kSmallSort = 64;
  const std::size_t n = v.size();
  if (n <= kSmallSort) {
    std::vector<std::size_t> order(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = i;
    // Ties in position order (stable), -0.0 tying with +0.0 as below.
    std::sort(order.begin(), order.end(), [&v](std::size_t a, std::size_t b) {
      return v[a] < v[b] || (v[a] == v[b] && a < b);
    });
    return order;
  }
  return argsort_radix(v);
}

void z_scale_sorted(std::span<const double> sorted, std::span<const std::size_t> dest,
                    double* out, std::span<const double> scores_of_ranks) {
  const std::size_t s = sorted.size();
  constexpr double c = 3.0 / 8.0;
  const double denominator = static_cast<double>(s) - 2 * c + 1;
  const double* scores = scores_of_ranks.size() == s ? scores_of_ranks.data()
                         : s <= kMaxTable            ? normal_scores(s).data()
                                                     : nullptr;
  for (std::size_t i = 0; i < s;) {
    std::size_t j = i + 1;
    while (j < s && sorted[j] == sorted[i]) ++j;
    // Tied draws share the average of ranks i + 1 .. j (exactly i + 1
    // when untied, the table's rank).
    const double value = scores && j == i + 1
                             ? scores[i]
                             : normal_quantile((0.5 * static_cast<double>(i + 1 + j) - c) / denominator);
    for (std::size_t k = i; k < j; ++k) out[dest[k]] = value;
    i = j;
  }
}

xt::xtensor<double, 2> z_scale(const xt::xtensor<double, 2>& x) {
  const std::size_t s = x.size();
  const double* v = x.data();
  const std::vector<std::size_t> order = argsort({v, s});
  std::vector<double> sorted(s);
  for (std::size_t i = 0; i < s; ++i) sorted[i] = v[order[i]];
  xt::xtensor<double, 2> z(x.shape());
  z_scale_sorted(sorted, order, z.data());
  return z;
}

xt::xtensor<double, 2> fold_draws(const xt::xtensor<double, 2>& x) {
  const double med = median(std::span<const double>(x.data(), x.size()));
  xt::xtensor<double, 2> out(x.shape());
  std::transform(x.begin(), x.end(), out.begin(),
                 [med](double v) { return std::abs(v - med); });
  return out;
}

}  // namespace nutshell::diagnostics
