// What the three fuzz targets share: a real Bmc instance wired as the daemon wires it (command
// registry, users, chassis on a simulated host, an in-memory StateStore), in virtual time, plus an
// invariant check that stays on in release builds and small wire helpers.
//
// Everything here is per input: a harness builds a fresh FuzzBmc for every input so that each input
// is reproducible on its own (libFuzzer minimization and the ctest replay depend on that). The only
// nondeterminism left is OpenSSL's RAND_bytes (session ids, BMC randoms, IVs); the harnesses read
// those values back from the replies instead of predicting them.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <vector>

#include "bmc/bmc.hpp"
#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/timer_queue.hpp"
#include "net/lan_channel.hpp"
#include "net/wire.hpp"
#include "sim/console_sim.hpp"
#include "sim/host_power.hpp"
#include "storage/secret_box.hpp"
#include "storage/state_store.hpp"

// libFuzzer's entry point; replay_main.cpp calls it for every corpus file in the normal build.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

// An invariant that must hold by design. Failing aborts, which libFuzzer reports as a crash and the
// replay test as a failure; unlike assert() it is not compiled out by NDEBUG.
#define FUZZ_CHECK(cond, what)                                                                       \
  do {                                                                                               \
    if (!(cond)) {                                                                                   \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s (%s)\n", __FILE__, __LINE__, #cond, what); \
      std::abort();                                                                                  \
    }                                                                                                \
  } while (0)

namespace simbmc::fuzz {

using net::ByteView;
using net::Bytes;

inline constexpr std::array<uint8_t, 16> kSystemGuid = {0x5A, 0x1B, 0x3C, 0x4D, 0x11, 0x22, 0x33, 0x44,
                                                        0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC};

struct FuzzUser {
  std::string_view name;
  std::string_view password;
  Privilege privilege;
};

// The users every fuzzed BMC has. "user" has a 20-byte password (the Set User Password 20-byte form);
// "nobody" does not exist, for the unknown-user paths.
inline constexpr std::array<FuzzUser, 4> kUsers = {{
    {"admin", "adminpass", Privilege::administrator},
    {"operator", "operpass", Privilege::operator_},
    {"user", "0123456789abcdefghij", Privilege::user},
    {"nobody", "whatever", Privilege::user},
}};
inline constexpr size_t kRealUsers = 3;

// Every implemented cipher suite (IPMI v2.0 Table 22-20), every IPMI 1.5 auth type.
inline const std::vector<uint8_t> kAllSuites = {0, 1, 2, 3, 6, 7, 8, 11, 12, 15, 16, 17};
inline constexpr uint8_t kAllAuthTypes15 = (1u << 0) | (1u << 1) | (1u << 2) | (1u << 4);

inline const net::PeerAddress kPeer{{127, 0, 0, 1}, false, 49152};
inline const net::PeerAddress kOtherPeer{{127, 0, 0, 2}, false, 49153};

inline bmc::BmcConfig fuzzConfig() {
  bmc::BmcConfig c;
  c.identity.systemGuid = kSystemGuid;
  c.identity.deviceGuid = kSystemGuid;
  c.identity.deviceGuid[0] ^= 0xFF;
  c.identity.manufacturerId = 0x00C0FFEE & 0xFFFFF;
  c.lan.cipherSuites = kAllSuites;
  c.lan.authTypes15 = kAllAuthTypes15;
  c.lan.ipmi15Enabled = true;
  c.allowInsecure = true;  // lab mode: weak suites and auth types stay enabled
  return c;
}

inline void quietLogs() {
  static const bool done = [] {
    log::setLevel(log::Level::off);
    return true;
  }();
  (void)done;
}

// A BMC as simbmcd builds one (bmc/daemon/instance.cpp), minus sockets and files: the simulated host's
// power and serial console (for SOL) run on the TimerQueue in virtual time. With `withStore`
// the state store is an in-memory database, so writes go through the real persistence code; without
// it the Bmc is memory-only (as in unit tests), which runs about three times faster. The harnesses let
// the input choose, so both configurations are fuzzed.
class FuzzBmc {
 public:
  explicit FuzzBmc(bool withStore = true)
      : timers(clock),
        store(withStore ? openStore() : nullptr),
        host(timers, sim::PowerConfig{}, 0),
        console(timers, host),
        bmc(fuzzConfig(), clock, timers, host, store.get()) {
    quietLogs();
    bmc.setConsole(&console);
    FUZZ_CHECK(static_cast<bool>(bmc.start()), "Bmc::start");
    for (size_t i = 0; i < kRealUsers; ++i) {
      FUZZ_CHECK(static_cast<bool>(bmc.users().upsert(kUsers[i].name, kUsers[i].password, kUsers[i].privilege,
                                                      {bmc.lan().channel})),
                 "UserDb::upsert");
    }
  }

  // Advances virtual time and runs what became due, as the daemon's timer and expiry would.
  void advance(std::chrono::nanoseconds d) {
    clock.advance(d);
    timers.runDue();
  }

  FakeClock clock;
  TimerQueue timers;
  std::unique_ptr<storage::StateStore> store;
  sim::HostPowerSim host;
  sim::SimulatedConsole console;  // created before the Bmc and outliving it, as in the daemon
  bmc::Bmc bmc;

 private:
  static std::unique_ptr<storage::StateStore> openStore() {
    std::array<uint8_t, 32> key{};
    key.fill(0x5C);
    auto s = storage::StateStore::open(":memory:", storage::SecretBox(key));
    FUZZ_CHECK(static_cast<bool>(s), "StateStore::open(:memory:)");
    return std::move(*s);
  }
};

// A LanChannel over a FuzzBmc (which must outlive it), as the UDP server drives it.
class FuzzLan {
 public:
  explicit FuzzLan(FuzzBmc& bmcEnv)
      : env(bmcEnv), lan(env.bmc.lan(), env.bmc.users(), env.bmc.registry(), env.clock, kSystemGuid) {
    lan.setPayloadHandler(&env.bmc.sol());
    lan.setTransmit([this](const net::PeerAddress& to, ByteView packet) { onTransmit(to, packet); });
  }
  ~FuzzLan() { lan.setTransmit(nullptr); }
  FuzzLan(const FuzzLan&) = delete;
  FuzzLan& operator=(const FuzzLan&) = delete;

  // One datagram through the channel. Checks what holds for every datagram: at most one reply, and
  // every datagram is answered, counted as dropped (lan_channel.hpp: "Anything that fails ... is
  // dropped and counted") or handed to the payload handler (SOL), exactly one of these.
  std::optional<Bytes> send(ByteView datagram, const net::PeerAddress& peer = kPeer) {
    const net::ChannelCounters before = lan.counters();
    std::optional<Bytes> reply = lan.handle(datagram, peer);
    const net::ChannelCounters& after = lan.counters();
    FUZZ_CHECK(after.received == before.received + 1, "received counts every datagram");
    FUZZ_CHECK((after.replied - before.replied) + (after.totalDropped() - before.totalDropped()) +
                       (after.payloadsReceived - before.payloadsReceived) ==
                   1,
               "a datagram is answered, counted as dropped or handed to a payload handler, exactly once");
    FUZZ_CHECK(reply.has_value() == (after.replied == before.replied + 1), "replied counts replies");
    // SECURITY.md: a configurable maximum of sessions; half-open ones in a separately capped pool.
    FUZZ_CHECK(lan.sessions().activeSessions() <= lan.security().maxSessions, "active sessions within the maximum");
    FUZZ_CHECK(lan.sessions().pendingCount() <= net::SessionTable::kMaxPending, "pending sessions within their pool");
    if (reply) checkReplyShape(*reply, datagram);
    return reply;
  }

  // Time passes between datagrams: timers run and idle or half-open sessions expire.
  void advance(std::chrono::nanoseconds d) {
    env.advance(d);
    lan.sessions().expire();
  }

  FuzzBmc& env;
  net::LanChannel lan;
  uint64_t transmitted = 0;  // unsolicited packets (SOL data and acks)

 private:
  // Unsolicited packets go to a session's console only (every session here is opened from kPeer),
  // in RMCP+ framing, never as IPMI messages.
  void onTransmit(const net::PeerAddress& to, ByteView packet) {
    ++transmitted;
    FUZZ_CHECK(to == kPeer, "unsolicited packets go to the session's peer");
    FUZZ_CHECK(packet.size() >= 16 && packet[0] == 0x06 && packet[3] == 0x07 && packet[4] == 0x06,
               "unsolicited packets are RMCP+");
    FUZZ_CHECK((packet[5] & 0x3F) != 0x00, "unsolicited packets are not IPMI messages");
    const size_t length = packet[14] | (packet[15] << 8);
    FUZZ_CHECK(packet.size() >= 16 + length, "unsolicited packet payload length within the packet");
  }

  // Replies are always well-framed RMCP: version 6, and for IPMI a session header whose length field
  // matches the bytes that follow (IPMI v2.0 §13.6, Tables 13-4 and 13-8).
  static void checkReplyShape(const Bytes& reply, ByteView request) {
    FUZZ_CHECK(reply.size() >= 4 && reply[0] == 0x06, "reply has an RMCP header");
    const uint8_t cls = reply[3];
    if (cls == 0x06) {
      FUZZ_CHECK(request.size() >= 4 && (request[3] & 0x1F) == 0x06, "ASF replies only answer ASF");
      FUZZ_CHECK(request.size() > 8 && request[8] == 0x80, "ASF: only a presence ping is answered");
      return;
    }
    FUZZ_CHECK(cls == 0x07, "reply class is ASF or IPMI");
    FUZZ_CHECK(reply.size() >= 5, "IPMI reply has a session header");
    if (reply[4] == 0x06) {
      FUZZ_CHECK(reply.size() >= 16, "RMCP+ session header complete");
      const size_t length = reply[14] | (reply[15] << 8);
      FUZZ_CHECK(reply.size() >= 16 + length, "RMCP+ payload length within the reply");
    } else {
      const size_t header = reply[4] == 0x00 ? 13 : 29;
      FUZZ_CHECK(reply.size() >= header + 1, "IPMI 1.5 session header complete");
      FUZZ_CHECK(reply.size() == header + 1 + reply[header], "IPMI 1.5 message length byte matches the message");
    }
  }
};

// Session id field of an IPMI reply (0 = session-less), IPMI v2.0 §13.6.
inline uint32_t replySessionId(const Bytes& reply) {
  if (reply.size() < 13 || reply[3] != 0x07) return 0;
  const size_t at = reply[4] == 0x06 ? 6 : 9;
  return static_cast<uint32_t>(reply[at]) | (static_cast<uint32_t>(reply[at + 1]) << 8) |
         (static_cast<uint32_t>(reply[at + 2]) << 16) | (static_cast<uint32_t>(reply[at + 3]) << 24);
}

// SECURITY.md: amplification (reply bytes / request bytes) below 3 for any session-less request.
inline void checkAmplification(const Bytes& reply, ByteView request) {
  if (replySessionId(reply) != 0) return;
  FUZZ_CHECK(reply.size() < 3 * request.size(), "session-less reply under 3x the request");
}

// An IPMI LAN request message with valid checksums, IPMI v2.0 §13.8 Figure 13-4.
inline Bytes lanRequest(uint8_t netfnLun, uint8_t rqSeq, uint8_t cmd, ByteView data) {
  Bytes m;
  net::Writer w(m);
  w.u8(0x20).u8(netfnLun);
  w.u8(net::checksum(ByteView(m).subspan(0, 2)));
  w.u8(0x81).u8(static_cast<uint8_t>(rqSeq << 2)).u8(cmd).bytes(data);
  w.u8(net::checksum(ByteView(m).subspan(3)));
  return m;
}

}  // namespace simbmc::fuzz
