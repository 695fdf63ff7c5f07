// Status and Result<T>: how every regd module reports failure.
//
// Errors are values inside regd; exceptions never cross a module or thread
// boundary. A Status carries a Code that says what kind of failure it is (the
// web layer, and only the web layer, maps it to an HTTP status), a message
// for logs, and for kBusy/kFull/kRateLimited the number of seconds after
// which a retry makes sense. A failure a client may be told about also
// carries its reason: a pointer to its entry in the message table (the
// domain's messages.h), which code compares by address (never by text) and
// the web layer answers from, in the client's language.
//
// Thread-safety: plain values; copy freely. Messages are immutable statics.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace regd {

// A text a client can be shown, in each language regd speaks, and the form
// field it concerns (nullptr: none). Instances live in static tables.
struct Message {
  const char* en;
  const char* zh;
  const char* field;
};

class Status {
 public:
  enum class Code {
    kOk,
    kInvalid,           // the caller's input breaks a rule
    kNotFound,          // the thing asked for does not exist (or has expired)
    kConflict,          // a uniqueness rule would be broken (username, mobile)
    kUnauthorized,      // no live session
    kForbidden,         // the account may not do this (disabled)
    kWrongCredentials,  // a login named no user or the wrong password (one answer for both)
    kRateLimited,       // try again after retry_after seconds
    kBusy,              // overloaded; retry_after seconds
    kFull,              // storage full (LMDB map at its cap, disk full); retry_after seconds
    kUnavailable,       // storage cannot be used at all
    kInternal,          // a bug or an unexpected library failure
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status Invalid(std::string msg) { return Status(Code::kInvalid, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status Conflict(std::string msg) { return Status(Code::kConflict, std::move(msg)); }
  static Status Unauthorized(std::string msg) {
    return Status(Code::kUnauthorized, std::move(msg));
  }
  static Status RateLimited(std::string msg, int64_t retry_after_s) {
    return Status(Code::kRateLimited, std::move(msg), retry_after_s);
  }
  static Status Busy(std::string msg, int64_t retry_after_s = 1) {
    return Status(Code::kBusy, std::move(msg), retry_after_s);
  }
  static Status Full(std::string msg, int64_t retry_after_s = 60) {
    return Status(Code::kFull, std::move(msg), retry_after_s);
  }
  static Status Unavailable(std::string msg) { return Status(Code::kUnavailable, std::move(msg)); }
  static Status Internal(std::string msg) { return Status(Code::kInternal, std::move(msg)); }

  // Failures with a client-facing reason (the message's English text is the
  // log message).
  static Status Invalid(const Message& why) { return Status(Code::kInvalid, why); }
  static Status NotFound(const Message& why) { return Status(Code::kNotFound, why); }
  static Status Conflict(const Message& why) { return Status(Code::kConflict, why); }
  static Status Unauthorized(const Message& why) { return Status(Code::kUnauthorized, why); }
  static Status Forbidden(const Message& why) { return Status(Code::kForbidden, why); }
  static Status WrongCredentials(const Message& why) {
    return Status(Code::kWrongCredentials, why);
  }
  static Status RateLimited(const Message& why, int64_t retry_after_s) {
    return Status(Code::kRateLimited, why, retry_after_s);
  }
  static Status Busy(const Message& why, int64_t retry_after_s = 1) {
    return Status(Code::kBusy, why, retry_after_s);
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // The client-facing reason, or nullptr (the client gets a generic text).
  const Message* reason() const { return reason_; }
  int64_t retry_after_s() const { return retry_after_s_; }
  std::string ToString() const;

 private:
  Status(Code code, std::string msg, int64_t retry_after_s = 0)
      : code_(code), message_(std::move(msg)), retry_after_s_(retry_after_s) {}
  Status(Code code, const Message& why, int64_t retry_after_s = 0)
      : code_(code), message_(why.en), reason_(&why), retry_after_s_(retry_after_s) {}

  Code code_ = Code::kOk;
  std::string message_;
  const Message* reason_ = nullptr;
  int64_t retry_after_s_ = 0;
};

// Result<T> holds either a T or a non-ok Status.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: implicit by design
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

inline std::string Status::ToString() const {
  const char* name = "internal";
  switch (code_) {
    case Code::kOk:
      name = "ok";
      break;
    case Code::kInvalid:
      name = "invalid";
      break;
    case Code::kNotFound:
      name = "not found";
      break;
    case Code::kConflict:
      name = "conflict";
      break;
    case Code::kUnauthorized:
      name = "unauthorized";
      break;
    case Code::kForbidden:
      name = "forbidden";
      break;
    case Code::kWrongCredentials:
      name = "wrong credentials";
      break;
    case Code::kRateLimited:
      name = "rate limited";
      break;
    case Code::kBusy:
      name = "busy";
      break;
    case Code::kFull:
      name = "full";
      break;
    case Code::kUnavailable:
      name = "unavailable";
      break;
    case Code::kInternal:
      name = "internal";
      break;
  }
  std::string s = name;
  if (!message_.empty()) s += ": " + message_;
  return s;
}

}  // namespace regd
