// Logging: fmt-based, one line per event, `key=value` identifiers, never a secret.
// Levels: error = the daemon or an instance cannot do its job; warn = misconfiguration or a client
// doing something suspicious (rate-limited); info = lifecycle (start, stop, session open/close);
// debug = per-request detail for development.
#pragma once

#include <fmt/core.h>

#include <atomic>
#include <chrono>
#include <string_view>

namespace simbmc::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

void setLevel(Level level);
Level level();
bool parseLevel(std::string_view name, Level& out);
void write(Level level, std::string_view message);

template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::debug) write(Level::debug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::info) write(Level::info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::warn) write(Level::warn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::error) write(Level::error, fmt::format(f, std::forward<Args>(args)...));
}

// Allows at most `burst` events per `period`; for log lines on per-packet paths.
class RateLimit {
 public:
  RateLimit(int burst, std::chrono::seconds period) : burst_(burst), period_(period) {}
  bool allow();
  uint64_t suppressed() const { return suppressed_; }

 private:
  int burst_;
  std::chrono::seconds period_;
  std::chrono::steady_clock::time_point windowStart_{};
  int used_ = 0;
  uint64_t suppressed_ = 0;
};

}  // namespace simbmc::log
