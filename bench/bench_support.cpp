#include "bench_support.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

namespace jiancang::bench {

void fail(const std::string& what) { throw BenchFailure(what); }

void onFourThreads(int count, const std::function<void(int)>& work) {
  std::mutex mutex;
  std::string failure;
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int first = 0; first < 4; ++first) {
    threads.emplace_back([&, first] {
      try {
        for (int i = first; i < count; i += 4) work(i);
      } catch (const std::exception& error) {
        std::lock_guard lock(mutex);
        if (failure.empty()) failure = error.what();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  if (!failure.empty()) fail(failure);
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

double percentile(const std::vector<double>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  auto index = static_cast<std::size_t>(fraction * static_cast<double>(sorted.size() - 1));
  return sorted[index];
}

double seconds(std::chrono::steady_clock::duration elapsed) {
  return std::chrono::duration<double>(elapsed).count();
}

int runBench(const char* name, int (*run)(int, char**), int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& failure) {
    std::fprintf(stderr, "%s: %s\n", name, failure.what());
    return 1;
  }
}

std::int64_t nowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace jiancang::bench
