// Heap allocation counters for the benchmark binaries.
//
// Linking :alloc_counter replaces the global operator new / delete and
// interposes glibc's malloc family (malloc, calloc, realloc, posix_memalign,
// aligned_alloc, memalign, forwarding to __libc_*). Both are needed: with
// --config=opt (-DXTENSOR_USE_XSIMD) every xt::xtensor buffer comes from
// xsimd's aligned allocator, i.e. posix_memalign, and never goes through
// operator new, so an operator-new-only counter would report a Vec
// allocation as zero.
//
// Counts are per thread (static TLS), so a chain running on its own thread
// can read its own count while other chains allocate.
#pragma once

#include <cstdint>

namespace nutshell::bench {

/// Every heap allocation made by this thread so far: malloc, calloc,
/// realloc, posix_memalign, aligned_alloc, memalign, and operator new (which
/// lands in malloc).
std::uint64_t thread_heap_allocations();

/// Calls to the global operator new (all forms) made by this thread so far.
std::uint64_t thread_operator_new_calls();

}  // namespace nutshell::bench
