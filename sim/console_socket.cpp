#include "sim/console_socket.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <cerrno>
#include <cstring>

namespace simbmc::sim {
namespace {

using Generic = boost::asio::generic::stream_protocol;

void setNoDelay(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return;
  if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) return;
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace

SocketConsole::SocketConsole(boost::asio::io_context& io, TimerQueue& timers, SocketConsoleConfig config, Mode mode)
    : StreamConsole(io, config.historyBytes),
      timers_(timers),
      config_(std::move(config)),
      mode_(mode),
      acceptor_(io),
      backoff_(config_.reconnectMin) {}

Result<std::unique_ptr<SocketConsole>> SocketConsole::create(boost::asio::io_context& io, TimerQueue& timers,
                                                             SocketConsoleConfig config) {
  const Mode mode = config.listen ? Mode::listen : Mode::connect;
  std::unique_ptr<SocketConsole> self(new SocketConsole(io, timers, std::move(config), mode));
  if (auto r = self->resolve(); !r) return r.error();
  if (mode == Mode::listen) {
    if (auto r = self->listen(); !r) return r.error();
    self->accept();
  } else {
    self->connect();
  }
  return self;
}

Result<std::unique_ptr<SocketConsole>> SocketConsole::adopt(boost::asio::io_context& io, TimerQueue& timers, int fd,
                                                            size_t historyBytes) {
  SocketConsoleConfig config;
  config.historyBytes = historyBytes;
  std::unique_ptr<SocketConsole> self(new SocketConsole(io, timers, config, Mode::adopted));
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    ::close(fd);
    return makeError(Error::Kind::invalidArgument, std::string("console socket: not a socket: ") + std::strerror(errno));
  }
  boost::system::error_code ec;
  self->stream().assign(Generic(ss.ss_family, 0), fd, ec);
  if (ec) {
    ::close(fd);
    return makeError(Error::Kind::io, "console socket: " + ec.message());
  }
  self->stream().non_blocking(true, ec);
  self->connectedNow();
  return self;
}

SocketConsole::~SocketConsole() {
  if (reconnectTimer_ != 0) timers_.cancel(reconnectTimer_);
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  closeIo();
  if (unlinkOnExit_) ::unlink(config_.path.c_str());
}

Result<void> SocketConsole::resolve() {
  const bool unix = !config_.path.empty();
  const bool tcp = !config_.host.empty() || config_.port != 0;
  if (unix == tcp) return makeError(Error::Kind::invalidArgument, "console socket: set either path or host and port");
  if (unix) {
    if (config_.path.size() >= sizeof(sockaddr_un{}.sun_path))
      return makeError(Error::Kind::invalidArgument, "console socket path is too long: " + config_.path);
    endpoint_ = Generic::endpoint(boost::asio::local::stream_protocol::endpoint(config_.path));
    return {};
  }
  std::string host = config_.host.empty() || config_.host == "localhost" ? "127.0.0.1" : config_.host;
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(host, ec);
  if (ec) return makeError(Error::Kind::invalidArgument, "console socket host must be a numeric address: " + config_.host);
  if (config_.port == 0 && mode_ == Mode::connect)
    return makeError(Error::Kind::invalidArgument, "console socket: port is required");
  endpoint_ = Generic::endpoint(boost::asio::ip::tcp::endpoint(addr, config_.port));
  return {};
}

Result<void> SocketConsole::listen() {
  boost::system::error_code ec;
  if (!config_.path.empty()) {
    struct stat st {};
    if (::lstat(config_.path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode))
        return makeError(Error::Kind::invalidArgument, "console socket path " + config_.path + " exists and is not a socket");
      ::unlink(config_.path.c_str());  // a stale socket of an earlier run
    }
  }
  acceptor_.open(endpoint_.protocol(), ec);
  if (!ec && config_.path.empty()) acceptor_.set_option(boost::asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint_, ec);
  if (!ec) {
    unlinkOnExit_ = !config_.path.empty();
    if (unlinkOnExit_) ::chmod(config_.path.c_str(), 0600);
    acceptor_.listen(4, ec);
  }
  if (ec) return makeError(Error::Kind::io, "console socket: cannot listen on " + endpoint() + ": " + ec.message());
  log::info("console listening on {}", endpoint());
  return {};
}

void SocketConsole::accept() {
  auto peer = std::make_shared<Generic::socket>(io());
  std::weak_ptr<bool> alive = alive_;
  acceptor_.async_accept(*peer, [this, alive, peer](const boost::system::error_code& ec) {
    if (alive.expired() || ec == boost::asio::error::operation_aborted) return;
    if (ec) {
      log::warn("console socket accept failed on {}: {}", endpoint(), ec.message());
    } else if (connected()) {
      log::info("console socket {}: already connected, refusing another connection", endpoint());
      boost::system::error_code ignored;
      peer->close(ignored);
    } else {
      stream() = std::move(*peer);
      boost::system::error_code ignored;
      stream().non_blocking(true, ignored);
      connectedNow();
    }
    accept();
  });
}

void SocketConsole::connect() {
  reconnectTimer_ = 0;
  if (stream().is_open()) closeIo();
  boost::system::error_code ec;
  stream().open(endpoint_.protocol(), ec);
  if (ec) {
    log::warn("console socket: cannot create a socket for {}: {}", endpoint(), ec.message());
    return scheduleReconnect();
  }
  std::weak_ptr<bool> alive = alive_;
  stream().async_connect(endpoint_, [this, alive](const boost::system::error_code& err) {
    if (alive.expired() || err == boost::asio::error::operation_aborted) return;
    if (err) {
      if (!loggedFailure_) log::info("console socket: cannot connect to {} ({}); retrying", endpoint(), err.message());
      loggedFailure_ = true;
      closeIo();
      return scheduleReconnect();
    }
    boost::system::error_code ignored;
    stream().non_blocking(true, ignored);
    backoff_ = config_.reconnectMin;
    connectedNow();
  });
}

void SocketConsole::scheduleReconnect() {
  if (mode_ != Mode::connect || reconnectTimer_ != 0) return;
  const Millis delay = backoff_;
  backoff_ = std::min(config_.reconnectMax, backoff_ * 2);
  reconnectTimer_ = timers_.scheduleAfter(delay, [this] { connect(); });
}

void SocketConsole::connectedNow() {
  ++connections_;
  loggedFailure_ = false;
  setNoDelay(stream().native_handle());
  log::info("console connected endpoint={}", endpoint());
  startIo();
}

void SocketConsole::onClosed(const boost::system::error_code& ec) {
  log::info("console disconnected endpoint={} reason={}", endpoint(),
            ec == boost::asio::error::eof ? std::string("end of stream") : ec.message());
  if (mode_ == Mode::connect) scheduleReconnect();
}

std::string SocketConsole::endpoint() const {
  if (mode_ == Mode::adopted) return "socket";
  if (!config_.path.empty()) return "unix:" + config_.path;
  return "tcp:" + (config_.host.empty() ? std::string("127.0.0.1") : config_.host) + ":" +
         std::to_string(mode_ == Mode::listen ? localPort() : config_.port);
}

uint16_t SocketConsole::localPort() const {
  if (mode_ != Mode::listen || !acceptor_.is_open()) return 0;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(const_cast<decltype(acceptor_)&>(acceptor_).native_handle(), reinterpret_cast<sockaddr*>(&ss),
                    &len) != 0)
    return 0;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
  return 0;
}

}  // namespace simbmc::sim
