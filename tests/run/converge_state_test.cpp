// The convergence check (ConvergenceChecker) against the
// diagnostics of the joined draws, bit for bit, block by block: odd and
// even chain lengths (the split drops a different middle draw at each
// check), ties, signed zeros, constant parameters, chains that drop out;
// and the early exit, which stops at the first failing parameter and
// leaves the others unchecked until a later check reaches them.
#include "nutshell/run/converge_state.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "nutshell/diagnostics/diagnostics.hpp"
#include "nutshell/diagnostics/summary.hpp"
#include "nutshell/diagnostics/transforms.hpp"

namespace nutshell {
namespace {

bool same(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof a) == 0;
}

// Draws [m, n, 6]: AR(1) (phi 0.3), a slowly mixing AR(1) with a chain
// offset, heavy ties (rounded to 0.5, signed zeros), a constant, one
// constant within each chain but different across chains, and values
// 1 + k 2^-44 (k < 64) that differ only in the low 32 bits of their sort
// keys (so the sort's pass over runs of equal high halves orders them,
// with insertion sort in short runs and a stable sort in long ones).
diagnostics::Draws make_draws(std::size_t m, std::size_t n, std::uint64_t key) {
  std::uint64_t s = key * 0x9E3779B97F4A7C15ULL + 1;
  auto uniform = [&] {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(s >> 11) / 9007199254740992.0 - 0.5;
  };
  auto x = diagnostics::Draws::from_shape({m, n, 6});
  for (std::size_t c = 0; c < m; ++c) {
    double a = 0.0, b = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      a = 0.3 * a + uniform();
      b = 0.95 * b + uniform();
      x(c, i, 0) = a;
      x(c, i, 1) = b + 0.2 * static_cast<double>(c);
      const double r = std::round(2 * uniform()) / 2;
      x(c, i, 2) = r == 0.0 && uniform() < 0 ? -0.0 : r;
      x(c, i, 3) = 1.5;
      x(c, i, 4) = static_cast<double>(c);
      x(c, i, 5) = 1.0 + std::floor(64 * (uniform() + 0.5)) * 0x1p-44;
    }
  }
  return x;
}

// Rows `rows` and draws [from, to) of x.
diagnostics::Draws slice(const diagnostics::Draws& x, const std::vector<std::size_t>& rows,
                         std::size_t from, std::size_t to) {
  auto out = diagnostics::Draws::from_shape({rows.size(), to - from, x.shape(2)});
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::size_t i = from; i < to; ++i)
      for (std::size_t k = 0; k < x.shape(2); ++k) out(r, i - from, k) = x(rows[r], i, k);
  return out;
}

// Every parameter's values through a checker fed `blocks` (draw counts)
// one at a time, against the diagnostics of the draws so far.
void expect_equal_to_diagnostics(const diagnostics::Draws& x, const std::vector<std::size_t>& blocks,
                                 std::size_t threads) {
  const std::size_t m = x.shape(0), d = x.shape(2);
  std::vector<std::size_t> all(m);
  for (std::size_t c = 0; c < m; ++c) all[c] = c;
  std::vector<ConvergenceChecker> per_dim(d);
  ConvergenceChecker joint;
  std::size_t done = 0;
  for (std::size_t b : blocks) {
    const auto block = slice(x, all, done, done + b);
    ASSERT_TRUE(joint.add(block, all).ok());
    for (std::size_t k = 0; k < d; ++k) {
      auto one = diagnostics::Draws::from_shape({m, b, 1});
      for (std::size_t c = 0; c < m; ++c)
        for (std::size_t i = 0; i < b; ++i) one(c, i, 0) = block(c, i, k);
      ASSERT_TRUE(per_dim[k].add(one, all).ok());
    }
    done += b;
    if (done < diagnostics::kMinDraws) continue;
    const auto so_far = slice(x, all, 0, done);
    const auto rhat = diagnostics::rhat(so_far);
    const auto bulk = diagnostics::ess_bulk(so_far);
    const auto tail = diagnostics::ess_tail(so_far);
    ASSERT_TRUE(rhat.ok() && bulk.ok() && tail.ok());
    for (std::size_t k = 0; k < d; ++k) {
      const auto v = per_dim[k].check({});
      ASSERT_TRUE(v.ok()) << v.status();
      EXPECT_TRUE(same(v->max_rhat, (*rhat)(k))) << "n " << done << " dim " << k << ": "
                                                 << v->max_rhat << " vs " << (*rhat)(k);
      EXPECT_TRUE(same(v->min_ess_bulk, (*bulk)(k))) << "n " << done << " dim " << k;
      EXPECT_TRUE(same(v->min_ess_tail, (*tail)(k))) << "n " << done << " dim " << k;
    }
    const auto v = joint.check({}, threads);
    const auto w = check_convergence(so_far, {}, threads);
    ASSERT_TRUE(v.ok() && w.ok());
    EXPECT_EQ(v->num_draws, done);
    EXPECT_TRUE(same(v->max_rhat, w->max_rhat));
    EXPECT_TRUE(same(v->min_ess_bulk, w->min_ess_bulk));
    EXPECT_TRUE(same(v->min_ess_tail, w->min_ess_tail));
    EXPECT_EQ(v->worst_rhat_index, w->worst_rhat_index);
  }
}

