// SocketConsole: the host console is a byte stream socket, for QEMU and anything else with a serial
// port on a socket:
//
//   connect mode (listen = false): the daemon is the client of a UNIX socket `path` or of TCP
//     host:port, e.g. for `qemu ... -serial unix:/tmp/vm1.sock,server,nowait` or
//     `-chardev socket,id=s0,path=/tmp/vm1.sock,server=on,wait=off -serial chardev:s0`. A failed or
//     lost connection is retried with exponential backoff (reconnectMin doubling to reconnectMax) on
//     the TimerQueue; the backoff returns to its minimum after a connection succeeds.
//   listen mode (listen = true): the daemon listens on `path` or host:port and serves one connection
//     at a time, e.g. for `qemu ... -chardev socket,id=s0,path=/tmp/vm1.sock,reconnect=1`. While one
//     is up, further connections are accepted and closed at once. A stale UNIX socket file at
//     `path` is replaced; any other file there is an error. The socket file is removed at exit.
//   adopt(): an already connected stream socket (a socketpair end in tests, an inherited fd).
//
// Host names are numeric (127.0.0.1, ::1) or "localhost"; no resolver runs. TCP connections get
// TCP_NODELAY (keystrokes are single bytes). Bytes read are console output; write() sends SOL input
// (dropped while nothing is connected, see StreamConsole).
//
// Single-threaded. The io_context and the TimerQueue must outlive this object.
#pragma once

#include <memory>
#include <string>

#include <utility>  // before Asio (Boost 1.74 with g++ 12)

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/basic_socket_acceptor.hpp>

#include "common/result.hpp"
#include "common/timer_queue.hpp"
#include "sim/console_stream.hpp"

namespace simbmc::sim {

struct SocketConsoleConfig {
  std::string path;  // UNIX socket; or host + port for TCP
  std::string host;
  uint16_t port = 0;
  bool listen = false;
  Millis reconnectMin{100};
  Millis reconnectMax{5000};
  size_t historyBytes = kDefaultHistoryBytes;
};

class SocketConsole final : public StreamConsole<boost::asio::generic::stream_protocol::socket> {
 public:
  // Validates the config; in listen mode binds and listens (errors: address in use, bad path); in
  // connect mode starts the first connection attempt.
  static Result<std::unique_ptr<SocketConsole>> create(boost::asio::io_context& io, TimerQueue& timers,
                                                       SocketConsoleConfig config);
  // A connected stream socket; the console owns `fd` from now on. Nothing reconnects when it closes.
  static Result<std::unique_ptr<SocketConsole>> adopt(boost::asio::io_context& io, TimerQueue& timers, int fd,
                                                      size_t historyBytes = kDefaultHistoryBytes);
  ~SocketConsole() override;

  std::string endpoint() const override;
  // Listen mode: the bound TCP port (useful with port 0); 0 otherwise.
  uint16_t localPort() const;
  // Connections made (connect mode) or accepted (listen mode) so far.
  uint64_t connections() const { return connections_; }

 private:
  enum class Mode { connect, listen, adopted };
  SocketConsole(boost::asio::io_context& io, TimerQueue& timers, SocketConsoleConfig config, Mode mode);
  Result<void> resolve();
  Result<void> listen();
  void accept();
  void connect();
  void scheduleReconnect();
  void connectedNow();
  void onClosed(const boost::system::error_code& ec) override;

  TimerQueue& timers_;
  SocketConsoleConfig config_;
  Mode mode_;
  boost::asio::generic::stream_protocol::endpoint endpoint_;
  boost::asio::basic_socket_acceptor<boost::asio::generic::stream_protocol> acceptor_;
  Millis backoff_;
  TimerQueue::Id reconnectTimer_ = 0;
  uint64_t connections_ = 0;
  bool unlinkOnExit_ = false;
  bool loggedFailure_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace simbmc::sim
