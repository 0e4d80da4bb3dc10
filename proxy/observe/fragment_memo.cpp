#include "proxy/observe/fragment_memo.hpp"

namespace tlsprobe::proxy {

void append_key_part(std::string& key, std::string_view part) {
  const std::size_t n = part.size();
  key.append(reinterpret_cast<const char*>(&n), sizeof n);
  key.append(part);
}

FragmentMemo::Text FragmentMemo::find(std::string_view key) const {
  std::lock_guard lock(mutex_);
  const auto it = texts_.find(key);
  return it == texts_.end() ? nullptr : it->second;
}

void FragmentMemo::put(std::string key, Text text) {
  if (!text) return;
  const std::size_t added = key.size() + text->size();
  std::lock_guard lock(mutex_);
  if (bytes_ + added > max_bytes_) {
    texts_.clear();
    bytes_ = 0;
    if (added > max_bytes_) return;  // would never fit: built again each time
  }
  const auto [it, inserted] = texts_.try_emplace(std::move(key), std::move(text));
  if (inserted) bytes_ += added;
}

std::size_t FragmentMemo::size() const {
  std::lock_guard lock(mutex_);
  return texts_.size();
}

std::size_t FragmentMemo::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

}  // namespace tlsprobe::proxy
