#pragma once
/// Splits [0, n) into contiguous ranges over std::threads. Each index is written by exactly
/// one thread and nothing is reduced across threads, so results do not depend on the
/// thread count. An exception in a worker is rethrown in the caller after every join.

#include <algorithm>
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

/// Calls body(t, begin, end) for t in [0, threads) on disjoint, ordered ranges covering
/// [0, n), one thread each (the calling thread takes the last range).
template <class Body>
void run_ranges(std::size_t n, unsigned threads, Body&& body) {
  if (threads <= 1) {
    body(0u, std::size_t{0}, n);
    return;
  }
  std::vector<std::thread> workers;
  std::vector<std::exception_ptr> errors(threads);
  workers.reserve(threads - 1);
  const std::size_t step = (n + threads - 1) / threads;
  const auto run = [&](unsigned t) {
    const std::size_t begin = std::min(n, t * step);
    const std::size_t end = std::min(n, begin + step);
    try {
      body(t, begin, end);
    } catch (...) {
      errors[t] = std::current_exception();
    }
  };
  // The calling thread takes the last range: one thread fewer to start.
  for (unsigned t = 0; t + 1 < threads; ++t) workers.emplace_back(run, t);
  run(threads - 1);
  for (auto& worker : workers) worker.join();
  for (auto& error : errors) {
    if (error) std::rethrow_exception(error);
  }
}

}  // namespace scalingperf
