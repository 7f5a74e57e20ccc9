// UdpServer: one bound UDP socket feeding a LanChannel on the io_context thread.
// The socket waits for readability through the reactor, then takes up to kBatch datagrams per
// recvmmsg(2) and answers them with one sendmmsg(2): under load one system call carries many
// packets each way. A bounded number of batches runs per wake-up so one busy socket cannot starve
// the others; the kernel queue absorbs bursts and drops on overload. Sends are non-blocking: a full
// socket buffer drops a reply, never stalls.
// The server installs itself as the channel's transmit callback (unsolicited packets such as SOL
// data go out the same socket, queued behind the batch's replies while a batch is being handled) and
// tells the channel its port; the destructor uninstalls it.
// Consecutive replies to one peer (a client multiplexing sessions over one socket) leave as one
// UDP GSO datagram train: one trip through the stack instead of one per reply. The peer still
// receives separate datagrams. A path that refuses a train turns it off for the socket.
#pragma once

#include <utility>  // must precede Asio with Boost 1.74 + g++ 12 in C++20

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

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
  void start() { drain(); }
  void close();
  uint16_t localPort() const;
  struct Stats {
    uint64_t datagramsSent = 0;  // replies and unsolicited packets handed to the kernel
    uint64_t trains = 0;         // sends that carried several datagrams as one GSO train
    bool trainsRefused = false;  // the path refused a train: single datagrams from then on
  };
  const Stats& stats() const { return stats_; }
  // The bound socket, for options the server does not set itself (tests, platform tuning).
  int nativeHandle() { return socket_.native_handle(); }

 private:
  // Handles what is queued (at most a few batches), sends the replies, then waits for readability
  // again, or, when the last batch was full, yields to other handlers and comes back.
  void drain();
  void waitReadable();
  void sendTo(const PeerAddress& peer, ByteView data);
  void queueOrSend(const void* addr, size_t addrLength, Bytes packet);
  void flush();
  boost::asio::ip::udp::socket socket_;
  LanChannel& channel_;
  bool v6_ = false;
  bool inBatch_ = false;
  bool gso_ = true;  // replies to one peer leave as one datagram train until the path refuses one
  Stats stats_;
  struct Outgoing {
    std::array<uint8_t, 28> addr{};  // sockaddr_in or sockaddr_in6
    uint32_t addrLength = 0;
    Bytes packet;
  };
  struct SegmentControl {
    alignas(8) std::array<uint8_t, 32> bytes;  // one cmsghdr carrying UDP_SEGMENT
  };
  static bool samePeer(const Outgoing& a, const Outgoing& b);
  std::vector<Outgoing> outgoing_;  // replies of the batch being handled, sent by flush()
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // posted continuations check it
};

PeerAddress toPeerAddress(const boost::asio::ip::udp::endpoint& ep);
// The inverse; IPv4 peers become v4-mapped addresses when `v6Socket`.
boost::asio::ip::udp::endpoint toEndpoint(const PeerAddress& peer, bool v6Socket);

}  // namespace simbmc::net
