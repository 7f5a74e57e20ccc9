#include "net/udp_server.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace simbmc::net {

namespace asio = boost::asio;

namespace {

constexpr size_t kBatch = 32;          // datagrams per recvmmsg/sendmmsg
constexpr int kBatchesPerWake = 4;     // then other handlers get a turn
constexpr size_t kMaxDatagram = 2048;  // a longer datagram arrives truncated and fails parsing

// Receive buffers shared by every server of a thread: the servers of one io_context all run on its
// one thread and a batch is handled to completion before the next receive.
struct RxBatch {
  std::array<std::array<uint8_t, kMaxDatagram>, kBatch> data{};
  std::array<sockaddr_storage, kBatch> addr{};
  std::array<iovec, kBatch> iov{};
  std::array<mmsghdr, kBatch> hdr{};
};

}  // namespace

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
  std::array<mmsghdr, kBatch> hdr{};
  std::array<iovec, kBatch> iov{};
  size_t done = 0;
  // Each round sends at least one message or skips one that fails (a full buffer, an unreachable
  // peer): bounded by the number of messages.
  while (done < outgoing_.size()) {
    const size_t n = std::min(kBatch, outgoing_.size() - done);
    for (size_t i = 0; i < n; ++i) {
      Outgoing& o = outgoing_[done + i];
      iov[i] = {o.packet.data(), o.packet.size()};
      hdr[i] = {};
      hdr[i].msg_hdr.msg_name = o.addr.data();
      hdr[i].msg_hdr.msg_namelen = o.addrLength;
      hdr[i].msg_hdr.msg_iov = &iov[i];
      hdr[i].msg_hdr.msg_iovlen = 1;
    }
    const int sent = ::sendmmsg(socket_.native_handle(), hdr.data(), static_cast<unsigned>(n), MSG_DONTWAIT);
    done += sent > 0 ? static_cast<size_t>(sent) : 1;
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
