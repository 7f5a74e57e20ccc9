// simbmc_bench_rmcpp: a lean closed-loop RMCP+ load generator for Get Device ID.
//
// Why a second load generator: libfreeipmi (simbmc_bench_load) spends about twice the BMC's CPU per
// command (fiid objects, per-packet allocations, one thread per session). On a small machine the
// client then saturates the CPUs before a fast BMC does, and the measured rate says more about the
// client than about the BMC. This client keeps per-command work to what the protocol needs: each
// session is opened once (Open Session, RAKP 1-4, IPMI v2.0 §13.17-13.23), then every request is a
// pre-built IPMI message sealed with the session's keyed-once contexts (net/crypto SessionCipher),
// and all sessions of a thread share one UDP socket driven with recvmmsg/sendmmsg.
//
// It checks what it receives: the session trailer AuthCode, the payload decryption and pad, the
// console session ID, the response's netFn/command/rqSeq and the completion code. A reply that fails
// a check counts as an error; the BMC's own correctness is proven by the integration tests with
// ipmitool and FreeIPMI, and a BMC that is not simbmcd (OpenIPMI's ipmi_sim) checks this client.
//
// Output: one line per configuration, the same JSON schema as simbmc_bench_load (run_bench.py reads
// either). Bounds: every run stops at --duration (capped at one hour); each wait is bounded by
// --retransmit-ms and --session-timeout-ms; traffic goes to loopback only.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_stats.hpp"
#include "net/crypto.hpp"
#include "net/wire.hpp"

namespace simbmc::bench {
namespace {

namespace crypto = simbmc::net::crypto;
using simbmc::net::Bytes;
using simbmc::net::ByteView;
using simbmc::net::Reader;
using simbmc::net::Writer;
using Clock = std::chrono::steady_clock;

constexpr double kMaxDurationS = 3600.0;
constexpr unsigned kMaxSessions = 1024;
constexpr size_t kBatch = 64;
constexpr uint32_t kConsoleIdBase = 0x5E550000;  // console session IDs: base + session index + 1





// ---- Options ----

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 623;
  std::string user = "admin";
  std::string password;
  std::string privilege = "admin";
  std::vector<int> ciphers{17};
  std::vector<unsigned> sessions{16};
  unsigned threads = 1;
  double durationS = 2.0;
  unsigned sessionTimeoutMs = 5000;
  unsigned retransmitMs = 500;
  int bmcPid = 0;
  bool json = false;
  bool probe = false;
};

uint8_t privilegeValue(const std::string& p) {
  if (p == "user") return 2;
  if (p == "operator") return 3;
  return 4;
}

// ---- Packets ----

constexpr uint8_t kPayloadIpmi = 0x00;
constexpr uint8_t kOpenSessionRq = 0x10, kOpenSessionRs = 0x11, kRakp1 = 0x12, kRakp2 = 0x13, kRakp3 = 0x14,
                  kRakp4 = 0x15;

void rmcpHeader(Bytes& out) { Writer(out).u8(0x06).u8(0x00).u8(0xFF).u8(0x07); }

// An unauthenticated RMCP+ packet (session setup) carrying `payload`.
Bytes setupPacket(uint8_t type, ByteView payload) {
  Bytes out;
  rmcpHeader(out);
  Writer(out).u8(0x06).u8(type).u32le(0).u32le(0).u16le(static_cast<uint16_t>(payload.size())).bytes(payload);
  return out;
}

// The payload of an unauthenticated RMCP+ reply of `type`, or nullopt.
std::optional<Bytes> setupPayload(ByteView d, uint8_t type) {
  Reader r(d);
  r.skip(4);
  if (r.u8() != 0x06 || (r.u8() & 0x3F) != type) return std::nullopt;
  r.skip(8);
  const uint16_t n = r.u16le();
  ByteView p = r.bytes(n);
  if (!r.ok()) return std::nullopt;
  return Bytes(p.begin(), p.end());
}

uint8_t checksum(ByteView b) {
  uint8_t sum = 0;
  for (uint8_t v : b) sum = static_cast<uint8_t>(sum + v);
  return static_cast<uint8_t>(-sum);
}

constexpr uint8_t kCmdGetDeviceId = 0x01, kCmdCloseSession = 0x3C;

// An App NetFn request from the remote console software (81h) to the BMC (20h), IPMI v2.0 §13.8.
Bytes appRequest(uint8_t rqSeq, uint8_t cmd, ByteView data) {
  Bytes m = {0x20, static_cast<uint8_t>(0x06 << 2), 0, 0x81, static_cast<uint8_t>(rqSeq << 2), cmd};
  m[2] = checksum(ByteView(m).first(2));
  m.insert(m.end(), data.begin(), data.end());
  m.push_back(checksum(ByteView(m).subspan(3)));
  return m;
}

// ---- One session ----

struct Session {
  unsigned index = 0;
  uint32_t consoleId = 0, bmcId = 0;
  crypto::CipherSuite suite{};
  std::unique_ptr<crypto::SessionCipher> cipher;
  uint32_t seq = 0;
  uint8_t rqSeq = 0;
  Bytes packet;  // the request in flight (re-sent as is on retransmit, with a new sequence number)
  Clock::time_point sentAt{}, firstSentAt{};
  bool inFlight = false;
};

class Socket {
 public:
  Socket() = default;
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  bool open(const sockaddr_in& peer, unsigned timeoutMs, std::string& err) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return fail(err, "socket");
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&peer), sizeof peer) != 0) return fail(err, "connect");
    return setTimeout(timeoutMs, err);
  }
  bool setTimeout(unsigned ms, std::string& err) {
    timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
    if (setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) return fail(err, "SO_RCVTIMEO");
    return true;
  }
  int fd() const { return fd_; }
  bool send(ByteView b) { return ::send(fd_, b.data(), b.size(), 0) == static_cast<ssize_t>(b.size()); }
  // One datagram, or nullopt on timeout/error.
  std::optional<Bytes> recv() {
    Bytes buf(2048);
    const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n <= 0) return std::nullopt;
    buf.resize(static_cast<size_t>(n));
    return buf;
  }

 private:
  static bool fail(std::string& err, const char* what) {
    err = fmt::format("{}: {}", what, std::strerror(errno));
    return false;
  }
  int fd_ = -1;
};