std::size_t expect_early_exit_equal(const diagnostics::Draws& x,
                                    const std::vector<std::size_t>& blocks, std::size_t threads);

TEST(ConvergenceChecker, EqualsTheDiagnosticsBlockByBlock) {
  for (std::uint64_t key : {1u, 2u, 3u, 4u}) {
    const auto x = make_draws(4, 500, key);
    // Odd and even totals: 100, 150, 225, 338, 500; then tiny blocks.
    expect_equal_to_diagnostics(x, {100, 50, 75, 113, 162}, 1 + key % 3);
    expect_equal_to_diagnostics(x, {4, 1, 2, 3, 7, 1}, 1);
  }
}

TEST(ConvergenceChecker, ManyChainsUseTheRadixSort) {
  // 300 chains x 40 draws: more draws than the insertion-sort cutoff.
  expect_equal_to_diagnostics(make_draws(300, 40, 7), {10, 15, 15}, 2);
  // 700 chains x 200 draws: 140 000 draws per parameter in one radix sort
  // (more than 16 bits of counts), after checks that stopped early.
  const auto x = make_draws(700, 200, 8);
  expect_equal_to_diagnostics(x, {100, 100}, 2);
  EXPECT_GT(expect_early_exit_equal(x, {100, 60, 40}, 2), 0u);
}

TEST(ConvergenceChecker, DroppedChainsLeaveWithAllTheirDraws) {
  const auto x = make_draws(4, 300, 9);
  ConvergenceChecker checker;
  ASSERT_TRUE(checker.add(slice(x, {0, 1, 2, 3}, 0, 100), {10, 11, 12, 13}).ok());
  ASSERT_TRUE(checker.add(slice(x, {0, 2, 3}, 100, 151), {10, 12, 13}).ok());
  ASSERT_TRUE(checker.add(slice(x, {0, 3}, 151, 300), {10, 13}).ok());
  const auto v = checker.check({});
  const auto w = check_convergence(slice(x, {0, 3}, 0, 300), {});
  ASSERT_TRUE(v.ok() && w.ok());
  EXPECT_EQ(v->num_chains, 2u);
  EXPECT_TRUE(same(v->max_rhat, w->max_rhat));
  EXPECT_TRUE(same(v->min_ess_bulk, w->min_ess_bulk));
  EXPECT_TRUE(same(v->min_ess_tail, w->min_ess_tail));
}

// Parameters `dims` of x.
diagnostics::Draws columns(const diagnostics::Draws& x, const std::vector<std::size_t>& dims) {
  auto out = diagnostics::Draws::from_shape({x.shape(0), x.shape(1), dims.size()});
  for (std::size_t c = 0; c < x.shape(0); ++c)
    for (std::size_t i = 0; i < x.shape(1); ++i)
      for (std::size_t j = 0; j < dims.size(); ++j) out(c, i, j) = x(c, i, dims[j]);
  return out;
}

