#pragma once
/// Splits [0, n) into contiguous ranges over std::threads. Each index is written by exactly
/// one thread and nothing is reduced across threads, so results do not depend on the
/// thread count. An exception in a worker is rethrown in the caller after every join.

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace scalingperf {

/// Below this many items a loop runs on the calling thread: starting threads costs more.
constexpr std::size_t serial_threshold = 4096;

/// Most threads per hardware thread: more only add switching, and the threads are kept
/// for the life of the process (thread_cache.cpp).
constexpr unsigned max_threads_per_core = 4;

/// Resolves a user's thread count: 0 means every hardware thread; at most
/// max_threads_per_core per hardware thread.
inline unsigned effective_threads(unsigned requested, std::size_t n) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  unsigned threads = requested == 0 ? cores : std::min(requested, max_threads_per_core * cores);
  if (n < serial_threshold) return 1;
  return static_cast<unsigned>(std::min<std::size_t>(threads, n));
}

namespace detail {
/// Runs `job` on a thread kept from earlier calls, or on a new one that is kept after it.
/// Starting threads for every sweep cost more than small sweeps, and a sweep on freshly
/// started threads ran at about three quarters of the speed on the development machine.
void run_on_cached_thread(std::function<void()> job);

/// Counts down to zero; wait() returns once it is there.
class Countdown {
 public:
  explicit Countdown(unsigned n) : left_(n) {}
  void done() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (--left_ == 0) zero_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    zero_.wait(lock, [&] { return left_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable zero_;
  unsigned left_;
};

/// Runs worker(t) for t in [0, threads), the last on the calling thread and the others on
/// cached threads, and rethrows the first exception once all have finished.
template <class Worker>
void on_threads(unsigned threads, Worker&& worker) {
  std::vector<std::exception_ptr> errors(threads);
  const auto run = [&](unsigned t) {
    try {
      worker(t);
    } catch (...) {
      errors[t] = std::current_exception();
    }
  };
  Countdown others(threads - 1);
  unsigned started = 0;
  try {
    for (; started + 1 < threads; ++started) {
      run_on_cached_thread([&run, &others, t = started] {
        run(t);
        others.done();
      });
    }
  } catch (...) {  // no thread could be started: the rest runs here
    for (unsigned t = started; t + 1 < threads; ++t) {
      run(t);
      others.done();
    }
  }
  run(threads - 1);
  others.wait();
  for (auto& error : errors) {
    if (error) std::rethrow_exception(error);
  }
}
}  // namespace detail

/// Calls body(t, begin, end) for t in [0, threads) on disjoint, ordered ranges covering
/// [0, n), one thread each.
template <class Body>
void run_ranges(std::size_t n, unsigned threads, Body&& body) {
  if (threads <= 1) {
    body(0u, std::size_t{0}, n);
    return;
  }
  const std::size_t step = (n + threads - 1) / threads;
  detail::on_threads(threads, [&](unsigned t) {
    const std::size_t begin = std::min(n, t * step);
    body(t, begin, std::min(n, begin + step));
  });
}

/// Calls body(t, begin, end) on `chunks_per_thread x threads` disjoint ranges covering
/// [0, n), each taken by whichever thread t is free next: for reductions whose cost per
/// index varies along the range (pruning), which keep a state per thread and merge the
/// states in an order-free way. Which thread takes which range varies from run to run.
template <class Body>
void run_chunks(std::size_t n, unsigned threads, unsigned chunks_per_thread, Body&& body) {
  if (threads <= 1) {
    body(0u, std::size_t{0}, n);
    return;
  }
  const std::size_t chunks = std::size_t{threads} * std::max(1u, chunks_per_thread);
  const std::size_t step = (n + chunks - 1) / chunks;
  std::atomic<std::size_t> next{0};
  detail::on_threads(threads, [&](unsigned t) {
    for (std::size_t c = next++; c < chunks && c * step < n; c = next++) {
      body(t, c * step, std::min(n, (c + 1) * step));
    }
  });
}

}  // namespace scalingperf
