// The thread-local tape of reverse-mode autodiff: a bump arena for nodes and
// their operands, and the stack of nodes to sweep. Rewound, never freed,
// after each gradient, so steady-state gradients allocate nothing.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <new>
#include <span>
#include <type_traits>
#include <vector>

namespace nutshell::ad {

/// A bump allocator made of blocks that are kept when rewound. Allocation is
/// a pointer increment; a block that runs out moves to the next kept block or
/// allocates a new, larger one (only while warming up).
class Arena {
 public:
  static constexpr std::size_t kAlign = 16;

  /// A position to rewind to.
  struct Mark {
    std::size_t block = 0;
    std::size_t used = 0;
  };

  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena() {
    for (auto& b : blocks_) ::operator delete(b.data, std::align_val_t(kAlign));
  }

  /// `bytes` of uninitialised storage aligned to 16, valid until rewound.
  // Always inlined: every tape node and operand array comes through here,
  // and on small models the call itself was a visible share of a gradient.
  [[gnu::always_inline]] void* allocate(std::size_t bytes) {
    bytes = (bytes + kAlign - 1) & ~(kAlign - 1);
    if (used_ + bytes > cap_) [[unlikely]]
      next_block(bytes);
    void* p = cur_ + used_;
    used_ += bytes;
    return p;
  }

  /// The current position.
  Mark mark() const { return {block_, used_}; }

  /// Forgets everything allocated after `m` (the blocks are kept).
  void rewind(Mark m) {
    if (blocks_.empty()) return;
    block_ = m.block;
    used_ = m.used;
    cur_ = blocks_[block_].data;
    cap_ = blocks_[block_].size;
  }

  /// Bytes reserved in all blocks (for tests and diagnostics).
  std::size_t reserved() const {
    std::size_t s = 0;
    for (auto& b : blocks_) s += b.size;
    return s;
  }

 private:
  struct Block {
    char* data;
    std::size_t size;
  };

  [[gnu::noinline]] void next_block(std::size_t bytes) {
    // Reuse a kept block when it is large enough, else insert a new one.
    std::size_t next = blocks_.empty() ? 0 : block_ + 1;
    while (next < blocks_.size() && blocks_[next].size < bytes) ++next;
    if (next >= blocks_.size()) {
      std::size_t size = blocks_.empty() ? (std::size_t{1} << 16) : 2 * blocks_.back().size;
      size = std::max(size, bytes);
      char* data = static_cast<char*>(::operator new(size, std::align_val_t(kAlign)));
      blocks_.push_back({data, size});
      next = blocks_.size() - 1;
    }
    block_ = next;
    cur_ = blocks_[next].data;
    cap_ = blocks_[next].size;
    used_ = 0;
  }

  std::vector<Block> blocks_;
  std::size_t block_ = 0;
  char* cur_ = nullptr;
  std::size_t used_ = 0;
  std::size_t cap_ = 0;
};

struct vari;

/// One thread's tape: the arena holding nodes and operand arrays, and the
/// nodes in the order they were recorded (the reverse sweep walks it back).
class Tape {
 public:
  /// A position of both the arena and the node stack.
  struct Mark {
    Arena::Mark arena;
    std::size_t nodes = 0;
  };

  Arena& arena() { return arena_; }
  /// Records a node whose `chain()` the reverse sweep must call.
  [[gnu::always_inline]] void push(vari* v) { stack_.push_back(v); }
  Mark mark() const { return {arena_.mark(), stack_.size()}; }
  /// Forgets every node recorded after `m`.
  void rewind(Mark m) {
    arena_.rewind(m.arena);
    stack_.resize(std::min(stack_.size(), m.nodes));
  }
  /// Calls `chain()` of every node recorded after `m`, newest first.
  inline void sweep(Mark m);
  std::size_t size() const { return stack_.size(); }

 private:
  Arena arena_;
  std::vector<vari*> stack_;
};

namespace detail {
// A constant-initialised pointer: reading it costs no TLS init wrapper.
inline thread_local constinit Tape* tls_tape = nullptr;
inline Tape* make_tape() {
  thread_local Tape t;
  tls_tape = &t;
  return &t;
}
}  // namespace detail

/// This thread's tape.
[[gnu::always_inline]] inline Tape& tape() {
  Tape* t = detail::tls_tape;
  if (!t) [[unlikely]]
    t = detail::make_tape();
  return *t;
}

/// Uninitialised storage for `n` objects of trivially destructible `T` in this
/// thread's arena, valid until the enclosing `TapeScope` (or the adapter's
/// evaluation) ends.
template <class T>
[[gnu::always_inline]] inline T* arena_alloc(std::size_t n) {
  static_assert(std::is_trivially_destructible_v<T>, "the arena never runs destructors");
  return static_cast<T*>(tape().arena().allocate(n * sizeof(T) + (n == 0)));
}

/// Copies `s` into the arena.
template <class T>
std::span<T> arena_copy(std::span<const T> s) {
  T* p = arena_alloc<T>(s.size());
  std::copy(s.begin(), s.end(), p);
  return {p, s.size()};
}

/// Scope guard: everything recorded on this thread's tape after construction
/// is forgotten at destruction (also when an exception unwinds through it).
/// Scopes nest.
class TapeScope {
 public:
  TapeScope() : mark_(tape().mark()) {}
  TapeScope(const TapeScope&) = delete;
  TapeScope& operator=(const TapeScope&) = delete;
  ~TapeScope() { tape().rewind(mark_); }
  /// Where this scope started.
  Tape::Mark mark() const { return mark_; }

 private:
  Tape::Mark mark_;
};

}  // namespace nutshell::ad
