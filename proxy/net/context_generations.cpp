#include "proxy/net/context_generations.hpp"

#include <algorithm>

namespace tlsprobe::proxy {

ContextGenerations::ContextGenerations(std::shared_ptr<ProxyContext> first)
    : current_(std::move(first)) {}

std::shared_ptr<ProxyContext> ContextGenerations::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

void ContextGenerations::replace(std::shared_ptr<ProxyContext> next) {
  std::lock_guard lock(mutex_);
  // A retired generation nobody uses any more (no connection, no line waiting for its
  // probe) is released; one still in use stays so shutdown can drain it.
  std::erase_if(retired_, [](const std::shared_ptr<ProxyContext>& c) {
    return c->open_connections() == 0 && c->pending_lines() <= 0;
  });
  retired_.push_back(std::move(current_));
  current_ = std::move(next);
}

std::size_t ContextGenerations::count() const {
  std::lock_guard lock(mutex_);
  return retired_.size() + 1;
}

std::vector<std::shared_ptr<ProxyContext>> ContextGenerations::snapshot() const {
  std::lock_guard lock(mutex_);
  auto all = retired_;
  all.push_back(current_);
  return all;
}

std::size_t ContextGenerations::open_connections() const {
  std::size_t n = 0;
  for (const auto& c : snapshot()) n += c->open_connections();
  return n;
}

long ContextGenerations::pending_lines() const {
  long n = 0;
  for (const auto& c : snapshot()) n += c->pending_lines();
  return n;
}

void ContextGenerations::set_draining() {
  for (const auto& c : snapshot()) c->draining = true;
}

void ContextGenerations::close_all() {
  for (const auto& c : snapshot()) c->close_all();
}

}  // namespace tlsprobe::proxy
