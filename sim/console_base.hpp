// ConsoleBase: what every bmc::HostConsole implementation in sim/ shares: the output listeners and the
// history ring buffer.
//
// - emit() is how a console reports characters from the host: they go into the history, then to
//   every listener in registration order. A listener may add or remove listeners, or write to the
//   console, from inside its callback; output produced meanwhile (an echo) is queued and delivered
//   after the current chunk has reached every listener, so each listener sees every byte in order.
//   A listener removed during a delivery is not called again, not even for the rest of that chunk.
// - The history keeps the newest `historyBytes` bytes of output (oldest dropped first), whether or
//   not anyone listens, so output produced in bursts with nobody attached is not lost.
//
// Single-threaded (the io_context thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bmc/host_console.hpp"

namespace simbmc::sim {

inline constexpr size_t kDefaultHistoryBytes = 64 * 1024;

// A byte ring of fixed capacity; appending past it overwrites the oldest bytes.
class HistoryRing {
 public:
  explicit HistoryRing(size_t capacity) : buf_(capacity) {}
  void append(std::span<const uint8_t> bytes);
  // Oldest first.
  std::string contents() const;
  size_t size() const { return size_; }
  size_t capacity() const { return buf_.size(); }

 private:
  std::vector<uint8_t> buf_;
  size_t start_ = 0;  // index of the oldest byte
  size_t size_ = 0;
};

class ConsoleBase : public bmc::HostConsole {
 public:
  explicit ConsoleBase(size_t historyBytes = kDefaultHistoryBytes) : history_(historyBytes) {}
  ~ConsoleBase() override = default;
  ConsoleBase(const ConsoleBase&) = delete;
  ConsoleBase& operator=(const ConsoleBase&) = delete;

  int addOutputListener(OutputListener listener) override;
  void removeListener(int handle) override;
  std::string history() const override { return history_.contents(); }

  // What this console is attached to, for log lines and the state directory (a pty's slave path,
  // "unix:/path", "tcp:host:port", "command", "simulated").
  virtual std::string endpoint() const = 0;

  size_t listenerCount() const { return listeners_.size(); }
  // Every byte ever emitted (the history holds the newest of them).
  uint64_t totalOutput() const { return totalOutput_; }

 protected:
  void emit(std::span<const uint8_t> bytes);
  void emit(std::string_view text) {
    emit(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  }

 private:
  struct Entry {
    int handle;
    OutputListener fn;
    bool active = true;
  };
  void deliver(std::span<const uint8_t> bytes);

  HistoryRing history_;
  std::vector<std::shared_ptr<Entry>> listeners_;
  int nextHandle_ = 1;
  uint64_t totalOutput_ = 0;
  bool emitting_ = false;
  std::deque<std::vector<uint8_t>> pending_;
};

}  // namespace simbmc::sim
