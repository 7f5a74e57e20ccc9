#include "net/udp_server.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace simbmc::net {

namespace asio = boost::asio;

namespace {

constexpr size_t kBatch = 32;          // datagrams per recvmmsg/sendmmsg
constexpr int kBatchesPerWake = 4;     // then other handlers get a turn
constexpr size_t kMaxDatagram = 2048;  // a longer datagram arrives truncated and fails parsing
// Datagram trains (UDP generic segmentation offload): segments per train, the largest segment that
// fits an Ethernet MTU with IPv6 and UDP headers, and the largest train payload.
constexpr size_t kMaxSegments = 32;
constexpr size_t kMaxSegmentSize = 1400;
constexpr size_t kMaxTrain = 60000;

// Receive buffers shared by every server of a thread: the servers of one io_context all run on its
// one thread and a batch is handled to completion before the next receive.
struct RxBatch {
  std::array<std::array<uint8_t, kMaxDatagram>, kBatch> data{};
  std::array<sockaddr_storage, kBatch> addr{};
  std::array<iovec, kBatch> iov{};
  std::array<mmsghdr, kBatch> hdr{};
};

}  // namespace

bool UdpServer::samePeer(const Outgoing& a, const Outgoing& b) {
  return a.addrLength == b.addrLength && std::memcmp(a.addr.data(), b.addr.data(), a.addrLength) == 0;
}

PeerAddress toPeerAddress(const asio::ip::udp::endpoint& ep) {
  PeerAddress p;
  p.port = ep.port();
  if (ep.address().is_v4()) {
    auto b = ep.address().to_v4().to_bytes();
    std::copy(b.begin(), b.end(), p.addr.begin());
  } else {
    auto v6 = ep.address().to_v6();
    if (v6.is_v4_mapped()) {
      auto b = asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_bytes();
      std::copy(b.begin(), b.end(), p.addr.begin());
    } else {
      auto b = v6.to_bytes();
      std::copy(b.begin(), b.end(), p.addr.begin());
      p.v6 = true;
    }
  }
  return p;
}

asio::ip::udp::endpoint toEndpoint(const PeerAddress& peer, bool v6Socket) {
  if (peer.v6) {
    asio::ip::address_v6::bytes_type b{};
    std::copy(peer.addr.begin(), peer.addr.end(), b.begin());
    return {asio::ip::address_v6(b), peer.port};
  }
  asio::ip::address_v4::bytes_type b{};
  std::copy_n(peer.addr.begin(), 4, b.begin());
  const asio::ip::address_v4 v4(b);
  if (v6Socket) return {asio::ip::make_address_v6(asio::ip::v4_mapped, v4), peer.port};
  return {v4, peer.port};
}

UdpServer::UdpServer(asio::io_context& io, LanChannel& channel) : socket_(io), channel_(channel) {
  channel_.setTransmit([this](const PeerAddress& peer, ByteView data) { sendTo(peer, data); });
}

UdpServer::~UdpServer() {
  channel_.setTransmit(nullptr);
  channel_.setLocalPort(0);
}

void UdpServer::sendTo(const PeerAddress& peer, ByteView data) {
  if (!socket_.is_open() || data.empty()) return;
  const auto ep = toEndpoint(peer, v6_);
  if (inBatch_) {  // behind the replies already queued, in order
    queueOrSend(ep.data(), ep.size(), Bytes(data.begin(), data.end()));
    return;
  }
  boost::system::error_code ec;
  socket_.send_to(asio::buffer(data.data(), data.size()), ep, 0, ec);  // a full buffer drops it
  if (!ec) ++stats_.datagramsSent;
}

void UdpServer::queueOrSend(const void* addr, size_t addrLength, Bytes packet) {
  Outgoing o;
  if (addrLength > o.addr.size()) return;
  std::memcpy(o.addr.data(), addr, addrLength);
  o.addrLength = static_cast<uint32_t>(addrLength);
  o.packet = std::move(packet);
  outgoing_.push_back(std::move(o));
  if (outgoing_.size() >= kBatch) flush();
}

