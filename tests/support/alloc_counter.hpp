// Counts heap allocations made by this test binary, to show hot paths
// allocate nothing. Include in exactly one translation unit of a test.
#pragma once

#include <atomic>
#include <cstdlib>
#include <new>

namespace nutshell::testing {
inline std::atomic<long> g_allocations{0};
inline std::atomic<bool> g_counting{false};

/// Counts allocations between construction and `count()`.
class AllocationScope {
 public:
  AllocationScope() {
    g_allocations = 0;
    g_counting = true;
  }
  ~AllocationScope() { g_counting = false; }
  long count() const { return g_allocations.load(); }
};
}  // namespace nutshell::testing

void* operator new(std::size_t n) {
  if (nutshell::testing::g_counting) ++nutshell::testing::g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (nutshell::testing::g_counting) ++nutshell::testing::g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a) {
  if (nutshell::testing::g_counting) ++nutshell::testing::g_allocations;
  const std::size_t al = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
