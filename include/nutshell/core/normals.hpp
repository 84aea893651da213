// Fast vectors of standard normals from one key: the momentum draw of every
// HMC / NUTS transition.
//
// `Stream::normal` (Box-Muller, one Threefry block per two uniforms, libm
// log / sin / cos per pair) costs ~17 ns per normal, which at d = 100 and a
// dozen leapfrog steps per transition was a quarter of NUTS's time. Here the
// random words come from Threefry-2x64-20 evaluated on 8 counters at once
// (plain fixed-width loops the compiler turns into SIMD even at -O2) and
// each 32-bit half of a word becomes a normal by the 256-layer ziggurat
// (Marsaglia and Tsang 2000): a table lookup, a multiply and a compare for
// ~99% of the draws. Layer index, sign and uniform come from disjoint bits
// of the 32-bit word (bits 0-7, bit 8, bits 9-31), which avoids the
// correlation Doornik (2005) found when they share bits; the 23-bit uniform
// puts a fast-path draw on a grid of 2^-23 of its layer's width (< 5e-7),
// far below anything a sampler can resolve, and halves the Threefry work
// per normal (the cipher keeps its full 20 rounds). The rare rejections draw
// their retries from Threefry blocks addressed by the output's index, so
// output i is a pure function of (key, i) whatever the vector length.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "nutshell/core/key.hpp"
#include "nutshell/core/types.hpp"

namespace nutshell {

namespace detail {
inline constexpr std::uint64_t kNormalsTag = 0x4e4f524d414c5300ULL;  // "NORMALS"
inline constexpr std::size_t kThreefryLanes = 8;

/// Threefry-2x64-20 (bitwise Random123's r123::Threefry2x64) of the 8
/// counters (c0 + j, c1), j = 0..7, under `key`: block j is
/// (out[2 j], out[2 j + 1]). Written lane-parallel so it vectorises.
void threefry_lanes(const Key& key, std::uint64_t c0, std::uint64_t c1,
                    std::array<std::uint64_t, 2 * kThreefryLanes>& out);
}  // namespace detail

/// Fills `out` with independent standard normals, a pure function of `key`:
/// out[i] does not depend on out.size(). About 10x faster than
/// `normal(key, out)` (a different, equally valid sequence). No allocation.
void standard_normals(const Key& key, std::span<double> out);

/// The same into a Vec.
inline void standard_normals(const Key& key, Vec& out) {
  standard_normals(key, std::span<double>(out.data(), out.size()));
}

}  // namespace nutshell
