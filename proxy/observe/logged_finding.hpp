// A finding as connection records hold it: shared and immutable. A tunnel's side probe is
// cached, so every tunnel to a host carries the same findings; copying each one (five
// strings, two maps) into every tunnel's record, keying it for de-duplication, keying it
// again for the log line's memo and destroying the copy cost about 8% of a new tunnel's
// CPU. Shared, a finding is copied as a pointer, and what each record derives from it is
// worked out once: its key under the record's de-duplication rule and its JSON text.
#pragma once

#include "inspect/finding.hpp"

#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace tlsprobe::proxy {

// Two findings with the same key are one in a record: code, subject and evidence, except
// http.hsts_missing, which is the host's policy rather than a page's (once per host and
// header value, whatever the URL).
std::string finding_dedup_key(const inspect::Finding& f);

class LoggedFinding {
 public:
  explicit LoggedFinding(inspect::Finding f);
  LoggedFinding(const LoggedFinding&) = delete;
  LoggedFinding& operator=(const LoggedFinding&) = delete;

  const inspect::Finding& finding() const { return finding_; }
  std::string_view dedup_key() const { return dedup_key_; }

  // The finding's JSON text as `build(finding())` makes it, built the first time it is
  // asked for (thread-safe: records are written on several threads). `build` must depend
  // on the finding alone.
  template <class Build>
  const std::string& json(const Build& build) const {
    std::call_once(json_once_, [&] { json_ = build(finding_); });
    return json_;
  }

 private:
  inspect::Finding finding_;
  std::string dedup_key_;
  mutable std::once_flag json_once_;
  mutable std::string json_;
};

using FindingRef = std::shared_ptr<const LoggedFinding>;

// The findings of one record, in order. Reads like a std::vector<inspect::Finding>
// (iteration, size, front/back and [] give `const inspect::Finding&`); a pushed Finding is
// shared from then on, a pushed FindingRef is shared with whoever else holds it. Changing a
// finding means replacing its entry (refs()).
class FindingList {
 public:
  class const_iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = inspect::Finding;
    using difference_type = std::ptrdiff_t;
    using pointer = const inspect::Finding*;
    using reference = const inspect::Finding&;

    const_iterator() = default;
    explicit const_iterator(std::vector<FindingRef>::const_iterator it) : it_(it) {}
    reference operator*() const { return (*it_)->finding(); }
    pointer operator->() const { return &(*it_)->finding(); }
    reference operator[](difference_type n) const { return it_[n]->finding(); }
    const_iterator& operator++() { return ++it_, *this; }
    const_iterator operator++(int) { return const_iterator(it_++); }
    const_iterator& operator--() { return --it_, *this; }
    const_iterator operator--(int) { return const_iterator(it_--); }
    const_iterator& operator+=(difference_type n) { return it_ += n, *this; }
    const_iterator& operator-=(difference_type n) { return it_ -= n, *this; }
    friend const_iterator operator+(const_iterator a, difference_type n) { return a += n; }
    friend const_iterator operator+(difference_type n, const_iterator a) { return a += n; }
    friend const_iterator operator-(const_iterator a, difference_type n) { return a -= n; }
    friend difference_type operator-(const const_iterator& a, const const_iterator& b) {
      return a.it_ - b.it_;
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) = default;
    friend auto operator<=>(const const_iterator& a, const const_iterator& b) = default;

   private:
    std::vector<FindingRef>::const_iterator it_;
  };
  using value_type = inspect::Finding;
  using size_type = std::size_t;

  FindingList() = default;
  FindingList(std::initializer_list<inspect::Finding> findings);  // NOLINT: a vector's manners
  explicit FindingList(inspect::Findings findings);

  void push_back(inspect::Finding f);
  void push_back(FindingRef f) { refs_.push_back(std::move(f)); }
  void clear() { refs_.clear(); }

  bool empty() const { return refs_.empty(); }
  std::size_t size() const { return refs_.size(); }
  const_iterator begin() const { return const_iterator(refs_.begin()); }
  const_iterator end() const { return const_iterator(refs_.end()); }
  const inspect::Finding& operator[](std::size_t i) const { return refs_[i]->finding(); }
  const inspect::Finding& front() const { return refs_.front()->finding(); }
  const inspect::Finding& back() const { return refs_.back()->finding(); }

  const std::vector<FindingRef>& refs() const { return refs_; }
  std::vector<FindingRef>& refs() { return refs_; }
  // A copy as plain findings, for code that takes inspect::Findings (rare paths).
  inspect::Findings copy() const;

 private:
  std::vector<FindingRef> refs_;
};

// Worst first (error, warning, info), stable otherwise: inspect::sort_by_severity's order.
void sort_by_severity(FindingList& findings);

}  // namespace tlsprobe::proxy
