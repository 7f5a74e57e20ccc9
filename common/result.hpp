// Result<T>: a value or an Error, with the surface of std::expected (which g++ 12 lacks).
// Errors are values: nothing in simbmc throws across a folder boundary.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace simbmc {

// A failure with a short machine-readable kind and a human message for logs.
struct Error {
  enum class Kind { invalidArgument, notFound, io, corrupt, full, busy, denied, internal };
  Kind kind = Kind::internal;
  std::string message;
};

inline Error makeError(Error::Kind kind, std::string message) { return Error{kind, std::move(message)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool hasValue() const { return v_.index() == 0; }
  explicit operator bool() const { return hasValue(); }

  T& value() & { assert(hasValue()); return std::get<0>(v_); }
  const T& value() const& { assert(hasValue()); return std::get<0>(v_); }
  T&& value() && { assert(hasValue()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { assert(!hasValue()); return std::get<1>(v_); }

  template <typename U>
  T valueOr(U&& fallback) const& { return hasValue() ? value() : static_cast<T>(std::forward<U>(fallback)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool hasValue() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { assert(!ok_); return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace simbmc
