// Splittable counter-based random keys, as in JAX.
//
// A Key is a 128-bit Threefry-2x64 key. Every random quantity is a pure
// function of a key: the same key always gives the same draw, and a key is
// never advanced in place. New independent keys come from `split` and
// `fold_in`, which encrypt a domain-tagged counter under the parent key, so
// children of different operations never collide. This is what makes results
// bitwise reproducible whatever the thread count.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

// Threefry is scalar. Random123's SSE types (for its AES-based generators,
// unused here) would pull <x86intrin.h>, ~54k lines, into every file that
// draws a random number; without them each of those files compiles ~1 s
// faster. The draws are the same bits.
#ifndef R123_USE_SSE
#define R123_USE_SSE 0
#endif
#include <Random123/threefry.h>

#include "nutshell/core/types.hpp"

namespace nutshell {

/// A random key. Value type; copy freely, but use each key for one purpose.
struct Key {
  std::array<std::uint64_t, 2> words{0, 0};
  friend bool operator==(const Key&, const Key&) = default;
};

namespace detail {
// Domain tags keep the counter spaces of split, fold_in and draws disjoint.
inline constexpr std::uint64_t kSplitTag = 0x53504c4954000000ULL;  // "SPLIT"
inline constexpr std::uint64_t kFoldTag = 0x464f4c4400000000ULL;   // "FOLD"
inline constexpr std::uint64_t kDrawTag = 0x4452415700000000ULL;   // "DRAW"
inline constexpr std::uint64_t kSeedTag = 0x5345454400000000ULL;   // "SEED"

inline std::array<std::uint64_t, 2> threefry(const Key& key, std::uint64_t c0,
                                             std::uint64_t c1) {
  r123::Threefry2x64 g;
  r123::Threefry2x64::ctr_type ctr = {{c0, c1}};
  r123::Threefry2x64::key_type k = {{key.words[0], key.words[1]}};
  auto out = g(ctr, k);
  return {out[0], out[1]};
}

// 53 random bits mapped to the open interval (0, 1): never 0, so log(u) is
// finite, and never 1.
inline double to_unit_open(std::uint64_t bits) {
  return (static_cast<double>(bits >> 11) + 0.5) * 0x1.0p-53;
}
}  // namespace detail

/// A key from an integer seed (the analogue of `jax.random.key(seed)`).
inline Key make_key(std::uint64_t seed) {
  return Key{detail::threefry(Key{{seed, 0x6e75747368656c6cULL}}, 0, detail::kSeedTag)};
}

/// Child `i` of `split(key, n)`, without materialising the other children.
inline Key split_one(const Key& key, std::uint64_t i) {
  return Key{detail::threefry(key, i, detail::kSplitTag)};
}

/// `n` independent children of `key`.
inline std::vector<Key> split(const Key& key, std::size_t n) {
  std::vector<Key> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = split_one(key, i);
  return out;
}

/// `N` independent children of `key` on the stack (no allocation): the form
/// the kernels use, e.g. `auto [k_momentum, k_accept] = split<2>(key);`.
template <std::size_t N>
std::array<Key, N> split(const Key& key) {
  std::array<Key, N> out;
  for (std::size_t i = 0; i < N; ++i) out[i] = split_one(key, i);
  return out;
}

/// A key derived from `key` and an integer (step index, chain index...).
inline Key fold_in(const Key& key, std::uint64_t data) {
  return Key{detail::threefry(key, data, detail::kFoldTag)};
}

/// A stream of draws from one key: draw `i` is a pure function of (key, i).
/// Used where an algorithm needs an unbounded number of draws (rejection
/// sampling, slice shrinkage). Copying a stream copies its position.
class Stream {
 public:
  explicit Stream(const Key& key) : key_(key) {}
  /// 64 random bits.
  std::uint64_t bits() {
    if (have_spare_) {
      have_spare_ = false;
      return spare_;
    }
    auto b = detail::threefry(key_, counter_++, detail::kDrawTag);
    spare_ = b[1];
    have_spare_ = true;
    return b[0];
  }
  /// Uniform on the open interval (0, 1).
  double uniform() { return detail::to_unit_open(bits()); }
  /// Standard normal (Box-Muller on two uniforms).
  double normal() {
    if (have_normal_) {
      have_normal_ = false;
      return spare_normal_;
    }
    const double u1 = uniform(), u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double theta = 2.0 * M_PI * u2;
    spare_normal_ = r * std::sin(theta);
    have_normal_ = true;
    return r * std::cos(theta);
  }
  /// Exponential with rate 1.
  double exponential() { return -std::log(uniform()); }
  /// Gamma(shape, 1) by Marsaglia and Tsang (2000); shape > 0.
  double gamma(double shape) {
    if (!(shape > 0.0)) return std::numeric_limits<double>::quiet_NaN();
    if (shape < 1.0) {
      // Boost: Gamma(a) = Gamma(a + 1) * U^(1/a).
      const double g = gamma(shape + 1.0);
      return g * std::pow(uniform(), 1.0 / shape);
    }
    const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
      double x, v;
      do {
        x = normal();
        v = 1.0 + c * x;
      } while (v <= 0.0);
      v = v * v * v;
      const double u = uniform();
      if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
      if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
    }
  }