// Sends `request` and waits for a setup reply of `type` whose first payload byte is `tag`.
std::optional<Bytes> exchange(Socket& sock, ByteView request, uint8_t type, uint8_t tag, const Options& o) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(o.sessionTimeoutMs);
  for (unsigned attempt = 0; attempt < 64 && Clock::now() < deadline; ++attempt) {
    if (!sock.send(request)) return std::nullopt;
    const auto resend = Clock::now() + std::chrono::milliseconds(o.retransmitMs);
    for (unsigned i = 0; i < 256 && Clock::now() < std::min(resend, deadline); ++i) {
      auto d = sock.recv();
      if (!d) break;  // receive timeout: resend
      auto p = setupPayload(*d, type);
      if (p && !p->empty() && (*p)[0] == tag) return p;
    }
  }
  return std::nullopt;
}

// Open Session + RAKP 1-4 on `sock` (IPMI v2.0 §13.17-13.23). The session starts at USER privilege
// (§13.15), enough for Get Device ID; no Set Session Privilege is sent.
bool openSession(Socket& sock, Session& s, const Options& o, std::string& err) {
  const uint8_t tag = static_cast<uint8_t>(s.index);
  const uint8_t role = privilegeValue(o.privilege);
  Bytes rq;
  Writer w(rq);
  w.u8(tag).u8(role).u16le(0).u32le(s.consoleId);
  const uint8_t algs[3] = {static_cast<uint8_t>(s.suite.auth), static_cast<uint8_t>(s.suite.integrity),
                           static_cast<uint8_t>(s.suite.conf)};
  for (uint8_t i = 0; i < 3; ++i) w.u8(i).u16le(0).u8(8).u8(algs[i]).u8(0).u16le(0);
  auto rs = exchange(sock, setupPacket(kOpenSessionRq, rq), kOpenSessionRs, tag, o);
  if (!rs) return err = "open session: no reply", false;
  Reader r(*rs);
  r.u8();
  if (const uint8_t status = r.u8(); status != 0) return err = fmt::format("open session: status {:#04x}", status), false;
  r.skip(2);
  if (r.u32le() != s.consoleId) return err = "open session: wrong console session id", false;
  s.bmcId = r.u32le();
  if (!r.ok() || s.bmcId == 0) return err = "open session: short reply", false;

  std::array<uint8_t, 16> rm{};
  if (!crypto::randomBytes(rm)) return err = "RAND_bytes", false;
  rq.clear();
  Writer(rq).u8(tag).zeros(3).u32le(s.bmcId).bytes(rm).u8(role).u16le(0).u8(static_cast<uint8_t>(o.user.size()))
      .bytes(ByteView(reinterpret_cast<const uint8_t*>(o.user.data()), o.user.size()));
  rs = exchange(sock, setupPacket(kRakp1, rq), kRakp2, tag, o);
  if (!rs) return err = "RAKP 1: no reply", false;
  Reader r2(*rs);
  r2.u8();
  if (const uint8_t status = r2.u8(); status != 0) return err = fmt::format("RAKP 2: status {:#04x}", status), false;
  r2.skip(2);
  if (r2.u32le() != s.consoleId) return err = "RAKP 2: wrong console session id", false;
  ByteView rcView = r2.bytes(16);
  ByteView guid = r2.bytes(16);
  ByteView code2 = r2.bytes(crypto::rakpAuthCodeLength(s.suite.auth));
  if (!r2.ok()) return err = "RAKP 2: short reply", false;
  const Bytes rc(rcView.begin(), rcView.end());
  Bytes kuid(o.password.begin(), o.password.end());
  kuid.resize(20, 0);
  const ByteView name(reinterpret_cast<const uint8_t*>(o.user.data()), o.user.size());
  // RAKP 2 AuthCode = HMAC_Kuid(SIDm | SIDc | Rm | Rc | GUIDc | RoleM | ULengthM | UNameM), §13.21.
  Bytes data;
  Writer(data).u32le(s.consoleId).u32le(s.bmcId).bytes(rm).bytes(rc).bytes(guid).u8(role)
      .u8(static_cast<uint8_t>(name.size())).bytes(name);
  if (!crypto::constantTimeEqual(crypto::hmac(s.suite.auth, kuid, data), code2)) {
    return err = "RAKP 2: bad key exchange auth code (wrong password?)", false;
  }
  // RAKP 3 AuthCode = HMAC_Kuid(Rc | SIDm | RoleM | ULengthM | UNameM), §13.22.
  data.clear();
  Writer(data).bytes(rc).u32le(s.consoleId).u8(role).u8(static_cast<uint8_t>(name.size())).bytes(name);
  rq.clear();
  Writer(rq).u8(tag).u8(0).u16le(0).u32le(s.bmcId).bytes(crypto::hmac(s.suite.auth, kuid, data));
  rs = exchange(sock, setupPacket(kRakp3, rq), kRakp4, tag, o);
  if (!rs) return err = "RAKP 3: no reply", false;
  Reader r4(*rs);
  r4.u8();
  if (const uint8_t status = r4.u8(); status != 0) return err = fmt::format("RAKP 4: status {:#04x}", status), false;
  const Bytes sik = crypto::deriveSik(s.suite.auth, kuid, rm, rc, role, o.user);
  const Bytes k1 = crypto::deriveKey(s.suite.auth, sik, 1);
  const Bytes k2 = crypto::deriveKey(s.suite.auth, sik, 2);
  s.cipher = crypto::SessionCipher::create(s.suite, k1, k2, kuid);
  if (!s.cipher) return err = "cannot key the session", false;
  return true;
}