// A checker fed `blocks` and checked with the early exit after each, with
// targets that rotate between "all pass", "all fail" and realistic ones,
// against the diagnostics of the draws so far: the same decision; a
// partial verdict names the first failing parameter in the order (the
// previous failure first, then by index) with its values bit for bit; a
// complete one equals check_convergence. Parameters skipped at some checks
// are checked over several blocks at a later one. Returns how many partial
// checks skipped parameters.
std::size_t expect_early_exit_equal(const diagnostics::Draws& x,
                                    const std::vector<std::size_t>& blocks, std::size_t threads) {
  const std::size_t m = x.shape(0), d = x.shape(2);
  std::vector<std::size_t> all(m);
  for (std::size_t c = 0; c < m; ++c) all[c] = c;
  const ConvergenceOptions targets[] = {
      {.max_rhat = 1e9, .min_ess_bulk = 0, .min_ess_tail = 0},        // pass unless NaN / inf
      {.max_rhat = 1.01, .min_ess_bulk = 1e300, .min_ess_tail = 0},   // every parameter fails
      {.max_rhat = 1.05, .min_ess_bulk = 150, .min_ess_tail = 120}};  // some fail
  ConvergenceChecker checker;
  std::size_t lead = 0, done = 0, check = 0, skipped = 0;
  for (std::size_t b : blocks) {
    EXPECT_TRUE(checker.add(slice(x, all, done, done + b), all).ok());
    done += b;
    if (done < diagnostics::kMinDraws) continue;
    const ConvergenceOptions& o = targets[check++ % 3];
    const auto so_far = slice(x, all, 0, done);
    const auto rhat = diagnostics::rhat(so_far);
    const auto bulk = diagnostics::ess_bulk(so_far);
    const auto tail = diagnostics::ess_tail(so_far);
    EXPECT_TRUE(rhat.ok() && bulk.ok() && tail.ok());
    std::vector<std::size_t> order{lead};
    for (std::size_t k = 0; k < d; ++k)
      if (k != lead) order.push_back(k);
    std::size_t expected = d;  // position of the first failure
    for (std::size_t p = 0; p < d && expected == d; ++p) {
      const std::size_t k = order[p];
      if (!((*rhat)(k) < o.max_rhat && (*bulk)(k) >= o.min_ess_bulk &&
            (*tail)(k) >= o.min_ess_tail))
        expected = p;
    }
    const auto v = checker.check(o, threads, /*stop_at_first_failure=*/true);
    const auto full = check_convergence(so_far, o, threads);
    EXPECT_TRUE(v.ok() && full.ok());
    EXPECT_EQ(v->converged, full->converged) << "n " << done;
    EXPECT_EQ(v->partial, expected < d) << "n " << done;
    if (expected == d) {
      EXPECT_TRUE(same(v->max_rhat, full->max_rhat) && same(v->min_ess_bulk, full->min_ess_bulk) &&
                  same(v->min_ess_tail, full->min_ess_tail));
      EXPECT_EQ(v->parameters_checked, d);
      continue;
    }
    const std::size_t k = order[expected];
    EXPECT_EQ(v->worst_rhat_index, k) << "n " << done;
    EXPECT_EQ(v->parameters_checked, expected + 1);
    EXPECT_TRUE(same(v->max_rhat, (*rhat)(k))) << "n " << done << " dim " << k;
    EXPECT_TRUE(same(v->min_ess_bulk, (*bulk)(k))) << "n " << done << " dim " << k;
    EXPECT_TRUE(same(v->min_ess_tail, (*tail)(k))) << "n " << done << " dim " << k;
    skipped += expected + 1 < d;
    lead = k;
  }
  // The last check complete, every skipped parameter merged at once.
  const auto v = checker.check({}, threads);
  const auto w = check_convergence(slice(x, all, 0, done), {}, threads);
  EXPECT_TRUE(v.ok() && w.ok());
  EXPECT_FALSE(v->partial);
  EXPECT_TRUE(same(v->max_rhat, w->max_rhat));
  EXPECT_TRUE(same(v->min_ess_bulk, w->min_ess_bulk));
  EXPECT_TRUE(same(v->min_ess_tail, w->min_ess_tail));
  EXPECT_EQ(v->worst_rhat_index, w->worst_rhat_index);
  EXPECT_EQ(v->worst_ess_bulk_index, w->worst_ess_bulk_index);
  EXPECT_EQ(v->worst_ess_tail_index, w->worst_ess_tail_index);
  return skipped;
}

TEST(ConvergenceChecker, EarlyExitStopsAtTheFirstFailureWithItsExactValues) {
  const std::vector<std::size_t> schedule{100, 50, 75, 113, 7, 1, 4, 150};
  for (std::uint64_t key : {1u, 2u, 3u, 4u}) {
    const auto x = make_draws(4, 500, key);
    // The three parameters that can pass, then all five (3 and 4 never do).
    std::size_t skipped = 0;
    for (std::size_t threads : {1u, 2u, 3u}) {
      skipped += expect_early_exit_equal(columns(x, {0, 1, 2}), schedule, threads);
      skipped += expect_early_exit_equal(x, schedule, threads);
    }
    EXPECT_GT(skipped, 0u) << "key " << key;
  }
  // Many chains, and a chain that drops out after checks that skipped
  // parameters.
  EXPECT_GT(expect_early_exit_equal(make_draws(300, 40, 7), {10, 15, 15}, 2), 0u);
  const auto x = make_draws(4, 300, 9);
  ConvergenceChecker checker;
  const ConvergenceOptions impossible{.min_ess_bulk = 1e300};
  ASSERT_TRUE(checker.add(slice(x, {0, 1, 2, 3}, 0, 100), {10, 11, 12, 13}).ok());
  ASSERT_TRUE(checker.check(impossible, 1, true).ok());  // merges parameter 0 only
  ASSERT_TRUE(checker.add(slice(x, {0, 1, 2, 3}, 100, 151), {10, 11, 12, 13}).ok());
  ASSERT_TRUE(checker.add(slice(x, {0, 3}, 151, 300), {10, 13}).ok());
  const auto v = checker.check({});
  const auto w = check_convergence(slice(x, {0, 3}, 0, 300), {});
  ASSERT_TRUE(v.ok() && w.ok());
  EXPECT_TRUE(same(v->max_rhat, w->max_rhat));
  EXPECT_TRUE(same(v->min_ess_bulk, w->min_ess_bulk));
  EXPECT_TRUE(same(v->min_ess_tail, w->min_ess_tail));
}

