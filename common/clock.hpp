// Clock: the only source of time in simbmc. Production uses SystemClock; tests inject FakeClock and
// advance it, so timeouts and transitions run in virtual time. Single-threaded (the io_context thread).
#pragma once

#include <chrono>
#include <cstdint>

namespace simbmc {

using SteadyTime = std::chrono::steady_clock::time_point;
using Millis = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time for timeouts and intervals.
  virtual SteadyTime now() const = 0;
  // Wall-clock seconds since the Unix epoch (SEL timestamps, POH bookkeeping).
  virtual int64_t unixSeconds() const = 0;
};

class SystemClock final : public Clock {
 public:
  SteadyTime now() const override { return std::chrono::steady_clock::now(); }
  int64_t unixSeconds() const override {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// Virtual time for tests: starts at an arbitrary fixed point and moves only when told.
class FakeClock final : public Clock {
 public:
  SteadyTime now() const override { return now_; }
  int64_t unixSeconds() const override {
    return unixBase_ + std::chrono::duration_cast<std::chrono::seconds>(now_ - SteadyTime{}).count();
  }
  void advance(std::chrono::nanoseconds d) { now_ += d; }
  void setUnixBase(int64_t s) { unixBase_ = s; }

 private:
  SteadyTime now_{std::chrono::hours(1)};
  int64_t unixBase_ = 1'700'000'000 - 3600;
};

}  // namespace simbmc
