// What the SQLite and PostgreSQL implementations of platform::Database share: a pool of
// connections and the retry loop around a transaction.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <platform/database.h>

namespace jiancang::platform::internal {

inline core::Status sqlError(std::string message) {
  return {core::ErrorCode::kInternal, "sql-error", std::move(message)};
}
inline core::Status sqlConflict(std::string message) {
  return {core::ErrorCode::kUnavailable, "sql-conflict", std::move(message)};
}
inline core::Status sqlUniqueViolation(std::string message) {
  return {core::ErrorCode::kAlreadyExists, "sql-unique-violation", std::move(message)};
}

// A fixed set of connections handed out one at a time; a caller waits while all are in use.
template <typename Connection>
class ConnectionPool {
 public:
  void add(std::unique_ptr<Connection> connection) {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(connection));
  }

  class Lease {
   public:
    Lease(ConnectionPool& pool, std::unique_ptr<Connection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    ~Lease() { pool_.giveBack(std::move(connection_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Connection& operator*() { return *connection_; }
    Connection* operator->() { return connection_.get(); }

   private:
    ConnectionPool& pool_;
    std::unique_ptr<Connection> connection_;
  };

  Lease acquire() {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [&] { return !idle_.empty(); });
    auto connection = std::move(idle_.back());
    idle_.pop_back();
    return Lease(*this, std::move(connection));
  }

 private:
  void giveBack(std::unique_ptr<Connection> connection) {
    {
      std::lock_guard lock(mutex_);
      idle_.push_back(std::move(connection));
    }
    available_.notify_one();
  }

  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

// Runs `attempt` until it succeeds, fails for a reason other than a conflict, or has conflicted
// kMaxAttempts times; waits a little longer after each conflict.
inline core::Status retryOnConflict(const std::function<core::Status()>& attempt) {
  constexpr int kMaxAttempts = 12;
  core::Status status;
  for (int tries = 1; tries <= kMaxAttempts; ++tries) {
    status = attempt();
    if (status.isOk() || status.reason() != "sql-conflict") return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(tries * tries));
  }
  return status;
}

}  // namespace jiancang::platform::internal
