// ConsoleLog: appends everything a console prints to a file, like a console server's logs: for
// people (what did the host print while nobody watched?) and for tests (the daemon's console is
// observable without SOL). It starts with the console's history (what was printed before it
// attached). The file is opened O_APPEND, mode 0600; when it grows past maxBytes it is
// renamed to <path>.1 (replacing an older one) and a new file is started, so at most about
// 2 x maxBytes are kept. Writes are plain write(2) calls on the io_context thread: a local file,
// small bursts. A failed write is logged (rate-limited) and the output skipped, never retried.
//
// Single-threaded. The console must outlive this object (the destructor removes its listener).
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "bmc/host_console.hpp"
#include "common/log.hpp"
#include "common/result.hpp"

namespace simbmc::sim {

class ConsoleLog {
 public:
  static Result<std::unique_ptr<ConsoleLog>> open(bmc::HostConsole& console, std::string path, size_t maxBytes);
  ~ConsoleLog();
  ConsoleLog(const ConsoleLog&) = delete;
  ConsoleLog& operator=(const ConsoleLog&) = delete;

  const std::string& path() const { return path_; }

 private:
  ConsoleLog(bmc::HostConsole& console, std::string path, size_t maxBytes)
      : console_(console), path_(std::move(path)), maxBytes_(maxBytes) {}
  Result<void> openFile();
  void append(std::span<const uint8_t> bytes);

  bmc::HostConsole& console_;
  std::string path_;
  size_t maxBytes_;
  int fd_ = -1;
  size_t size_ = 0;
  int listener_ = 0;
  log::RateLimit failures_{3, std::chrono::seconds(60)};
};

}  // namespace simbmc::sim
