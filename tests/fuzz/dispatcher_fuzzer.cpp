// libFuzzer target: CommandRegistry::dispatch on a real Bmc, without the packet layer, so every
// handler's decoder and logic sees arbitrary request data at any privilege.
//
// Input: byte 0 = NetFn (bits 5..1; request NetFns are even) and LUN (bits 7..6); byte 1 = command;
// byte 2 = context: bits 2..0 privilege (none, callback, user, operator, administrator, oem,
// no access), bit 3 out of session, bit 4 RMCP+, bit 5 no SessionControl (a session-less channel),
// bit 6 the BMC has an in-memory state store (writes run the persistence code; off: memory-only and
// faster);
// byte 3 = virtual seconds to let pass afterwards (timers run: power transitions, identify);
// the rest is the request data.
//
// The session table behind the context holds two active sessions (the caller's, and another one
// for Close Session and Get Session Info to find). Invariants are the registry's contract
// (bmc/registry.hpp) and SECURITY.md's pre-session rule.
#include <algorithm>

#include "fuzz_support.hpp"
#include "net/session_table.hpp"

namespace {

using namespace simbmc;
using namespace simbmc::fuzz;

constexpr std::array<Privilege, 7> kPrivileges = {Privilege::none,          Privilege::callback, Privilege::user,
                                                  Privilege::operator_,     Privilege::administrator,
                                                  Privilege::oem,           Privilege::noAccess};

// SECURITY.md "Session-less replies only for": Get System GUID, Get Channel Auth Capabilities,
// Get Session Challenge, Activate Session, Get Channel Cipher Suites (App NetFn, IPMI v2.0 Appendix G).
// ASF ping, Open Session and RAKP are not IPMI commands.
bool preSessionCommand(uint8_t netfn, uint8_t cmd) {
  if (netfn != simbmc::netfn::app) return false;
  return cmd == 0x37 || cmd == 0x38 || cmd == 0x39 || cmd == 0x3A || cmd == 0x54;
}

net::Session* addActiveSession(net::SessionTable& table, Privilege max, uint16_t port) {
  net::PeerAddress peer = kPeer;
  peer.port = port;
  net::Session* s = table.createPending(true, peer);
  FUZZ_CHECK(s != nullptr, "createPending");
  s->userId = 2;
  s->userName = "admin";
  s->maxPrivilege = max;
  s->privilege = max;
  FUZZ_CHECK(table.activate(*s), "activate");
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  quietLogs();
  if (size < 4) return 0;
  FuzzBmc env((data[2] & 0x40) != 0);
  net::SessionTable sessions(env.bmc.lan(), env.clock);

  net::IpmiRequest req;
  req.netfn = data[0] & 0x3E;
  req.lun = static_cast<uint8_t>(data[0] >> 6);
  req.cmd = data[1];
  req.data = ByteView(data + 4, size - 4);
  const uint8_t flags = data[2];
  const Privilege privilege = kPrivileges[(flags & 0x07) % kPrivileges.size()];
  const bool outOfSession = (flags & 0x08) != 0;

  net::RequestContext ctx;
  ctx.channel = env.bmc.lan().channel;
  ctx.outOfSession = outOfSession;
  ctx.ipmi20 = (flags & 0x10) != 0;
  if ((flags & 0x20) == 0) ctx.sessions = &sessions;
  if (!outOfSession) {
    net::Session* caller = addActiveSession(sessions, Privilege::administrator, 40000);
    addActiveSession(sessions, Privilege::user, 40001);
    caller->privilege = privilege;  // what the session layer would pass, legal or not
    ctx.privilege = privilege;
    ctx.sessionId = caller->id;
    ctx.userId = caller->userId;
  }

  auto response = env.bmc.registry().dispatch(ctx, req);

  if (outOfSession) {
    // Before a session exists only the pre-session commands may answer.
    FUZZ_CHECK(!response || preSessionCommand(req.netfn, req.cmd), "only pre-session commands answer outside a session");
  } else {
    FUZZ_CHECK(response.has_value(), "every request inside a session gets a response");
    const auto required = env.bmc.registry().privilegeOf(req.netfn, req.cmd);
    if (!required || req.lun != 0) {
      FUZZ_CHECK(response->cc == Cc::invalidCommand, "unknown command or LUN -> 0xC1");
    } else if (!atLeast(privilege, *required)) {
      FUZZ_CHECK(response->cc == Cc::insufficientPrivilege, "privilege below the command's -> 0xD4");
    }
  }
  if (response) {
    // The response message must fit the one-byte message length of IPMI 1.5 framing (IPMI v2.0 §13.6
    // Table 13-4) with its 8 bytes of addresses, NetFn, sequence, command, completion code and checksums.
    FUZZ_CHECK(response->data.size() <= 255 - 8, "response fits an IPMI 1.5 LAN message");
  }

  env.advance(std::chrono::seconds(data[3]));
  return 0;
}
