#include "nutshell/core/normals.hpp"

#include <bit>
#include <cmath>

namespace nutshell {
namespace detail {
namespace {

// Rotation constants of Threefry-2x64 (Random123's R_64x2_*).
constexpr int kRot[8] = {16, 42, 12, 31, 16, 32, 24, 21};
constexpr std::uint64_t kParity = 0x1BD11BDAA9FC1A22ULL;
constexpr std::size_t L = kThreefryLanes;

inline std::uint64_t rotl(std::uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

}  // namespace

// One Threefry round on every lane, with a compile-time rotation (a
// variable rotation would not vectorise).
template <int R>
[[gnu::always_inline]] inline void round_lanes(std::uint64_t* x0, std::uint64_t* x1) {
  for (std::size_t j = 0; j < L; ++j) {
    x0[j] += x1[j];
    x1[j] = rotl(x1[j], R);
    x1[j] ^= x0[j];
  }
}

// Four rounds (rotations kRot[4 h .. 4 h + 3]) then key injection number s.
template <int H>
[[gnu::always_inline]] inline void group_lanes(std::uint64_t* x0, std::uint64_t* x1, std::uint64_t k0,
                        std::uint64_t k1) {
  round_lanes<kRot[4 * H]>(x0, x1);
  round_lanes<kRot[4 * H + 1]>(x0, x1);
  round_lanes<kRot[4 * H + 2]>(x0, x1);
  round_lanes<kRot[4 * H + 3]>(x0, x1);
  for (std::size_t j = 0; j < L; ++j) {
    x0[j] += k0;
    x1[j] += k1;
  }
}

void threefry_lanes(const Key& key, std::uint64_t c0, std::uint64_t c1,
                    std::array<std::uint64_t, 2 * L>& out) {
  const std::uint64_t ks[3] = {key.words[0], key.words[1],
                               kParity ^ key.words[0] ^ key.words[1]};
  std::uint64_t x0[L], x1[L];
  for (std::size_t j = 0; j < L; ++j) {
    x0[j] = c0 + j + ks[0];
    x1[j] = c1 + ks[1];
  }
  // 20 rounds in 5 groups of 4; after group s - 1 inject ks[s % 3] and
  // ks[(s + 1) % 3] + s.
  group_lanes<0>(x0, x1, ks[1], ks[2] + 1);
  group_lanes<1>(x0, x1, ks[2], ks[0] + 2);
  group_lanes<0>(x0, x1, ks[0], ks[1] + 3);
  group_lanes<1>(x0, x1, ks[1], ks[2] + 4);
  group_lanes<0>(x0, x1, ks[2], ks[0] + 5);
  for (std::size_t j = 0; j < L; ++j) {
    out[2 * j] = x0[j];
    out[2 * j + 1] = x1[j];
  }
}

}  // namespace detail

namespace {

// The 256-layer ziggurat for exp(-x^2 / 2) (Marsaglia and Tsang 2000): layer
// i has width x[i]; every layer, the base strip (i = 0, which includes the
// tail beyond r) included, has area v. x[0] = v / f(r), x[1] = r, x[256] = 0.
constexpr double kR = 3.6541528853610088;
constexpr double kV = 4.92867323399e-3;

struct Ziggurat {
  double x[257];
  double f[257];  // exp(-x^2 / 2)
  Ziggurat() {
    const auto fn = [](long double t) { return std::exp(-0.5L * t * t); };
    long double xi = kR;
    x[0] = static_cast<double>(kV / fn(kR));
    f[0] = 0.0;  // unused: layer 0's wedge is the tail
    x[1] = kR;
    for (int i = 1; i < 256; ++i) {
      f[i] = static_cast<double>(fn(xi));
      if (i == 255) break;
      const long double y = kV / xi + fn(xi);
      xi = y < 1.0L ? std::sqrt(-2.0L * std::log(y)) : 0.0L;
      x[i + 1] = static_cast<double>(xi);
    }
    x[256] = 0.0;
    f[256] = 1.0;
  }
};

const Ziggurat& ziggurat() {
  static const Ziggurat z;
  return z;
}

// The rare case: word `w` fell outside layer i's inner rectangle. Retries
// (new words, as the algorithm asks) come from a stream keyed by the output
// index, so no other output moves.
double ziggurat_slow(const Ziggurat& z, std::uint64_t w, const Key& retry_key) {
  Stream s(retry_key);
  for (;;) {
    const std::size_t i = w & 0xff;
    const double sign = (w >> 8) & 1 ? -1.0 : 1.0;
    const double u = static_cast<double>(w >> 11) * 0x1.0p-53;
    const double x = u * z.x[i];
    if (x < z.x[i + 1]) return sign * x;
    if (i == 0) {
      // Tail beyond r (Marsaglia 1964).
      for (;;) {
        const double a = -std::log(s.uniform()) / kR;
        const double b = -std::log(s.uniform());
        if (2.0 * b > a * a) return sign * (kR + a);
      }
    }
    // Wedge between layers i and i + 1: accept under the curve.
    if (z.f[i] + s.uniform() * (z.f[i + 1] - z.f[i]) < std::exp(-0.5 * x * x)) return sign * x;
    w = s.bits();
  }
}

}  // namespace

void standard_normals(const Key& key, std::span<double> out) {
  const Ziggurat& z = ziggurat();
  constexpr std::size_t kBlock = 2 * detail::kThreefryLanes;
  std::array<std::uint64_t, kBlock> words;
  const std::size_t n = out.size();
  for (std::size_t start = 0, batch = 0; start < n; start += kBlock, ++batch) {
    detail::threefry_lanes(key, batch * detail::kThreefryLanes, detail::kNormalsTag, words);
    const std::size_t m = n - start < kBlock ? n - start : kBlock;
    double* o = out.data() + start;
    // Fast path on all 16 words without branches (vectorisable: gathers from
    // the table, the sign bit moved into place), then the rare fix-ups.
    std::array<double, kBlock> x;
    std::array<std::uint64_t, kBlock> inside;
    for (std::size_t j = 0; j < kBlock; ++j) {
      const std::uint64_t w = words[j];
      const std::size_t i = w & 0xff;
      const double a = static_cast<double>(w >> 11) * 0x1.0p-53 * z.x[i];
      inside[j] = a < z.x[i + 1];
      x[j] = std::bit_cast<double>(std::bit_cast<std::uint64_t>(a) ^ ((w & 0x100) << 55));
    }
    for (std::size_t j = 0; j < m; ++j) {
      if (inside[j]) [[likely]]
        o[j] = x[j];
      else
        o[j] = ziggurat_slow(z, words[j], split_one(fold_in(key, detail::kNormalsTag), start + j));
    }
  }
}

}  // namespace nutshell
