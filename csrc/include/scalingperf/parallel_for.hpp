#pragma once
/// Splits [0, n) into contiguous ranges over std::threads. Each index is written by exactly
/// one thread and nothing is reduced across threads, so results do not depend on the
/// thread count. An exception in a worker is rethrown in the caller after every join.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace scalingperf {

/// Below this many items a loop runs on the calling thread: starting threads costs more.
constexpr std::size_t serial_threshold = 4096;

/// Resolves a user's thread count: 0 means every hardware thread.
inline unsigned effective_threads(unsigned requested, std::size_t n) {
  unsigned threads = requested == 0 ? std::thread::hardware_concurrency() : requested;
  if (threads == 0) threads = 1;
  if (n < serial_threshold) return 1;
  return static_cast<unsigned>(std::min<std::size_t>(threads, n));
}

namespace detail {
/// Runs worker(t) for t in [0, threads), the last on the calling thread, and rethrows the
/// first exception after every join.
template <class Worker>
void on_threads(unsigned threads, Worker&& worker) {
  std::vector<std::thread> workers;
  std::vector<std::exception_ptr> errors(threads);
  workers.reserve(threads - 1);
  const auto run = [&](unsigned t) {
    try {
      worker(t);
    } catch (...) {
      errors[t] = std::current_exception();
    }
  };
  // The calling thread takes the last worker: one thread fewer to start.
  for (unsigned t = 0; t + 1 < threads; ++t) workers.emplace_back(run, t);
  run(threads - 1);
  for (auto& w : workers) w.join();
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
