// StreamConsole<Stream>: the I/O half shared by the consoles that move bytes over a file descriptor
// (a pty master, a UNIX/TCP socket, a child process's socketpair): a read loop that emits what arrives
// and a bounded write queue drained by async_write. Stream is boost::asio::posix::stream_descriptor or
// a boost::asio::generic::stream_protocol::socket.
//
// - startIo() begins a "connection": reads until EOF or an error, then closeIo() and onClosed().
// - write() queues up to kMaxQueued bytes (what does not fit is not accepted: the return value says
//   how much was); while no connection is up the bytes are accepted and dropped (counted), like
//   characters sent down an unplugged serial cable.
// - Handlers of an earlier connection, or of a destroyed console, are inert (generation + alive
//   token), so closing and destroying never race with completions still queued on the io_context.
//
// Single-threaded (the io_context thread).
#pragma once

#include <utility>  // before Asio (Boost 1.74 with g++ 12)

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <memory>
#include <span>
#include <string>

#include "common/log.hpp"
#include "sim/console_base.hpp"

namespace simbmc::sim {

template <typename Stream>
class StreamConsole : public ConsoleBase {
 public:
  static constexpr size_t kMaxQueued = 64 * 1024;
  static constexpr size_t kReadChunk = 4096;

  ~StreamConsole() override { closeIo(); }

  size_t write(std::span<const uint8_t> bytes) override {
    if (!connected_) {
      droppedInput_ += bytes.size();
      return bytes.size();
    }
    const size_t room = kMaxQueued > queued() ? kMaxQueued - queued() : 0;
    const size_t n = std::min(room, bytes.size());
    out_.append(reinterpret_cast<const char*>(bytes.data()), n);
    writeMore();
    return n;
  }

  bool connected() const { return connected_; }
  // Input accepted while nothing was connected, and therefore lost.
  uint64_t droppedInput() const { return droppedInput_; }

 protected:
  StreamConsole(boost::asio::io_context& io, size_t historyBytes) : ConsoleBase(historyBytes), io_(io), stream_(io) {}

  boost::asio::io_context& io() { return io_; }
  Stream& stream() { return stream_; }

  // stream() is open: start reading (a new connection).
  void startIo() {
    ++generation_;
    connected_ = true;
    out_.clear();
    writing_ = false;
    inFlight_ = 0;
    readMore();
  }

  // Closes the stream (idempotent); pending completions become inert. Does not call onClosed().
  void closeIo() {
    ++generation_;
    connected_ = false;
    out_.clear();
    writing_ = false;
    inFlight_ = 0;
    boost::system::error_code ignored;
    if (stream_.is_open()) stream_.close(ignored);
  }

  // The connection ended (EOF: ec == boost::asio::error::eof, or an I/O error); the stream is closed.
  virtual void onClosed(const boost::system::error_code& ec) = 0;

 private:
  size_t queued() const { return out_.size() + inFlight_; }

  void readMore() {
    auto buf = std::make_shared<std::array<uint8_t, kReadChunk>>();
    std::weak_ptr<bool> alive = alive_;
    const uint64_t gen = generation_;
    stream_.async_read_some(boost::asio::buffer(*buf),
                            [this, alive, gen, buf](const boost::system::error_code& ec, size_t n) {
                              if (alive.expired() || gen != generation_) return;
                              if (n > 0) emit(std::span<const uint8_t>(buf->data(), n));
                              // emit() may have reached a listener that closed us.
                              if (alive.expired() || gen != generation_) return;
                              if (ec) return closed(ec);
                              readMore();
                            });
  }

  void writeMore() {
    if (writing_ || out_.empty() || !connected_) return;
    auto buf = std::make_shared<std::string>();
    buf->swap(out_);
    inFlight_ = buf->size();
    writing_ = true;
    std::weak_ptr<bool> alive = alive_;
    const uint64_t gen = generation_;
    boost::asio::async_write(stream_, boost::asio::buffer(*buf),
                             [this, alive, gen, buf](const boost::system::error_code& ec, size_t) {
                               if (alive.expired() || gen != generation_) return;
                               writing_ = false;
                               inFlight_ = 0;
                               if (ec) return closed(ec);
                               writeMore();
                             });
  }

  void closed(const boost::system::error_code& ec) {
    closeIo();
    onClosed(ec);
  }

  boost::asio::io_context& io_;
  Stream stream_;
  bool connected_ = false;
  bool writing_ = false;
  std::string out_;
  size_t inFlight_ = 0;
  uint64_t generation_ = 0;
  uint64_t droppedInput_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace simbmc::sim
