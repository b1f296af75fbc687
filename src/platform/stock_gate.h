// Where a first-come drop's free stock is checked before an order's SQL transaction, so that
// the crowd after a sell-out is refused without touching the database. By default Drops does
// this in process: a drop it saw sold out is refused from memory for a second. Configured with
// Redis instead (`jiancang up --stock-redis HOST:PORT`), every instance sharing one database
// shares one count, checked and decremented by a Lua script inside Redis: the design many flash
// sale systems use.
//
// Either way the database's reservation stays the authority: a gate can only refuse early,
// never sell a copy the database has not reserved. A count that drifts (an instance killed
// between taking a copy and giving it back) is reloaded from the database when its key expires,
// ten seconds after it was loaded.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <core/status.h>

namespace jiancang::platform {

// The drop's free copies as the database has them now.
using AvailableLoader = std::function<core::Result<std::int64_t>()>;

class StockGate {
 public:
  virtual ~StockGate() = default;
  // Takes one copy of the drop if any is left (false: sold out). `load` is asked when the gate
  // does not know the drop's count yet. Fails only when the gate cannot be reached.
  virtual core::Result<bool> take(std::int64_t dropId, const AvailableLoader& load) = 0;
  // Gives copies back: a taken copy the database then refused, or orders that expired or were
  // refunded. A drop the gate does not know is left alone.
  virtual void giveBack(std::int64_t dropId, std::int64_t count) = 0;
};

// "HOST:PORT" of a Redis server. Reasons: "stock-redis-address" (not HOST:PORT),
// "stock-redis-unreachable" (no answer to PING within a second).
core::Result<std::unique_ptr<StockGate>> connectRedisStockGate(const std::string& address);

}  // namespace jiancang::platform
