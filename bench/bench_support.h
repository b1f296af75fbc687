// What the benchmarks that drive the real binary share: failing a run so that the servers it
// started are stopped on the way out, a few threads of sign-ups, medians and wall-clock time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace jiancang::bench {

// Thrown rather than exiting, so that the servers a run started are stopped on the way out.
struct BenchFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& what);

// Runs work(i) for i in [0, count) on four threads; the first failure is rethrown here.
void onFourThreads(int count, const std::function<void(int)>& work);

double median(std::vector<double> values);
// The value at `fraction` (0.99: p99) of `sorted`, nearest rank below; 0 when empty.
double percentile(const std::vector<double>& sorted, double fraction);
double seconds(std::chrono::steady_clock::duration elapsed);

// main() of a benchmark: runs `run`, and on a failure prints "NAME: why" and returns 1.
int runBench(const char* name, int (*run)(int, char**), int argc, char** argv);

// Unix time in milliseconds, as the API's timestamps are.
std::int64_t nowMillis();

}  // namespace jiancang::bench
