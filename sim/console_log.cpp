#include "sim/console_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace simbmc::sim {

Result<std::unique_ptr<ConsoleLog>> ConsoleLog::open(bmc::HostConsole& console, std::string path, size_t maxBytes) {
  std::unique_ptr<ConsoleLog> self(new ConsoleLog(console, std::move(path), maxBytes));
  if (auto r = self->openFile(); !r) return r.error();
  ConsoleLog* raw = self.get();
  // What the console printed before the log was attached (a boot log started in its constructor).
  const std::string earlier = console.history();
  raw->append(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(earlier.data()), earlier.size()));
  self->listener_ = console.addOutputListener([raw](std::span<const uint8_t> bytes) { raw->append(bytes); });
  return self;
}

ConsoleLog::~ConsoleLog() {
  if (listener_ != 0) console_.removeListener(listener_);
  if (fd_ >= 0) ::close(fd_);
}

Result<void> ConsoleLog::openFile() {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) return makeError(Error::Kind::io, "cannot open console log " + path_ + ": " + std::strerror(errno));
  struct stat st {};
  size_ = ::fstat(fd_, &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
  return {};
}

void ConsoleLog::append(std::span<const uint8_t> bytes) {
  if (maxBytes_ > 0 && size_ >= maxBytes_) {
    ::close(fd_);
    fd_ = -1;
    const std::string old = path_ + ".1";
    if (std::rename(path_.c_str(), old.c_str()) != 0 && failures_.allow())
      log::warn("console log rotation failed path={}: {}", path_, std::strerror(errno));
    if (auto r = openFile(); !r) {
      if (failures_.allow()) log::warn("{}", r.error().message);
      return;
    }
  }
  if (fd_ < 0) return;
  size_t done = 0;
  // Bounded: each round writes at least one byte or stops.
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (failures_.allow()) log::warn("console log write failed path={}: {}", path_, std::strerror(errno));
      return;
    }
    done += static_cast<size_t>(n);
  }
  size_ += done;
}

}  // namespace simbmc::sim
