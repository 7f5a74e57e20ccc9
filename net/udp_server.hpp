// UdpServer: one bound UDP socket feeding a LanChannel on the io_context thread.
// One receive outstanding at a time (a bounded receive path: the kernel queue absorbs bursts and
// drops on overload); each datagram is handled to completion and its reply sent before the next
// receive. Replies use a non-blocking send: a full socket buffer drops the reply, never stalls.
// The server installs itself as the channel's transmit callback (unsolicited packets such as SOL
// data go out the same socket) and tells the channel its port; the destructor uninstalls it.
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
  UdpServer(boost::asio::io_context& io, LanChannel& channel);
  ~UdpServer();
  UdpServer(const UdpServer&) = delete;
  UdpServer& operator=(const UdpServer&) = delete;
  // Binds address:port (IPv4 or IPv6 literal). Port 0 picks a free port.
  Result<void> open(const std::string& address, uint16_t port);
  void start() { receive(); }
  void close();
  uint16_t localPort() const;

 private:
  static constexpr int kDrainBatch = 32;
  void receive();
  void handleOne(size_t length);
  void sendTo(const PeerAddress& peer, ByteView data);
  boost::asio::ip::udp::socket socket_;
  boost::asio::ip::udp::endpoint peer_;
  std::array<uint8_t, 2048> buffer_{};
  LanChannel& channel_;
};

PeerAddress toPeerAddress(const boost::asio::ip::udp::endpoint& ep);
// The inverse; IPv4 peers become v4-mapped addresses when `v6Socket`.
boost::asio::ip::udp::endpoint toEndpoint(const PeerAddress& peer, bool v6Socket);

}  // namespace simbmc::net
