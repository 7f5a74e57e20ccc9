#include "common/log.hpp"

#include <cstdio>
#include <ctime>

namespace simbmc::log {
namespace {
std::atomic<Level> gLevel{Level::info};  // process-wide sink configuration, set once at start-up
}

void setLevel(Level l) { gLevel.store(l); }
Level level() { return gLevel.load(std::memory_order_relaxed); }

bool parseLevel(std::string_view name, Level& out) {
  if (name == "debug") out = Level::debug;
  else if (name == "info") out = Level::info;
  else if (name == "warn" || name == "warning") out = Level::warn;
  else if (name == "error") out = Level::error;
  else if (name == "off") out = Level::off;
  else return false;
  return true;
}

void write(Level l, std::string_view message) {
  static constexpr const char* kNames[] = {"debug", "info", "warn", "error"};
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc{};
  gmtime_r(&ts.tv_sec, &utc);
  char when[32];
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &utc);
  fmt::print(stderr, "{}.{:03d}Z {} {}\n", when, static_cast<int>(ts.tv_nsec / 1000000),
             kNames[static_cast<int>(l)], message);
  std::fflush(stderr);
}

bool RateLimit::allow() {
  auto now = std::chrono::steady_clock::now();
  if (now - windowStart_ >= period_) {
    windowStart_ = now;
    used_ = 0;
  }
  if (used_ < burst_) {
    ++used_;
    return true;
  }
  ++suppressed_;
  return false;
}

}  // namespace simbmc::log