// Builds the next request packet of `s` (new rqSeq and session sequence number): Get Device ID, or
// Close Session of this session.
void buildRequest(Session& s, uint8_t cmd = kCmdGetDeviceId) {
  s.rqSeq = static_cast<uint8_t>((s.rqSeq + 1) & 0x3F);
  Bytes data;
  if (cmd == kCmdCloseSession) Writer(data).u32le(s.bmcId);
  const Bytes msg = appRequest(s.rqSeq, cmd, data);
  const bool auth = s.suite.integrity != crypto::IntegrityAlg::none;
  const bool enc = s.suite.conf != crypto::ConfAlg::none;
  Bytes& out = s.packet;
  out.clear();
  rmcpHeader(out);
  const size_t start = out.size();
  Writer w(out);
  const size_t bodyLength = enc ? crypto::aesCbc128Size(msg.size()) : msg.size();
  w.u8(0x06).u8(static_cast<uint8_t>(kPayloadIpmi | (enc ? 0x80 : 0) | (auth ? 0x40 : 0)));
  w.u32le(s.bmcId).u32le(++s.seq).u16le(static_cast<uint16_t>(bodyLength));
  if (enc) {
    s.cipher->appendEncrypted(msg, out);
  } else {
    w.bytes(msg);
  }
  if (auth) {
    const size_t covered = out.size() - start + 2;
    for (size_t i = 0; i < (4 - covered % 4) % 4; ++i) w.u8(0xFF);
    w.u8(static_cast<uint8_t>((4 - covered % 4) % 4)).u8(0x07);
    s.cipher->appendCode(ByteView(out).subspan(start), out);
  }
}

