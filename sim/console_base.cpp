#include "sim/console_base.hpp"

#include <algorithm>

namespace simbmc::sim {

void HistoryRing::append(std::span<const uint8_t> bytes) {
  const size_t cap = buf_.size();
  if (cap == 0 || bytes.empty()) return;
  if (bytes.size() >= cap) {
    std::copy(bytes.end() - static_cast<std::ptrdiff_t>(cap), bytes.end(), buf_.begin());
    start_ = 0;
    size_ = cap;
    return;
  }
  size_t end = (start_ + size_) % cap;
  for (uint8_t b : bytes) {
    buf_[end] = b;
    end = end + 1 == cap ? 0 : end + 1;
  }
  const size_t total = size_ + bytes.size();
  if (total > cap) start_ = (start_ + (total - cap)) % cap;
  size_ = std::min(total, cap);
}

std::string HistoryRing::contents() const {
  std::string out;
  out.reserve(size_);
  const size_t cap = buf_.size();
  for (size_t i = 0; i < size_; ++i) out.push_back(static_cast<char>(buf_[(start_ + i) % cap]));
  return out;
}

int ConsoleBase::addOutputListener(OutputListener listener) {
  const int handle = nextHandle_++;
  listeners_.push_back(std::make_shared<Entry>(Entry{handle, std::move(listener)}));
  return handle;
}

void ConsoleBase::removeListener(int handle) {
  auto it = std::find_if(listeners_.begin(), listeners_.end(), [&](const auto& e) { return e->handle == handle; });
  if (it == listeners_.end()) return;
  (*it)->active = false;
  listeners_.erase(it);
}

void ConsoleBase::emit(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return;
  history_.append(bytes);
  totalOutput_ += bytes.size();
  if (emitting_) {
    // A listener produced output (an echo) while we deliver: it goes after the current chunk.
    pending_.emplace_back(bytes.begin(), bytes.end());
    return;
  }
  emitting_ = true;
  struct Reset {
    bool& flag;
    ~Reset() { flag = false; }
  } reset{emitting_};
  deliver(bytes);
  // Bounded by what listeners write back: each round can only queue what they emitted.
  while (!pending_.empty()) {
    std::vector<uint8_t> chunk = std::move(pending_.front());
    pending_.pop_front();
    deliver(chunk);
  }
}

void ConsoleBase::deliver(std::span<const uint8_t> bytes) {
  // A snapshot: listeners may add or remove listeners while we iterate.
  const std::vector<std::shared_ptr<Entry>> snapshot = listeners_;
  for (const auto& e : snapshot) {
    if (e->active) e->fn(bytes);
  }
}

}  // namespace simbmc::sim
