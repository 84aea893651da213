// A persistent pool of worker threads for the many-chain (lockstep)
// warmups: one parallel_for per warmup iteration, thousands of them, each
// only a few transitions long. detail::parallel_for starts and joins its
// threads on every call, which allocates (the threads' state) and costs
// tens of microseconds per iteration; this pool starts its threads once
// and hands each iteration's task over through a mutex and two condition
// variables, so a dispatch allocates nothing.
//
// Which thread runs which index is still first come, first served; the
// lockstep loops only ever write index i's own outputs from task(i), so
// the results do not depend on it (bitwise the same for any thread count).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "nutshell/run/pmap.hpp"

namespace nutshell::detail {

class LockstepPool {
 public:
  /// A pool for tasks over `n` indices on `num_threads` threads (0: the
  /// hardware's count, as pmap; never more than n); the calling thread is
  /// one of them, so 1 starts no thread.
  LockstepPool(std::size_t num_threads, std::size_t n) {
    const std::size_t t = resolve_num_threads(num_threads, n);
    workers_.reserve(t > 0 ? t - 1 : 0);
    for (std::size_t k = 0; k + 1 < t; ++k) workers_.emplace_back([this] { work(); });
  }
  LockstepPool(const LockstepPool&) = delete;
  LockstepPool& operator=(const LockstepPool&) = delete;
  ~LockstepPool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    start_.notify_all();
    for (auto& w : workers_) w.join();
  }

  /// Runs task(i) for i in [0, n) on the pool and returns when all are
  /// done. `task` must not throw. Allocation-free.
  template <class Task>
  void run(std::size_t n, Task& task) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      fn_ = [](void* ctx, std::size_t i) { (*static_cast<Task*>(ctx))(i); };
      ctx_ = &task;
      n_ = n;
      next_.store(0);
      busy_ = workers_.size();
      ++generation_;
    }
    start_.notify_all();
    drain(fn_, ctx_, n);
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [this] { return busy_ == 0; });
  }

 private:
  void drain(void (*fn)(void*, std::size_t), void* ctx, std::size_t n) {
    for (std::size_t i = next_.fetch_add(1); i < n; i = next_.fetch_add(1)) fn(ctx, i);
  }

  void work() {
    std::uint64_t seen = 0;
    for (;;) {
      void (*fn)(void*, std::size_t) = nullptr;
      void* ctx = nullptr;
      std::size_t n = 0;
      {
        std::unique_lock<std::mutex> lock(mu_);
        start_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        fn = fn_;
        ctx = ctx_;
        n = n_;
      }
      drain(fn, ctx, n);
      std::lock_guard<std::mutex> lock(mu_);
      if (--busy_ == 0) done_.notify_one();
    }
  }

  std::mutex mu_;
  std::condition_variable start_, done_;
  std::uint64_t generation_ = 0;
  bool stop_ = false;
  void (*fn_)(void*, std::size_t) = nullptr;
  void* ctx_ = nullptr;
  std::size_t n_ = 0;
  std::size_t busy_ = 0;
  std::atomic<std::size_t> next_{0};
  std::vector<std::thread> workers_;
};

}  // namespace nutshell::detail
