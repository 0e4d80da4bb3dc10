// An optional value that is shared instead of copied, for the record's large parts: a
// tunnel's upstream handshake is its side probe's cached result, the same for every tunnel
// to the host, and copying it (its chain with each certificate's DER and names) into every
// tunnel's record, then destroying the copy, cost more than anything else the record did
// with it.
#pragma once

#include <memory>
#include <optional>
#include <utility>

namespace tlsprobe::proxy {

// Like std::optional<T> for reading (`if (v)`, `*v`, `v->field`), assigned from a T, an
// optional<T> or a shared pointer. Reads are const: a write goes through edit(), which first
// copies a value that others share, so a shared value never changes under its readers.
template <class T>
class SharedValue {
 public:
  SharedValue() = default;
  SharedValue(std::nullopt_t) {}  // NOLINT(google-explicit-constructor): optional's manners
  SharedValue(T value)            // NOLINT(google-explicit-constructor)
      : value_(std::make_shared<T>(std::move(value))) {}
  SharedValue(const std::optional<T>& value) {  // NOLINT(google-explicit-constructor)
    if (value) value_ = std::make_shared<T>(*value);
  }
  // Shares `value` (which must not change while shared: it is const to every holder).
  static SharedValue shared(std::shared_ptr<const T> value) {
    SharedValue v;
    v.value_ = std::move(value);
    v.mine_ = false;
    return v;
  }

  explicit operator bool() const noexcept { return value_ != nullptr; }
  bool has_value() const noexcept { return value_ != nullptr; }
  const T& operator*() const noexcept { return *value_; }
  const T* operator->() const noexcept { return value_.get(); }
  void reset() noexcept {
    value_.reset();
    mine_ = true;
  }

  // The value to change in place; a shared one is copied first.
  T& edit() {
    if (!mine_ || value_.use_count() > 1) {
      value_ = std::make_shared<T>(*value_);
      mine_ = true;
    }
    // Made here as a non-const T (make_shared<T>) and held by this object alone.
    return const_cast<T&>(*value_);
  }

 private:
  std::shared_ptr<const T> value_;
  bool mine_ = true;  // value_ was made by this object as a non-const T
};

}  // namespace tlsprobe::proxy
