#include "sim/console_pty.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace simbmc::sim {
namespace {

Error ioError(const std::string& what) { return makeError(Error::Kind::io, what + ": " + std::strerror(errno)); }

// Replaces a symlink at `link` (never a regular file) by one pointing at `target`.
Result<void> makeLink(const std::string& link, const std::string& target) {
  struct stat st {};
  if (::lstat(link.c_str(), &st) == 0) {
    if (!S_ISLNK(st.st_mode)) {
      return makeError(Error::Kind::invalidArgument, "console pty link " + link + " exists and is not a symlink");
    }
    if (::unlink(link.c_str()) != 0) return ioError("cannot replace console pty link " + link);
  }
  if (::symlink(target.c_str(), link.c_str()) != 0) return ioError("cannot create console pty link " + link);
  return {};
}

}  // namespace

PtyConsole::PtyConsole(boost::asio::io_context& io, PtyConsoleConfig config)
    : StreamConsole(io, config.historyBytes), config_(std::move(config)) {}

Result<std::unique_ptr<PtyConsole>> PtyConsole::open(boost::asio::io_context& io, PtyConsoleConfig config) {
  std::unique_ptr<PtyConsole> self(new PtyConsole(io, std::move(config)));
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return ioError("posix_openpt");
  boost::system::error_code ec;
  self->stream().assign(master, ec);  // owns the descriptor from here on
  if (ec) {
    ::close(master);
    return makeError(Error::Kind::io, "console pty: " + ec.message());
  }
  if (::grantpt(master) != 0) return ioError("grantpt");
  if (::unlockpt(master) != 0) return ioError("unlockpt");
  std::array<char, 128> name{};
  if (int rc = ::ptsname_r(master, name.data(), name.size()); rc != 0) {
    errno = rc;
    return ioError("ptsname_r");
  }
  self->slavePath_ = name.data();
  self->slaveFd_ = ::open(self->slavePath_.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (self->slaveFd_ < 0) return ioError("cannot open " + self->slavePath_);
  struct termios tio {};
  if (::tcgetattr(self->slaveFd_, &tio) != 0) return ioError("tcgetattr " + self->slavePath_);
  ::cfmakeraw(&tio);
  if (::tcsetattr(self->slaveFd_, TCSANOW, &tio) != 0) return ioError("tcsetattr " + self->slavePath_);
  self->stream().non_blocking(true, ec);
  if (ec) return makeError(Error::Kind::io, "console pty: " + ec.message());
  if (!self->config_.linkPath.empty()) {
    if (auto r = makeLink(self->config_.linkPath, self->slavePath_); !r) return r.error();
    self->linked_ = true;
  }
  self->startIo();
  return self;
}

PtyConsole::~PtyConsole() {
  closeIo();
  if (slaveFd_ >= 0) ::close(slaveFd_);
  if (linked_) {
    // Only our own link: another daemon may have replaced it since.
    std::array<char, 256> target{};
    const ssize_t n = ::readlink(config_.linkPath.c_str(), target.data(), target.size() - 1);
    if (n > 0 && std::string(target.data(), static_cast<size_t>(n)) == slavePath_) ::unlink(config_.linkPath.c_str());
  }
}

void PtyConsole::sendBreak() {
  if (stream().is_open()) ::tcsendbreak(stream().native_handle(), 0);
}

void PtyConsole::onClosed(const boost::system::error_code& ec) {
  // We hold the slave open, so this is not a hang-up: the master itself failed. Nothing to retry.
  log::error("console pty {} closed: {}", slavePath_, ec.message());
}

}  // namespace simbmc::sim