// Checks a reply datagram for session `s`; true when it is the answer to the request in flight.
bool acceptReply(Session& s, ByteView d, std::string& err, uint8_t cmd = kCmdGetDeviceId) {
  Reader r(d);
  r.skip(4);
  if (r.u8() != 0x06) return err = "reply: not RMCP+", false;
  const uint8_t pt = r.u8();
  r.u32le();  // console session id, already matched by the caller
  r.u32le();  // BMC sequence number
  const uint16_t length = r.u16le();
  ByteView body = r.bytes(length);
  if (!r.ok() || (pt & 0x3F) != kPayloadIpmi) return err = "reply: malformed", false;
  const bool auth = (pt & 0x40) != 0;
  const bool enc = (pt & 0x80) != 0;
  if (auth != (s.suite.integrity != crypto::IntegrityAlg::none) || enc != (s.suite.conf != crypto::ConfAlg::none)) {
    return err = "reply: wrong authentication/encryption bits", false;
  }
  if (auth) {
    const size_t codeLength = crypto::integrityCodeLength(s.suite.integrity);
    if (d.size() < 4 + codeLength) return err = "reply: short trailer", false;
    if (!s.cipher->verifyCode(d.subspan(4, d.size() - 4 - codeLength), d.subspan(d.size() - codeLength))) {
      return err = "reply: bad integrity code", false;
    }
  }
  Bytes plain;
  if (enc) {
    auto p = s.cipher->decrypt(body);
    if (!p) return err = "reply: does not decrypt", false;
    plain = std::move(*p);
    body = plain;
  }
  // rqAddr, netFn/LUN, chk, rsAddr, rqSeq/LUN, cmd, cc, data..., chk (§13.8)
  if (body.size() < 8 || body[1] >> 2 != 0x07 || body[5] != cmd) return err = "reply: not the response expected", false;
  if (checksum(body.first(2)) != body[2] || checksum(body.subspan(3, body.size() - 4)) != body.back()) {
    return err = "reply: bad checksum", false;
  }
  if ((body[4] >> 2) != s.rqSeq) return false;  // a late answer to an earlier try: ignore
  if (body[6] != 0) return err = fmt::format("reply: completion code {:#04x}", body[6]), false;
  return true;
}

// ---- One configuration ----

struct ThreadResult {
  LatencyHistogram latency, openLatency;
  uint64_t ops = 0, errors = 0, retransmits = 0;
  unsigned opened = 0;
  std::string firstError;
};

struct Shared {
  std::atomic<unsigned> readyThreads{0};
  std::atomic<bool> go{false}, stop{false};
};

