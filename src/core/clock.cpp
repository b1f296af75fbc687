#include <core/clock.h>

namespace jiancang::core {

Timestamp SystemClock::now() const {
  auto sinceEpoch = std::chrono::system_clock::now().time_since_epoch();
  return Timestamp::fromUnixMillis(std::chrono::duration_cast<Duration>(sinceEpoch).count());
}

}  // namespace jiancang::core