void UdpServer::flush() {
  if (outgoing_.empty() || !socket_.is_open()) {
    outgoing_.clear();
    return;
  }
  // outgoing_ never holds more than kBatch packets (queueOrSend flushes at kBatch), so one array
  // of iovecs covers them all and no message needs more than one control block.
  std::array<mmsghdr, kBatch> hdr{};
  std::array<iovec, kBatch> iov{};
  std::array<SegmentControl, kBatch> control{};
  std::array<size_t, kBatch> segments{};  // packets carried by each message
  size_t done = 0;
  // Each round sends at least one message, skips one that fails (a full buffer, an unreachable
  // peer) or turns segmentation off once: bounded by the number of packets plus one.
  while (done < outgoing_.size()) {
    size_t messages = 0;
    for (size_t i = done; i < outgoing_.size(); ++messages) {
      const size_t first = i;
      const size_t size = outgoing_[i].packet.size();
      size_t total = size;
      ++i;
      // Consecutive packets to the same peer become one datagram train (UDP_SEGMENT): equal
      // sizes, the last one may be shorter. The kernel splits it back into single datagrams, so
      // the peer receives exactly what it would have without it.
      while (gso_ && i < outgoing_.size() && size <= kMaxSegmentSize && i - first < kMaxSegments &&
             total + outgoing_[i].packet.size() <= kMaxTrain && samePeer(outgoing_[first], outgoing_[i])) {
        const size_t next = outgoing_[i].packet.size();
        if (next > size) break;
        total += next;
        ++i;
        if (next < size) break;  // a shorter packet ends the train
      }
      for (size_t k = first; k < i; ++k) iov[k - done] = {outgoing_[k].packet.data(), outgoing_[k].packet.size()};
      mmsghdr& m = hdr[messages];
      m = {};
      m.msg_hdr.msg_name = outgoing_[first].addr.data();
      m.msg_hdr.msg_namelen = outgoing_[first].addrLength;
      m.msg_hdr.msg_iov = &iov[first - done];
      m.msg_hdr.msg_iovlen = i - first;
      segments[messages] = i - first;
      if (i - first > 1) {
        control[messages] = {};
        m.msg_hdr.msg_control = control[messages].bytes.data();
        m.msg_hdr.msg_controllen = CMSG_SPACE(sizeof(uint16_t));
        cmsghdr* cm = CMSG_FIRSTHDR(&m.msg_hdr);
        cm->cmsg_level = SOL_UDP;
        cm->cmsg_type = UDP_SEGMENT;
        cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        const auto segment = static_cast<uint16_t>(size);
        std::memcpy(CMSG_DATA(cm), &segment, sizeof segment);
      }
    }
    const int sent = ::sendmmsg(socket_.native_handle(), hdr.data(), static_cast<unsigned>(messages), MSG_DONTWAIT);
    const int err = errno;
    size_t advanced = 0;
    for (int k = 0; k < sent; ++k) {
      const size_t carried = segments[static_cast<size_t>(k)];
      advanced += carried;
      stats_.datagramsSent += carried;
      if (carried > 1) ++stats_.trains;
    }
    if (sent <= 0) {
      // The first message failed. A train the path cannot take (no checksum offload, a small MTU,
      // an old kernel) is sent again as single datagrams; anything else is dropped like a lost
      // datagram.
      if (segments[0] > 1 && (err == EINVAL || err == EIO || err == EMSGSIZE || err == ENOPROTOOPT || err == EOPNOTSUPP)) {
        gso_ = false;
        stats_.trainsRefused = true;
        continue;
      }
      advanced = segments[0];
    }
    done += advanced;
  }
  outgoing_.clear();
}

Result<void> UdpServer::open(const std::string& address, uint16_t port) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(address, ec);
  if (ec) return makeError(Error::Kind::invalidArgument, "not an IP address: " + address);
  asio::ip::udp::endpoint ep(addr, port);
  socket_.open(ep.protocol(), ec);
  if (!ec && addr.is_v6()) socket_.set_option(asio::ip::v6_only(false), ec);
  if (!ec) socket_.bind(ep, ec);
  if (!ec) socket_.non_blocking(true, ec);
  if (ec) {
    boost::system::error_code ignored;
    socket_.close(ignored);
    return makeError(Error::Kind::io, "cannot bind udp " + address + ":" + std::to_string(port) + ": " + ec.message());
  }
  v6_ = addr.is_v6();
  channel_.setLocalPort(localPort());
  return {};
}

void UdpServer::close() {
  boost::system::error_code ignored;
  socket_.close(ignored);
  outgoing_.clear();
  channel_.setLocalPort(0);
}

uint16_t UdpServer::localPort() const {
  boost::system::error_code ec;
  auto ep = socket_.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void UdpServer::waitReadable() {
  socket_.async_wait(asio::ip::udp::socket::wait_read, [this](boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted || !socket_.is_open()) return;
    drain();
  });
}

void UdpServer::drain() {
  if (!socket_.is_open()) return;
  thread_local RxBatch rx;
  bool full = false;
  inBatch_ = true;
  for (int round = 0; round < kBatchesPerWake; ++round) {
    for (size_t i = 0; i < kBatch; ++i) {
      rx.iov[i] = {rx.data[i].data(), rx.data[i].size()};
      rx.hdr[i] = {};
      rx.hdr[i].msg_hdr.msg_name = &rx.addr[i];
      rx.hdr[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      rx.hdr[i].msg_hdr.msg_iov = &rx.iov[i];
      rx.hdr[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = ::recvmmsg(socket_.native_handle(), rx.hdr.data(), kBatch, MSG_DONTWAIT, nullptr);
    full = n == static_cast<int>(kBatch);
    if (n <= 0) break;
    for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
      const socklen_t addrLength = rx.hdr[i].msg_hdr.msg_namelen;
      asio::ip::udp::endpoint from;
      if (addrLength == 0 || addrLength > from.capacity()) continue;
      std::memcpy(from.data(), &rx.addr[i], addrLength);
      from.resize(addrLength);
      auto reply = channel_.handle(ByteView(rx.data[i].data(), rx.hdr[i].msg_len), toPeerAddress(from));
      if (reply && !reply->empty()) queueOrSend(&rx.addr[i], addrLength, std::move(*reply));
      if (!socket_.is_open()) break;
    }
    flush();
    // After a partial batch, look once more before sleeping: under closed-loop load the consoles'
    // next requests are often already queued, and a receive is cheaper than a sleep and a wake-up.
    if (!socket_.is_open()) break;
  }
  inBatch_ = false;
  flush();
  if (!socket_.is_open()) return;
  if (full) {
    // More may be queued and no new readiness event would announce it (the reactor is edge
    // triggered): come back after the handlers already waiting.
    asio::post(socket_.get_executor(), [this, alive = std::weak_ptr<int>(alive_)] {
      if (!alive.expired()) drain();
    });
  } else {
    // The queue was empty at the last recvmmsg: any datagram since then raises a new event.
    waitReadable();
  }
}

}  // namespace simbmc::net
