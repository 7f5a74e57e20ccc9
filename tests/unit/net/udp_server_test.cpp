// UdpServer (net/udp_server.hpp) on a loopback socket: batches of datagrams in, one reply each out,
// in order and byte for byte, whether consecutive replies to one peer leave as a UDP GSO datagram
// train or, when the path refuses a train, one by one.
// ASF presence ping/pong: DSP0136 §3.2.4; IPMI v1.5 session header: IPMI v2.0 §13.6.
#include <utility>  // before Asio (Boost 1.74 with g++ 12 in C++20)

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <optional>
#include <vector>

#include <sys/socket.h>
#include <sys/time.h>

#include "common/clock.hpp"
#include "net/lan_channel.hpp"
#include "net/udp_server.hpp"
#include "no_credentials.hpp"

namespace simbmc::net {
namespace {

namespace asio = boost::asio;

constexpr std::array<uint8_t, 16> kGuid{};

using testing::NoCredentials;

// Answers every request with CC 0 and `reply` bytes of data.
class FixedDispatcher final : public Dispatcher {
 public:
  std::optional<IpmiResponse> dispatch(const RequestContext&, const IpmiRequest&) override {
    return IpmiResponse{Cc::ok, reply};
  }
  Bytes reply;
};

Bytes asfPing(uint8_t tag) { return Bytes{0x06, 0x00, 0xFF, 0x06, 0x00, 0x00, 0x11, 0xBE, 0x80, tag, 0x00, 0x00}; }

// A sessionless IPMI v1.5 Get Channel Authentication Capabilities request with sequence `rqSeq`.
Bytes authCapsRequest(uint8_t rqSeq) {
  Bytes msg = {0x20, 0x18, 0x00, 0x81, static_cast<uint8_t>(rqSeq << 2), 0x38, 0x8E, 0x04, 0x00};
  msg[2] = checksum(ByteView(msg.data(), 2));
  msg[8] = checksum(ByteView(msg.data() + 3, 5));
  Bytes p = {0x06, 0x00, 0xFF, 0x07, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, static_cast<uint8_t>(msg.size())};
  p.insert(p.end(), msg.begin(), msg.end());
  return p;
}

struct Loopback {
  Loopback() {
    EXPECT_TRUE(server.open("127.0.0.1", 0).hasValue());
    client.open(asio::ip::udp::v4());
    client.bind(asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    struct timeval tv{5, 0};
    ::setsockopt(client.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  asio::ip::udp::endpoint serverEndpoint() const {
    return {asio::ip::make_address("127.0.0.1"), server.localPort()};
  }
  // Sends all of `requests` before the server looks, so that one receive batch takes them all.
  void sendAll(const std::vector<Bytes>& requests) {
    for (const Bytes& r : requests) client.send_to(asio::buffer(r), serverEndpoint());
  }
  // Runs the server's handlers, then reads `count` datagrams (bounded by the socket timeout).
  std::vector<Bytes> serveAndCollect(size_t count) {
    server.start();
    io.poll();
    std::vector<Bytes> got;
    for (size_t i = 0; i < count; ++i) {
      std::array<uint8_t, 2048> buf{};
      asio::ip::udp::endpoint from;
      boost::system::error_code ec;
      const size_t n = client.receive_from(asio::buffer(buf), from, 0, ec);
      if (ec) break;
      EXPECT_EQ(from.port(), server.localPort());
      got.emplace_back(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    }
    return got;
  }
  asio::io_context io;
  FakeClock clock;
  ChannelSecurity security;
  NoCredentials credentials;
  FixedDispatcher dispatcher;
  LanChannel channel{security, credentials, dispatcher, clock, kGuid};
  UdpServer server{io, channel};
  asio::ip::udp::socket client{io};
};

Bytes expectedPong(uint8_t tag) {
  return {0x06, 0x00, 0xFF, 0x06, 0x00, 0x00, 0x11, 0xBE, 0x40, tag,  0x00, 0x10, 0x00, 0x00,
          0x11, 0xBE, 0x00, 0x00, 0x00, 0x00, 0x81, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
}

// The reply to authCapsRequest(rqSeq) carries rqSeq in byte 4 of its IPMI message (offset 14 + 4).
uint8_t replySeq(const Bytes& reply) { return reply.size() > 18 ? static_cast<uint8_t>(reply[18] >> 2) : 0xFF; }

TEST(UdpServerTest, ABatchOfEqualRepliesToOnePeerArrivesAsSeparateDatagramsInOrder) {
  Loopback lb;
  std::vector<Bytes> pings;
  for (uint8_t tag = 0; tag < 40; ++tag) pings.push_back(asfPing(tag));  // more than one batch
  lb.sendAll(pings);
  const auto got = lb.serveAndCollect(pings.size());
  ASSERT_EQ(got.size(), pings.size());
  for (uint8_t tag = 0; tag < 40; ++tag) EXPECT_EQ(got[tag], expectedPong(tag)) << "tag " << int{tag};
  EXPECT_EQ(lb.server.stats().datagramsSent, 40u);
  EXPECT_GE(lb.server.stats().trains, 1u);  // 32 + 8, or fewer per train if the kernel split the batch
  EXPECT_FALSE(lb.server.stats().trainsRefused);
}

TEST(UdpServerTest, RepliesOfDifferentSizesKeepTheirBoundariesAndOrder) {
  Loopback lb;
  lb.dispatcher.reply = Bytes(2, 0xA5);  // replies shorter than a pong (24 against 28 bytes)
  std::vector<Bytes> requests;
  std::vector<Bytes> expect;
  // pong pong short pong short short pong ...: a train ends at the first shorter reply and a longer
  // one starts a new train.
  for (uint8_t i = 0; i < 24; ++i) {
    if (i % 3 == 2 || i % 5 == 0) {
      requests.push_back(authCapsRequest(i));
      expect.push_back({});  // checked by sequence number below
    } else {
      requests.push_back(asfPing(i));
      expect.push_back(expectedPong(i));
    }
  }
  lb.sendAll(requests);
  const auto got = lb.serveAndCollect(requests.size());
  ASSERT_EQ(got.size(), requests.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (expect[i].empty()) {
      EXPECT_EQ(got[i].size(), 14u + 7u + 2u + 1u) << i;  // header, message, data, checksum
      EXPECT_EQ(replySeq(got[i]), i) << i;
      EXPECT_EQ(got[i][20], 0x00) << i;  // completion code
    } else {
      EXPECT_EQ(got[i], expect[i]) << i;
    }
  }
  EXPECT_EQ(lb.channel.counters().replied, requests.size());
  EXPECT_EQ(lb.server.stats().datagramsSent, requests.size());
  EXPECT_GE(lb.server.stats().trains, 1u);
}

TEST(UdpServerTest, APathThatRefusesTrainsGetsEveryReplyOneByOne) {
  Loopback lb;
  // With UDP checksums turned off the kernel refuses segmentation offload (EINVAL): the server must
  // fall back to single datagrams without losing one.
  const int noCheck = 1;
  ASSERT_EQ(::setsockopt(lb.server.nativeHandle(), SOL_SOCKET, SO_NO_CHECK, &noCheck, sizeof noCheck), 0);
  std::vector<Bytes> pings;
  for (uint8_t tag = 0; tag < 20; ++tag) pings.push_back(asfPing(tag));
  lb.sendAll(pings);
  auto got = lb.serveAndCollect(pings.size());
  ASSERT_EQ(got.size(), pings.size());
  for (uint8_t tag = 0; tag < 20; ++tag) EXPECT_EQ(got[tag], expectedPong(tag)) << "tag " << int{tag};
  // Later batches go out one by one from the start.
  lb.sendAll(pings);
  got = lb.serveAndCollect(pings.size());
  ASSERT_EQ(got.size(), pings.size());
  EXPECT_EQ(got.back(), expectedPong(19));
  EXPECT_TRUE(lb.server.stats().trainsRefused);
  EXPECT_EQ(lb.server.stats().trains, 0u);
  EXPECT_EQ(lb.server.stats().datagramsSent, 40u);
}

TEST(UdpServerTest, RepliesToDifferentPeersReachEachPeer) {
  Loopback lb;
  asio::ip::udp::socket other(lb.io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  struct timeval tv{5, 0};
  ::setsockopt(other.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (uint8_t tag = 0; tag < 6; ++tag) {
    lb.client.send_to(asio::buffer(asfPing(tag)), lb.serverEndpoint());
    other.send_to(asio::buffer(asfPing(static_cast<uint8_t>(0x80 | tag))), lb.serverEndpoint());
  }
  const auto got = lb.serveAndCollect(6);
  ASSERT_EQ(got.size(), 6u);
  for (uint8_t tag = 0; tag < 6; ++tag) EXPECT_EQ(got[tag], expectedPong(tag));
  for (uint8_t tag = 0; tag < 6; ++tag) {
    std::array<uint8_t, 2048> buf{};
    boost::system::error_code ec;
    const size_t n = other.receive(asio::buffer(buf), 0, ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(Bytes(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)), expectedPong(static_cast<uint8_t>(0x80 | tag)));
  }
}

}  // namespace
}  // namespace simbmc::net
