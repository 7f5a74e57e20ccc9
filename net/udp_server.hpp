// UdpServer: one bound UDP socket feeding a LanChannel on the io_context thread.
// One receive outstanding at a time (a bounded receive path: the kernel queue absorbs bursts and
// drops on overload); each datagram is handled to completion and its reply sent before the next
// receive. Replies use a non-blocking send: a full socket buffer drops the reply, never stalls.
#pragma once

#include <utility>  // must precede Asio with Boost 1.74 + g++ 12 in C++20

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstdint>
#include <string>

#include "common/result.hpp"
#include "net/lan_channel.hpp"

namespace simbmc::net {

class UdpServer {
 public:
  UdpServer(boost::asio::io_context& io, LanChannel& channel) : socket_(io), channel_(channel) {}
  // Binds address:port (IPv4 or IPv6 literal). Port 0 picks a free port.
  Result<void> open(const std::string& address, uint16_t port);
  void start() { receive(); }
  void close();
  uint16_t localPort() const;

 private:
  static constexpr int kDrainBatch = 32;
  void receive();
  void handleOne(size_t length);
  boost::asio::ip::udp::socket socket_;
  boost::asio::ip::udp::endpoint peer_;
  std::array<uint8_t, 2048> buffer_{};
  LanChannel& channel_;
};

PeerAddress toPeerAddress(const boost::asio::ip::udp::endpoint& ep);

}  // namespace simbmc::net
