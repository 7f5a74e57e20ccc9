#include "common/timer_queue.hpp"

namespace simbmc {

TimerQueue::Id TimerQueue::scheduleAt(SteadyTime at, std::function<void()> fn) {
  Id id = next_++;
  auto it = byTime_.emplace(at, std::make_pair(id, std::move(fn)));
  byId_.emplace(id, it);
  if (onChange_) onChange_();
  return id;
}

void TimerQueue::cancel(Id id) {
  auto it = byId_.find(id);
  if (it == byId_.end()) return;
  byTime_.erase(it->second);
  byId_.erase(it);
}

size_t TimerQueue::runDue() {
  size_t ran = 0;
  // Bounded: a callback that keeps rescheduling itself "now" runs at most once per call per id.
  const SteadyTime now = clock_.now();
  const Id watermark = next_;
  while (!byTime_.empty()) {
    auto it = byTime_.begin();
    if (it->first > now || it->second.first >= watermark) break;
    auto fn = std::move(it->second.second);
    byId_.erase(it->second.first);
    byTime_.erase(it);
    fn();
    ++ran;
  }
  return ran;
}

std::optional<SteadyTime> TimerQueue::nextDeadline() const {
  if (byTime_.empty()) return std::nullopt;
  return byTime_.begin()->first;
}

}  // namespace simbmc