void worker(const Options& o, const sockaddr_in& peer, crypto::CipherSuite suite, unsigned first, unsigned count,
            Shared& shared, ThreadResult& res, Clock::time_point hardDeadline) {
  auto note = [&](const std::string& e) {
    ++res.errors;
    if (res.firstError.empty()) res.firstError = e;
  };
  Socket sock;
  std::string err;
  std::vector<Session> sessions(count);
  if (!sock.open(peer, std::max(1u, o.retransmitMs), err)) note(err);
  for (unsigned i = 0; i < count && res.firstError.empty(); ++i) {
    Session& s = sessions[i];
    s.index = first + i;
    s.consoleId = kConsoleIdBase + s.index + 1;
    s.suite = suite;
    const auto t0 = Clock::now();
    if (!openSession(sock, s, o, err)) {
      note(err);
      break;
    }
    res.openLatency.add(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count()));
    ++res.opened;
  }
  shared.readyThreads.fetch_add(1);
  while (!shared.go.load() && Clock::now() < hardDeadline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto closeAll = [&](unsigned opened) {
    // Close Session for every session that came up (not measured): one try each, bounded by the
    // retransmit interval, so that a failed or finished run leaves no sessions behind.
    for (unsigned i = 0; i < opened; ++i) {
      Session& s = sessions[i];
      buildRequest(s, kCmdCloseSession);
      if (!sock.send(s.packet)) continue;
      for (unsigned k = 0; k < 64; ++k) {
        auto d = sock.recv();
        if (!d) break;
        std::string ignored;
        Reader r(*d);
        r.skip(6);
        if (r.u32le() == s.consoleId && acceptReply(s, *d, ignored, kCmdCloseSession)) break;
      }
    }
  };
  if (res.opened != count) {
    closeAll(res.opened);
    return;
  }
  sock.setTimeout(std::max(1u, std::min(o.retransmitMs, 20u)), err);

  std::array<mmsghdr, kBatch> out{};
  std::array<iovec, kBatch> outIov{};
  std::array<std::array<uint8_t, 512>, kBatch> inBuf{};
  std::array<mmsghdr, kBatch> in{};
  std::array<iovec, kBatch> inIov{};
  for (size_t i = 0; i < kBatch; ++i) {
    inIov[i] = {inBuf[i].data(), inBuf[i].size()};
    in[i].msg_hdr.msg_iov = &inIov[i];
    in[i].msg_hdr.msg_iovlen = 1;
  }
  size_t pending = 0;
  auto queue = [&](Session& s) {
    if (pending == kBatch) {
      (void)sendmmsg(sock.fd(), out.data(), static_cast<unsigned>(pending), 0);
      pending = 0;
    }
    outIov[pending] = {s.packet.data(), s.packet.size()};
    out[pending].msg_hdr = {};
    out[pending].msg_hdr.msg_iov = &outIov[pending];
    out[pending].msg_hdr.msg_iovlen = 1;
    ++pending;
    s.sentAt = Clock::now();
    s.inFlight = true;
  };
  auto flush = [&] {
    if (pending > 0) (void)sendmmsg(sock.fd(), out.data(), static_cast<unsigned>(pending), 0);
    pending = 0;
  };
  for (Session& s : sessions) {
    buildRequest(s);
    s.firstSentAt = Clock::now();
    queue(s);
  }
  flush();
  auto lastSweep = Clock::now();
  while (!shared.stop.load(std::memory_order_relaxed) && Clock::now() < hardDeadline) {
    const int n = recvmmsg(sock.fd(), in.data(), kBatch, MSG_WAITFORONE, nullptr);
    const auto now = Clock::now();
    for (int i = 0; i < n; ++i) {
      ByteView d(inBuf[static_cast<size_t>(i)].data(), in[static_cast<size_t>(i)].msg_len);
      Reader r(d);
      r.skip(6);
      const uint32_t sid = r.u32le();
      if (!r.ok() || sid <= kConsoleIdBase + first || sid > kConsoleIdBase + first + count) {
        note("reply for an unknown session");
        continue;
      }
      Session& s = sessions[sid - kConsoleIdBase - first - 1];
      if (!s.inFlight) continue;
      if (!acceptReply(s, d, err)) {
        if (!err.empty()) note(err);
        err.clear();
        continue;
      }
      ++res.ops;
      res.latency.add(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(now - s.firstSentAt).count()));
      buildRequest(s);
      s.firstSentAt = now;
      queue(s);
    }
    flush();
    if (now - lastSweep >= std::chrono::milliseconds(10)) {
      lastSweep = now;
      for (Session& s : sessions) {
        if (!s.inFlight) continue;
        if (now - s.firstSentAt >= std::chrono::milliseconds(o.sessionTimeoutMs)) {
          note("request timed out");
          s.inFlight = false;  // this session stops; the others go on
        } else if (now - s.sentAt >= std::chrono::milliseconds(o.retransmitMs)) {
          ++res.retransmits;
          const uint8_t keep = s.rqSeq;
          s.rqSeq = static_cast<uint8_t>((keep - 1) & 0x3F);  // buildRequest() advances it back to `keep`
          buildRequest(s);
          queue(s);
        }
      }
      flush();
    }
  }
  sock.setTimeout(std::max(1u, o.retransmitMs), err);
  closeAll(count);
}

struct ConfigResult {
  unsigned cipher = 0, sessions = 0, opened = 0;
  double elapsedS = 0, clientCpuS = 0;
  uint64_t ops = 0, errors = 0, retransmits = 0;
  LatencyHistogram latency, openLatency;
  ProcSample bmcBefore, bmcAfter;
  std::string firstError;
  double rate() const { return elapsedS > 0 ? static_cast<double>(ops) / elapsedS : 0; }
};

