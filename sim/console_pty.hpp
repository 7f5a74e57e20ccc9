// PtyConsole: the host console is a pseudo-terminal the daemon creates. Any program attached to the
// slave side (/dev/pts/N: `screen`, `picocom`, a getty, a script) is "the host": what it writes is
// console output, and what SOL clients type arrives on its input.
//
// - The pty is created with posix_openpt/grantpt/unlockpt; the slave is put in raw mode (no echo, no
//   line editing, no CR/LF translation), as a serial cable would be; a program that wants a
//   terminal discipline sets its own modes.
// - The console keeps its own descriptor of the slave open, so the master never sees a hang-up
//   between programs: programs may attach and detach at will. Input typed while none is attached
//   waits in the slave's input queue (the kernel's, bounded) for the next reader.
// - With `linkPath` set, a symbolic link to the slave is created there (an existing symlink is
//   replaced; any other file there is an error) and removed again by the destructor.
//
// Single-threaded; the io_context must outlive this object.
#pragma once

#include <memory>
#include <string>

#include <utility>  // before Asio (Boost 1.74 with g++ 12)

#include <boost/asio/posix/stream_descriptor.hpp>

#include "common/result.hpp"
#include "sim/console_stream.hpp"

namespace simbmc::sim {

struct PtyConsoleConfig {
  std::string linkPath;  // optional symlink to the slave
  size_t historyBytes = kDefaultHistoryBytes;
};

class PtyConsole final : public StreamConsole<boost::asio::posix::stream_descriptor> {
 public:
  static Result<std::unique_ptr<PtyConsole>> open(boost::asio::io_context& io, PtyConsoleConfig config);
  ~PtyConsole() override;

  // The slave's path, e.g. /dev/pts/7.
  const std::string& slavePath() const { return slavePath_; }
  std::string endpoint() const override { return slavePath_; }
  // A serial break: tcsendbreak() on the master (the attached program sees a break/NUL per its
  // termios settings).
  void sendBreak() override;

 private:
  PtyConsole(boost::asio::io_context& io, PtyConsoleConfig config);
  void onClosed(const boost::system::error_code& ec) override;

  PtyConsoleConfig config_;
  std::string slavePath_;
  int slaveFd_ = -1;
  bool linked_ = false;
};

}  // namespace simbmc::sim