 private:
  Key key_;
  std::uint64_t counter_ = 0;
  std::uint64_t spare_ = 0;
  bool have_spare_ = false;
  double spare_normal_ = 0.0;
  bool have_normal_ = false;
};

/// Uniform on (0, 1).
inline double uniform(const Key& key) { return Stream(key).uniform(); }
/// Uniform on (lo, hi).
inline double uniform(const Key& key, double lo, double hi) {
  return lo + (hi - lo) * uniform(key);
}
/// Standard normal scalar.
inline double normal(const Key& key) { return Stream(key).normal(); }
/// Fills `out` with independent standard normals (no allocation).
inline void normal(const Key& key, std::span<double> out) {
  Stream s(key);
  for (double& x : out) x = s.normal();
}
/// Fills a Vec with independent standard normals (no allocation).
inline void normal(const Key& key, Vec& out) {
  normal(key, std::span<double>(out.data(), out.size()));
}
/// A new vector of `n` standard normals.
inline Vec normal(const Key& key, std::size_t n) {
  Vec out = Vec::from_shape({n});
  normal(key, out);
  return out;
}
/// Exponential with rate 1.
inline double exponential(const Key& key) { return Stream(key).exponential(); }
/// Gamma(shape, 1); NaN when shape <= 0.
inline double gamma(const Key& key, double shape) { return Stream(key).gamma(shape); }
/// True with probability p.
inline bool bernoulli(const Key& key, double p) { return uniform(key) < p; }

/// An index drawn with probability proportional to `weights` (non-negative,
/// not all zero); returns -1 when no weight is positive and finite.
inline std::ptrdiff_t categorical(const Key& key, std::span<const double> weights) {
  double total = 0.0;
  for (double w : weights)
    if (w > 0.0 && std::isfinite(w)) total += w;
  if (!(total > 0.0) || !std::isfinite(total)) return -1;
  const double target = uniform(key) * total;
  double acc = 0.0;
  std::ptrdiff_t last = -1;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const double w = weights[i];
    if (!(w > 0.0 && std::isfinite(w))) continue;
    acc += w;
    last = static_cast<std::ptrdiff_t>(i);
    if (target < acc) return last;
  }
  return last;  // rounding put target at the very top
}

/// An index drawn with probability proportional to exp(logits): the
/// numerically stable form for unnormalised log-probabilities.
inline std::ptrdiff_t categorical_logits(const Key& key, std::span<const double> logits) {
  double m = -std::numeric_limits<double>::infinity();
  for (double l : logits)
    if (l > m && !std::isnan(l)) m = l;
  if (!std::isfinite(m)) return -1;
  double total = 0.0;
  for (double l : logits)
    if (!std::isnan(l)) total += std::exp(l - m);
  const double target = uniform(key) * total;
  double acc = 0.0;
  std::ptrdiff_t last = -1;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    if (std::isnan(logits[i])) continue;
    const double w = std::exp(logits[i] - m);
    if (w <= 0.0) continue;
    acc += w;
    last = static_cast<std::ptrdiff_t>(i);
    if (target < acc) return last;
  }
  return last;
}

}  // namespace nutshell
