#include <pthread.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "scalingperf/parallel_for.hpp"

namespace scalingperf::detail {
namespace {

/// One cached thread's mailbox.
struct Slot {
  std::mutex mutex;
  std::condition_variable ready;
  std::function<void()> job;
};

/// The idle threads. Allocated, never freed: threads that outlive it would otherwise race
/// its destruction at exit, and a forked child gets a fresh one (its parent's threads do
/// not exist there, and its mutex may have been held at the fork).
struct Cache {
  std::mutex mutex;
  std::vector<Slot*> idle;
};
Cache* cache = nullptr;
std::once_flag fork_handler;

void serve(Slot* slot) {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(slot->mutex);
      slot->ready.wait(lock, [&] { return static_cast<bool>(slot->job); });
      job = std::move(slot->job);
      slot->job = nullptr;
    }
    job();
    job = nullptr;  // its captures go before the thread is offered again
    Cache* c = cache;
    std::lock_guard<std::mutex> lock(c->mutex);
    c->idle.push_back(slot);
  }
}

}  // namespace

void run_on_cached_thread(std::function<void()> job) {
  std::call_once(fork_handler, [] {
    cache = new Cache;
    pthread_atfork(nullptr, nullptr, [] { cache = new Cache; });
  });
  Slot* slot = nullptr;
  {
    std::lock_guard<std::mutex> lock(cache->mutex);
    if (!cache->idle.empty()) {
      slot = cache->idle.back();
      cache->idle.pop_back();
    }
  }
  if (slot == nullptr) {
    slot = new Slot;
    slot->job = std::move(job);
    std::thread(serve, slot).detach();
    return;
  }
  {
    std::lock_guard<std::mutex> lock(slot->mutex);
    slot->job = std::move(job);
  }
  slot->ready.notify_one();
}

}  // namespace scalingperf::detail
