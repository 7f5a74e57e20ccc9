// HostConsole: the port to the managed host's serial console (implemented in sim/: the simulated
// host's boot log and shell, a pty, a UNIX/TCP socket for QEMU, a spawned command). SOL and the
// daemon's console log attach to it. Single-threaded: everything runs on the io_context thread;
// implementations that do I/O use Asio descriptors and call listeners from completion handlers.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace simbmc::bmc {

class HostConsole {
 public:
  virtual ~HostConsole() = default;

  // Characters from the host (its serial transmit line). Every listener sees every byte, in order.
  using OutputListener = std::function<void(std::span<const uint8_t>)>;
  // Returns a handle for removeListener().
  virtual int addOutputListener(OutputListener listener) = 0;
  virtual void removeListener(int handle) = 0;

  // Characters to the host (its serial receive line). Never blocks; the implementation buffers
  // (bounded) and returns how many bytes it accepted.
  virtual size_t write(std::span<const uint8_t> bytes) = 0;
  // A serial break (SOL "generate break").
  virtual void sendBreak() {}

  // The most recent output (up to the history size), so a new SOL session sees recent context.
  virtual std::string history() const = 0;
};

}  // namespace simbmc::bmc
