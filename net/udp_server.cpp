#include "net/udp_server.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/v6_only.hpp>

namespace simbmc::net {

namespace asio = boost::asio;

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
  if (!socket_.is_open()) return;
  boost::system::error_code ec;
  const bool v6Socket = socket_.local_endpoint(ec).protocol() == asio::ip::udp::v6();
  if (ec) return;
  socket_.send_to(asio::buffer(data.data(), data.size()), toEndpoint(peer, v6Socket), 0, ec);  // a full buffer drops it
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
  channel_.setLocalPort(localPort());
  return {};
}

void UdpServer::close() {
  boost::system::error_code ignored;
  socket_.close(ignored);
  channel_.setLocalPort(0);
}

uint16_t UdpServer::localPort() const {
  boost::system::error_code ec;
  auto ep = socket_.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void UdpServer::receive() {
  socket_.async_receive_from(asio::buffer(buffer_), peer_, [this](boost::system::error_code ec, size_t n) {
    if (ec == asio::error::operation_aborted || !socket_.is_open()) return;
    if (!ec) handleOne(n);
    // Drain what else is already queued before going back to the reactor: under load this saves a
    // reactor round trip per datagram. Bounded so one busy socket cannot starve the others.
    for (int i = 0; i < kDrainBatch; ++i) {
      boost::system::error_code readError;
      const size_t got = socket_.receive_from(asio::buffer(buffer_), peer_, 0, readError);
      if (readError) break;  // would_block: the queue is empty
      handleOne(got);
    }
    receive();
  });
}

void UdpServer::handleOne(size_t n) {
  auto reply = channel_.handle(ByteView(buffer_.data(), n), toPeerAddress(peer_));
  if (reply) {
    boost::system::error_code sendError;
    socket_.send_to(asio::buffer(*reply), peer_, 0, sendError);  // non-blocking; a full buffer drops it
  }
}

}  // namespace simbmc::net
