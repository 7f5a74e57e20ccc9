// TimerQueue: deadline-ordered callbacks driven by an injected Clock.
//
// Components schedule work ("expire this session at t", "finish the power-on at t") here instead of
// owning Asio timers, so unit tests drive them with FakeClock + runDue() and the daemon drives them
// with one steady_timer armed at nextDeadline(). Single-threaded; callbacks may schedule or cancel.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>

#include "common/clock.hpp"

namespace simbmc {

class TimerQueue {
 public:
  using Id = uint64_t;
  explicit TimerQueue(const Clock& clock) : clock_(clock) {}

  const Clock& clock() const { return clock_; }
  Id scheduleAt(SteadyTime at, std::function<void()> fn);
  Id scheduleAfter(std::chrono::nanoseconds d, std::function<void()> fn) {
    return scheduleAt(clock_.now() + d, std::move(fn));
  }
  // Cancelling an id that already ran or was cancelled is a no-op.
  void cancel(Id id);
  // Runs every callback whose deadline is <= clock.now(), in deadline order. Returns how many ran.
  size_t runDue();
  std::optional<SteadyTime> nextDeadline() const;
  size_t size() const { return byId_.size(); }

  // Called after any schedule() so the owner of the real timer can re-arm it.
  void setOnChange(std::function<void()> fn) { onChange_ = std::move(fn); }

 private:
  const Clock& clock_;
  std::multimap<SteadyTime, std::pair<Id, std::function<void()>>> byTime_;
  std::unordered_map<Id, std::multimap<SteadyTime, std::pair<Id, std::function<void()>>>::iterator> byId_;
  Id next_ = 1;
  std::function<void()> onChange_;
};

}  // namespace simbmc