// The sorted summary columns of a complete check are those of
// diagnostics::summary of the joined draws, bit for bit (so a run's table
// can reuse them); a partial check or a new block withdraws them.
TEST(ConvergenceChecker, RankedColumnsAreTheSummarysAfterACompleteCheckOnly) {
  for (std::uint64_t key : {1u, 2u, 3u}) {
    const auto x = make_draws(5, 301, key);  // odd: the split drops a middle draw
    const std::vector<std::size_t> all{0, 1, 2, 3, 4};
    for (std::size_t threads : {1u, 2u}) {
      ConvergenceChecker checker;
      ASSERT_TRUE(checker.add(slice(x, all, 0, 100), all).ok());
      EXPECT_TRUE(checker.ranked().empty());
      const ConvergenceOptions impossible{.min_ess_bulk = 1e300};
      ASSERT_TRUE(checker.check(impossible, threads, true).ok());  // stops at parameter 0
      EXPECT_TRUE(checker.ranked().empty());
      ASSERT_TRUE(checker.add(slice(x, all, 100, 301), all).ok());
      ASSERT_TRUE(checker.check(impossible, threads, false).ok());
      const auto ranked = checker.ranked();
      const auto table = diagnostics::summary(x);
      ASSERT_TRUE(table.ok());
      ASSERT_EQ(ranked.size(), table->rows.size());
      for (std::size_t k = 0; k < ranked.size(); ++k) {
        const auto& row = table->rows[k];
        EXPECT_TRUE(same(ranked[k].median, row.median)) << k;
        EXPECT_TRUE(same(ranked[k].q5, row.q5)) << k;
        EXPECT_TRUE(same(ranked[k].q95, row.q95)) << k;
        EXPECT_TRUE(same(ranked[k].rhat, row.rhat)) << k;
        EXPECT_TRUE(same(ranked[k].ess_bulk, row.ess_bulk)) << k;
        EXPECT_TRUE(same(ranked[k].ess_tail, row.ess_tail)) << k;
      }
      const auto reused = diagnostics::summary(x, 0, {}, ranked);
      ASSERT_TRUE(reused.ok()) << reused.status();
      EXPECT_EQ(reused->to_string(), table->to_string());
      ASSERT_TRUE(checker.add(slice(x, all, 0, 4), all).ok());  // any new block
      EXPECT_TRUE(checker.ranked().empty());
    }
  }
}

TEST(ConvergenceChecker, BadBlocksLeaveItUnchanged) {
  const auto x = make_draws(2, 20, 3);
  ConvergenceChecker checker;
  ASSERT_TRUE(checker.add(slice(x, {0, 1}, 0, 10), {0, 1}).ok());
  auto bad = slice(x, {0, 1}, 10, 20);
  bad(1, 3, 0) = std::nan("");
  EXPECT_EQ(checker.add(bad, {0, 1}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(checker.add(slice(x, {0, 1}, 10, 20), {0, 7}).code(), absl::StatusCode::kInternal);
  EXPECT_EQ(checker.num_draws(), 10u);
  EXPECT_EQ(checker.num_chains(), 2u);
  ConvergenceChecker empty;
  EXPECT_EQ(empty.check({}).status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(empty.add(slice(x, {0, 1}, 0, 3), {0, 1}).ok());
  EXPECT_EQ(empty.check({}).status().code(), absl::StatusCode::kInvalidArgument);  // 3 draws
}

TEST(Argsort, BothPathsSortAscendingWithStableTies) {
  for (std::size_t n : {1u, 7u, 64u, 65u, 5000u, 70000u}) {
    std::vector<double> v(n);
    std::uint64_t s = n;
    for (double& x : v) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      const int r = static_cast<int>(s >> 60) - 8;
      x = r == 0 ? ((s >> 40) & 1 ? -0.0 : 0.0) : r * 0.25;
    }
    const auto order = diagnostics::argsort(v);
    ASSERT_EQ(order.size(), n);
    for (std::size_t i = 1; i < n; ++i) {
      ASSERT_LE(v[order[i - 1]], v[order[i]]) << n;
      if (v[order[i - 1]] == v[order[i]]) {
        ASSERT_LT(order[i - 1], order[i]) << n;
      }
    }
  }
}

}  // namespace
}  // namespace nutshell