ConfigResult runConfig(const Options& o, const sockaddr_in& peer, crypto::CipherSuite suite, unsigned sessions,
                       double durationS) {
  ConfigResult res;
  res.cipher = suite.id;
  res.sessions = sessions;
  const unsigned threads = std::clamp(o.threads, 1u, sessions);
  Shared shared;
  std::vector<ThreadResult> results(threads);
  std::vector<std::thread> pool;
  const auto hardDeadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                               std::chrono::duration<double>(durationS * 2 + 10) +
                                               std::chrono::milliseconds(2 * o.sessionTimeoutMs));
  unsigned first = 0;
  for (unsigned t = 0; t < threads; ++t) {
    const unsigned count = sessions / threads + (t < sessions % threads ? 1 : 0);
    pool.emplace_back(worker, std::cref(o), std::cref(peer), suite, first, count, std::ref(shared),
                      std::ref(results[t]), hardDeadline);
    first += count;
  }
  while (shared.readyThreads.load() < threads && Clock::now() < hardDeadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  res.bmcBefore = sampleProc(o.bmcPid);
  const double cpu0 = selfCpuS();
  const auto start = Clock::now();
  shared.go.store(true);
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(durationS));
  while (Clock::now() < deadline) std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::milliseconds(20), deadline - Clock::now()));
  shared.stop.store(true);
  for (auto& th : pool) th.join();
  res.elapsedS = std::chrono::duration<double>(Clock::now() - start).count();
  res.clientCpuS = selfCpuS() - cpu0;
  res.bmcAfter = sampleProc(o.bmcPid);
  for (const auto& r : results) {
    res.ops += r.ops;
    res.errors += r.errors;
    res.retransmits += r.retransmits;
    res.opened += r.opened;
    res.latency.merge(r.latency);
    res.openLatency.merge(r.openLatency);
    if (res.firstError.empty()) res.firstError = r.firstError;
  }
  return res;
}


void print(const ConfigResult& r, bool json) {
  const double bmcCpuS = r.bmcBefore.ok && r.bmcAfter.ok
                             ? static_cast<double>(r.bmcAfter.cpuTicks - r.bmcBefore.cpuTicks) /
                                   static_cast<double>(sysconf(_SC_CLK_TCK))
                             : -1.0;
  const double perOp = bmcCpuS >= 0 && r.ops > 0 ? bmcCpuS * 1e6 / static_cast<double>(r.ops) : -1.0;
  if (!json) {
    fmt::print("cipher{} x{}: {} ops in {:.2f}s = {:.0f} cmd/s p50={}us p99={}us errors={} retransmits={} "
               "client_cpu={:.2f}s bmc_cpu_per_op={:.1f}us{}\n",
               r.cipher, r.sessions, r.ops, r.elapsedS, r.rate(), r.latency.percentile(0.5),
               r.latency.percentile(0.99), r.errors, r.retransmits, r.clientCpuS, perOp,
               r.firstError.empty() ? "" : " first_error=\"" + r.firstError + "\"");
    std::fflush(stdout);
    return;
  }
  auto hist = [](const LatencyHistogram& h) {
    return fmt::format(R"({{"count":{},"p50":{},"p90":{},"p99":{},"max":{},"mean":{:.1f}}})", h.count(),
                       h.percentile(0.50), h.percentile(0.90), h.percentile(0.99), h.max(), h.mean());
  };
  std::string bmc = "null";
  if (r.bmcAfter.ok) {
    bmc = fmt::format(R"({{"cpu_s":{:.3f},"cpu_us_per_op":{:.2f},"rss_kb_before":{},"rss_kb_after":{},"hwm_kb_after":{}}})",
                      bmcCpuS, perOp, r.bmcBefore.rssKb, r.bmcAfter.rssKb, r.bmcAfter.hwmKb);
  }
  fmt::print(R"({{"mode":"cmd","command":"device-id","client":"rmcpp","auth":"cipher{}","v15":false,"cipher":{},)"
             R"("sessions":{},"sessions_open":{},"elapsed_s":{:.3f},"ops":{},"rate_per_s":{:.1f},"errors":{},)"
             R"("reopens":0,"retransmits":{},"latency_us":{},"open_latency_us":{},"client_cpu_s":{:.3f},"bmc":{},)"
             R"("first_error":"{}"}})"
             "\n",
             r.cipher, r.cipher, r.sessions, r.opened, r.elapsedS, r.ops, r.rate(), r.errors, r.retransmits,
             hist(r.latency), hist(r.openLatency), r.clientCpuS, bmc, jsonEscape(r.firstError));
  std::fflush(stdout);
}

}  // namespace
}  // namespace simbmc::bench

