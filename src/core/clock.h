// Time as a typed value, and the Clock interface through which services read it. The chain never
// reads a clock: its time comes from the block header. Services get a Clock so tests can move it.
#pragma once

#include <atomic>
#include <chrono>
#include <compare>
#include <cstdint>

namespace jiancang::core {

using Duration = std::chrono::milliseconds;

// Milliseconds since the Unix epoch, UTC.
class Timestamp {
 public:
  constexpr Timestamp() = default;
  static constexpr Timestamp fromUnixMillis(std::int64_t millis) { return Timestamp(millis); }
  constexpr std::int64_t unixMillis() const { return millis_; }

  constexpr Timestamp operator+(Duration duration) const {
    return Timestamp(millis_ + duration.count());
  }
  constexpr Duration operator-(Timestamp other) const { return Duration(millis_ - other.millis_); }
  friend constexpr auto operator<=>(Timestamp, Timestamp) = default;

 private:
  constexpr explicit Timestamp(std::int64_t millis) : millis_(millis) {}
  std::int64_t millis_ = 0;
};

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp now() const = 0;
};

// Wall-clock time from the operating system.
class SystemClock final : public Clock {
 public:
  Timestamp now() const override;
};

// A clock that moves only when told to; for tests. Safe to read from several threads.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Timestamp start = Timestamp::fromUnixMillis(0)) : now_(start.unixMillis()) {}
  Timestamp now() const override { return Timestamp::fromUnixMillis(now_.load()); }
  void set(Timestamp time) { now_.store(time.unixMillis()); }
  void advance(Duration duration) { now_.fetch_add(duration.count()); }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace jiancang::core
