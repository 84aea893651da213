#include "nutshell/core/normals.hpp"

#include <bit>
#include <algorithm>
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

// Built at load time (no guard on the hot path).
const Ziggurat kZiggurat;

// Retry words for output `index`: Threefry blocks (index, kRetryTag + k)
// under the call's key, a counter space disjoint from the fast path's.
class RetryWords {
 public:
  RetryWords(const Key& key, std::uint64_t index) : key_(key), index_(index) {}
  std::uint64_t next() {
    if (have_) {
      have_ = false;
      return spare_;
    }
    const auto b = detail::threefry(key_, index_, kRetryTag + counter_++);
    spare_ = b[1];
    have_ = true;
    return b[0];
  }
  double uniform() { return detail::to_unit_open(next()); }

 private:
  static constexpr std::uint64_t kRetryTag = 0x5a49475245540000ULL;  // "ZIGRET"
  Key key_;
  std::uint64_t index_;
  std::uint64_t counter_ = 0, spare_ = 0;
  bool have_ = false;
};

// The rare case: the 32-bit word `w` fell outside layer i's inner
// rectangle. Retries (new words, as the algorithm asks) come from
// RetryWords keyed by the output index, so no other output moves.
double ziggurat_slow(std::uint32_t w, const Key& key, std::uint64_t index) {
  const Ziggurat& z = kZiggurat;
  RetryWords s(key, index);
  for (;;) {
    const std::size_t i = w & 0xff;
    const double sign = (w >> 8) & 1 ? -1.0 : 1.0;
    const double x = static_cast<double>(w >> 9) * 0x1.0p-23 * z.x[i];
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
    w = static_cast<std::uint32_t>(s.next());
  }
}

constexpr std::size_t L = detail::kThreefryLanes;
constexpr std::size_t kPerBatch = 4 * L;  // 32-bit words per 8 Threefry blocks

// The fast path on 8 words (one 32-bit half of one Threefry output word per
// lane): layer from bits 0-7, sign bit 8, uniform from bits 9-31. Writes
// every lane's candidate and returns a mask of the lanes that fell outside
// their layer's inner rectangle (bit j for lane j). Branch-free, so it
// vectorises (table gathers).
[[gnu::always_inline]] inline std::uint32_t fast_lanes(const std::uint64_t* __restrict words,
                                                       int shift, double* __restrict out) {
  const Ziggurat& z = kZiggurat;
  std::uint32_t outside = 0;
  for (std::size_t j = 0; j < L; ++j) {
    const std::uint64_t w = (words[j] >> shift) & 0xffffffffu;
    const std::size_t i = w & 0xff;
    const double a = static_cast<double>(static_cast<std::int64_t>(w >> 9)) * 0x1.0p-23 * z.x[i];
    outside |= (a < z.x[i + 1] ? 0u : 1u) << j;
    out[j] = std::bit_cast<double>(std::bit_cast<std::uint64_t>(a) ^ ((w & 0x100) << 55));
  }
  return outside;
}

}  // namespace

void standard_normals(const Key& key, std::span<double> out) {
  const std::size_t n = out.size();
  std::array<std::uint64_t, 2 * L> words;
  std::uint64_t x0[L], x1[L];
  double tmp[kPerBatch];
  for (std::size_t start = 0, batch = 0; start < n; start += kPerBatch, ++batch) {
    detail::threefry_lanes(key, batch * L, detail::kNormalsTag, words);
    for (std::size_t j = 0; j < L; ++j) {
      x0[j] = words[2 * j];
      x1[j] = words[2 * j + 1];
    }
    const std::size_t m = n - start < kPerBatch ? n - start : kPerBatch;
    double* o = m == kPerBatch ? out.data() + start : tmp;
    // Output start + 8 g + j takes half g % 2 of word g / 2 of block j.
    // Bit k of `outside` marks output start + k for the slow path; only the
    // marked ones are revisited (about 1.5% of draws; a scan of all 32 on
    // every batch with one cost half the draw's time).
    std::uint32_t outside = fast_lanes(x0, 0, o);
    outside |= fast_lanes(x0, 32, o + L) << L;
    outside |= fast_lanes(x1, 0, o + 2 * L) << (2 * L);
    outside |= fast_lanes(x1, 32, o + 3 * L) << (3 * L);
    if (m < kPerBatch) outside &= (std::uint32_t{1} << m) - 1;  // the tail's unused outputs
    while (outside) [[unlikely]] {
      const std::size_t k = static_cast<std::size_t>(std::countr_zero(outside));
      outside &= outside - 1;
      const std::uint64_t src = (k / L) < 2 ? x0[k % L] : x1[k % L];
      const std::uint32_t w = static_cast<std::uint32_t>(src >> (32 * ((k / L) % 2)));
      o[k] = ziggurat_slow(w, key, start + k);
    }
    if (o == tmp) std::copy(tmp, tmp + m, out.data() + start);
  }
}

}  // namespace nutshell
