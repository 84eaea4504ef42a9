#pragma once

// An open-addressing hash map with linear probing and backward-shift deletion (no
// tombstones), for the census's per-client and per-request tables: one allocation for the
// whole table, no node per entry, which keeps the census near memory speed and its memory
// per entry known (capacity × sizeof(slot), load at most 3/4).

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace ntpkit::capture::detail {

/// Key needs ==; Hash(key) gives a well-mixed 64-bit value.
template <class Key, class Value, class Hash>
class flat_map {
 public:
  struct slot {
    Key key{};
    Value value{};
    bool used = false;
  };

  explicit flat_map(std::size_t initial_capacity = 16) { rehash(round_up(initial_capacity)); }

  /// The value stored under `key`, or nullptr.
  Value* find(const Key& key) noexcept {
    for (std::size_t i = home(key);; i = (i + 1) & mask_) {
      slot& s = slots_[i];
      if (!s.used) return nullptr;
      if (s.key == key) return &s.value;
    }
  }

  const Value* find(const Key& key) const noexcept {
    return const_cast<flat_map*>(this)->find(key);
  }

  /// The value under `key`, inserted default-constructed if absent; second: inserted.
  std::pair<Value*, bool> insert(const Key& key) {
    if ((size_ + 1) * 4 > slots_.size() * 3) rehash(slots_.size() * 2);
    for (std::size_t i = home(key);; i = (i + 1) & mask_) {
      slot& s = slots_[i];
      if (!s.used) {
        s.used = true;
        s.key = key;
        s.value = Value{};
        ++size_;
        return {&s.value, true};
      }
      if (s.key == key) return {&s.value, false};
    }
  }

  /// Removes `key` (its value moved to *removed when given); false when absent. Later entries of
  /// the probe run move back into the gap, so that every lookup still stops at the first empty
  /// slot.
  bool erase(const Key& key, Value* removed = nullptr) noexcept {
    std::size_t i = home(key);
    for (;; i = (i + 1) & mask_) {
      if (!slots_[i].used) return false;
      if (slots_[i].key == key) break;
    }
    if (removed) *removed = std::move(slots_[i].value);
    for (std::size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      if (!slots_[j].used) break;
      const std::size_t h = home(slots_[j].key);
      // Move j into the gap at i unless its home lies cyclically in (i, j].
      const bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
      if (stays) continue;
      slots_[i] = std::move(slots_[j]);
      i = j;
    }
    slots_[i].used = false;
    --size_;
    return true;
  }

  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return slots_.size(); }
  std::size_t memory_bytes() const noexcept { return slots_.capacity() * sizeof(slot); }

  /// Calls f(key, value) for every entry, in table order.
  template <class F>
  void for_each(F&& f) const {
    for (const auto& s : slots_) {
      if (s.used) f(s.key, s.value);
    }
  }

 private:
  static std::size_t round_up(std::size_t n) {
    std::size_t c = 16;
    while (c < n) c *= 2;
    return c;
  }
  std::size_t home(const Key& key) const noexcept {
    return static_cast<std::size_t>(Hash{}(key)) & mask_;
  }
  void rehash(std::size_t capacity) {
    std::vector<slot> old = std::move(slots_);
    slots_.assign(capacity, slot{});
    mask_ = capacity - 1;
    size_ = 0;
    for (auto& s : old) {
      if (s.used) *insert(s.key).first = std::move(s.value);
    }
  }

  std::vector<slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

/// A 64-bit mixer (the finaliser of MurmurHash3) for keys built from integers.
constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

}  // namespace ntpkit::capture::detail