int main(int argc, char** argv) {
  using namespace simbmc::bench;
  Options o;
  CLI::App app{"simbmc_bench_rmcpp: lean closed-loop RMCP+ Get Device ID load generator (loopback only)"};
  app.add_option("--host", o.host, "BMC IPv4 loopback address");
  app.add_option("--port", o.port, "BMC UDP port");
  app.add_option("-u,--user", o.user);
  app.add_option("-p,--password", o.password, "or SIMBMC_BENCH_PASSWORD");
  app.add_option("--privilege", o.privilege, "requested maximum privilege: user, operator, admin")
      ->check(CLI::IsMember({"user", "operator", "admin"}));
  app.add_option("--mode", [](const CLI::results_t& r) { return r.size() == 1 && r[0] == "cmd"; }, "only cmd");
  app.add_option("--cipher", o.ciphers, "RMCP+ cipher suites, comma separated")->delimiter(',');
  app.add_option("--sessions", o.sessions, "concurrent sessions, comma separated")->delimiter(',');
  app.add_option("--threads", o.threads, "client threads sharing the sessions (default 1)");
  app.add_option("--duration", o.durationS, "seconds per configuration");
  app.add_option("--session-timeout-ms", o.sessionTimeoutMs);
  app.add_option("--retransmit-ms", o.retransmitMs);
  app.add_option("--bmc-pid", o.bmcPid, "sample this process's CPU and RSS around each configuration");
  app.add_flag("--json", o.json, "one JSON object per configuration");
  app.add_flag("--probe", o.probe, "open one session, send one Get Device ID, exit 0 on success");
  CLI11_PARSE(app, argc, argv);
  if (o.password.empty()) {
    if (const char* p = std::getenv("SIMBMC_BENCH_PASSWORD")) o.password = p;
  }
  sockaddr_in peer{};
  peer.sin_family = AF_INET;
  peer.sin_port = htons(o.port);
  if (inet_pton(AF_INET, o.host.c_str(), &peer.sin_addr) != 1 || (ntohl(peer.sin_addr.s_addr) >> 24) != 127) {
    fmt::print(stderr, "simbmc_bench_rmcpp: --host must be an IPv4 loopback address (127.0.0.0/8)\n");
    return 2;
  }
  if (o.password.size() > 20 || o.user.size() > 16) {
    fmt::print(stderr, "simbmc_bench_rmcpp: user name or password too long\n");
    return 2;
  }
  if (!(o.durationS > 0 && o.durationS <= kMaxDurationS)) {
    fmt::print(stderr, "simbmc_bench_rmcpp: --duration must be in (0, {}]\n", kMaxDurationS);
    return 2;
  }
  int rc = 0;
  for (int c : o.ciphers) {
    auto suite = c >= 0 && c <= 255 ? simbmc::net::crypto::cipherSuite(static_cast<uint8_t>(c)) : std::nullopt;
    if (!suite || suite->auth == simbmc::net::crypto::AuthAlg::none) {
      fmt::print(stderr, "simbmc_bench_rmcpp: cipher suite {} is not supported here\n", c);
      return 2;
    }
    if (o.probe) {
      ConfigResult r = runConfig(o, peer, *suite, 1, 0.05);
      if (r.opened != 1 || r.ops == 0) {
        fmt::print(stderr, "probe cipher{}: {}\n", c, r.firstError.empty() ? "no reply" : r.firstError);
        return 1;
      }
      fmt::print("probe cipher{}: ok\n", c);
      continue;
    }
    for (unsigned n : o.sessions) {
      if (n == 0 || n > kMaxSessions) {
        fmt::print(stderr, "simbmc_bench_rmcpp: --sessions must be 1..{}\n", kMaxSessions);
        return 2;
      }
      ConfigResult r = runConfig(o, peer, *suite, n, o.durationS);
      print(r, o.json);
      if (r.opened != n || r.ops == 0) rc = 1;
    }
  }
  return rc;
}
