// convfix/status.h — error handling for the whole library.
//
// Contract: library functions never print, throw across the API or exit.
// They return a Status (or an Expected<T> carrying either a value or a
// Status). The CLI decides what to print and which exit code to use.
// Messages name the file, node, op and input index where relevant, e.g.
//   "model.onnx: node 'conv1' (Conv): input 1: expected rank 4, got 2".
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace convfix {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // caller passed something unusable (bad option, bad shape)
  kInvalidModel,      // the model file is malformed or inconsistent
  kNotImplemented,    // valid, but convfix does not support it (op, dtype, attr)
  kIoError,           // file cannot be read or written
  kShapeError,        // shapes do not fit together at run time
  kInternal,          // a bug in convfix
};

const char* status_code_name(StatusCode c);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is "prefix: message" (for adding context
  // such as the file name as an error travels up).
  Status with_context(const std::string& prefix) const {
    if (ok()) return *this;
    return Status(code_, prefix + ": " + message_);
  }
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status invalid_model(std::string m) { return {StatusCode::kInvalidModel, std::move(m)}; }
inline Status not_implemented(std::string m) { return {StatusCode::kNotImplemented, std::move(m)}; }
inline Status io_error(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
inline Status shape_error(std::string m) { return {StatusCode::kShapeError, std::move(m)}; }
inline Status internal_error(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Either a T or a non-OK Status. Access value() only when ok().
template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Expected(Status status) : v_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
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

}  // namespace convfix

// Propagate a non-OK Status from an expression returning Status.
#define CONVFIX_RETURN_IF_ERROR(expr)              \
  do {                                             \
    ::convfix::Status _cf_st = (expr);             \
    if (!_cf_st.ok()) return _cf_st;               \
  } while (0)

#define CONVFIX_CONCAT_INNER(a, b) a##b
#define CONVFIX_CONCAT(a, b) CONVFIX_CONCAT_INNER(a, b)
// Assign the value of an Expected<T> expression to `lhs`, or return its Status.
#define CONVFIX_ASSIGN_OR_RETURN(lhs, expr) \
  CONVFIX_ASSIGN_OR_RETURN_IMPL(CONVFIX_CONCAT(_cf_exp_, __LINE__), lhs, expr)
#define CONVFIX_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
