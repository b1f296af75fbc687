// Status and Result<T>: how every jiancang module reports an expected failure.
//
// A failure carries three things: a broad ErrorCode (what kind of failure, which the API maps to
// an HTTP status), a stable reason (a short kebab-case id such as "decode-trailing-bytes" that
// clients, receipts and tests match on, and that never changes once published) and a message
// for people. Bugs are not reported this way: they assert.
#pragma once

#include <cassert>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace jiancang::core {

// Numbers are stable: they may be stored and sent over the wire. Add, never renumber.
enum class ErrorCode : std::uint8_t {
  kOk = 0,
  kInvalidArgument = 1,     // the input is malformed or out of range
  kNotFound = 2,            // the thing asked for does not exist
  kAlreadyExists = 3,       // a unique thing would be created twice
  kPermissionDenied = 4,    // authenticated, but not allowed to do this
  kUnauthenticated = 5,     // who is asking is not known or not proven
  kFailedPrecondition = 6,  // well-formed, but the current state refuses it
  kResourceExhausted = 7,   // a limit or quota is reached; retrying later may work
  kUnavailable = 8,         // a dependency is down; retrying later may work
  kCorruption = 9,          // stored or received data fails its own integrity checks
  kIoError = 10,            // the operating system refused a read or write
  kInternal = 11,           // an unexpected failure that is nobody's input's fault
};

// "invalid-argument", "not-found", ...: the kebab-case name of a code.
std::string_view errorCodeName(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // success

  Status(ErrorCode code, std::string reason, std::string message)
      : code_(code), reason_(std::move(reason)), message_(std::move(message)) {
    assert(code != ErrorCode::kOk && !reason_.empty());
  }

  bool isOk() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  // Stable machine-readable id, empty on success.
  const std::string& reason() const { return reason_; }
  const std::string& message() const { return message_; }
  // "invalid-argument/decode-trailing-bytes: 3 bytes follow the value", or "ok".
  std::string toString() const;

  friend bool operator==(const Status& a, const Status& b) = default;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string reason_;
  std::string message_;
};

inline Status invalidArgument(std::string reason, std::string message) {
  return {ErrorCode::kInvalidArgument, std::move(reason), std::move(message)};
}
inline Status failedPrecondition(std::string reason, std::string message) {
  return {ErrorCode::kFailedPrecondition, std::move(reason), std::move(message)};
}
inline Status notFound(std::string reason, std::string message) {
  return {ErrorCode::kNotFound, std::move(reason), std::move(message)};
}

// A value or the Status saying why there is none. Constructing one from an ok Status is a bug.
template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cvref_t<T>, Status>, "use Status directly");

 public:
  // Implicit on purpose, so that a function returning Result<T> can `return value;` or
  // `return status;`.
  // NOLINTNEXTLINE(google-explicit-constructor)
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  // NOLINTNEXTLINE(google-explicit-constructor)
  Result(Status status) : state_(std::in_place_index<1>, std::move(status)) {
    assert(!std::get<1>(state_).isOk());
  }

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return checkedValue(); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::move(checkedValue()); }
  T& operator*() & { return checkedValue(); }
  const T& operator*() const& { return std::get<0>(state_); }
  T* operator->() { return &checkedValue(); }
  const T* operator->() const { return &std::get<0>(state_); }

  // The failure, or an ok Status when there is a value.
  Status status() const { return ok() ? Status() : std::get<1>(state_); }

 private:
  T& checkedValue() {
    assert(ok());
    return std::get<0>(state_);
  }

  std::variant<T, Status> state_;
};

}  // namespace jiancang::core
