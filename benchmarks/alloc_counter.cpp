#include "benchmarks/alloc_counter.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <malloc.h>
#include <new>

// glibc's own allocator entry points (exported by libc.so.6).
extern "C" {
void* __libc_malloc(std::size_t) noexcept;
void* __libc_calloc(std::size_t, std::size_t) noexcept;
void* __libc_realloc(void*, std::size_t) noexcept;
void* __libc_memalign(std::size_t, std::size_t) noexcept;
void __libc_free(void*) noexcept;
}

namespace {
// Plain (static TLS) counters: no constructor, no allocation on first use,
// so they are safe to touch from inside malloc.
// initial-exec: never __tls_get_addr, which may itself call malloc.
__attribute__((tls_model("initial-exec"))) thread_local std::uint64_t t_heap = 0;
__attribute__((tls_model("initial-exec"))) thread_local std::uint64_t t_new = 0;
}  // namespace

namespace nutshell::bench {
std::uint64_t thread_heap_allocations() { return t_heap; }
std::uint64_t thread_operator_new_calls() { return t_new; }
}  // namespace nutshell::bench

// --- the malloc family --------------------------------------------------
// Not under AddressSanitizer: it replaces the allocator itself, and memory
// from its malloc must not reach glibc's free. There only operator new is
// counted (the smoke test checks correctness, not allocation counts).
#if !defined(__SANITIZE_ADDRESS__)
extern "C" {
void* malloc(std::size_t n) noexcept {
  ++t_heap;
  return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t size) noexcept {
  ++t_heap;
  return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t n) noexcept {
  ++t_heap;
  return __libc_realloc(p, n);
}
void free(void* p) noexcept { __libc_free(p); }
int posix_memalign(void** out, std::size_t alignment, std::size_t n) noexcept {
  ++t_heap;
  if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0) return 22;  // EINVAL
  void* p = __libc_memalign(alignment, n);
  if (p == nullptr) return 12;  // ENOMEM
  *out = p;
  return 0;
}
void* aligned_alloc(std::size_t alignment, std::size_t n) noexcept {
  ++t_heap;
  return __libc_memalign(alignment, n);
}
void* memalign(std::size_t alignment, std::size_t n) noexcept {
  ++t_heap;
  return __libc_memalign(alignment, n);
}
}  // extern "C"
#endif  // !__SANITIZE_ADDRESS__

// --- operator new / delete ----------------------------------------------
namespace {
void* counted_new(std::size_t n) {
  ++t_new;
  if (void* p = malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* counted_new_aligned(std::size_t n, std::align_val_t a) {
  ++t_new;
  if (void* p = memalign(static_cast<std::size_t>(a), n ? n : 1)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) { return counted_new(n); }
void* operator new[](std::size_t n) { return counted_new(n); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_new_aligned(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_new_aligned(n, a); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  ++t_new;
  return malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  ++t_new;
  return malloc(n ? n : 1);
}
void operator delete(void* p) noexcept { free(p); }
void operator delete[](void* p) noexcept { free(p); }
void operator delete(void* p, std::size_t) noexcept { free(p); }
void operator delete[](void* p, std::size_t) noexcept { free(p); }
void operator delete(void* p, std::align_val_t) noexcept { free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { free(p); }
