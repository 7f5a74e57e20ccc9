// libFuzzer target: one datagram into a fresh LanChannel backed by the real Bmc.
//
// Covers the session-less packet path: RMCP/ASF, IPMI 1.5 and RMCP+ framing, Open Session, RAKP 1/3
// for unknown sessions, Get Session Challenge and the pre-session commands, with every cipher suite
// and 1.5 auth type enabled (lab mode) so no parser is skipped for policy reasons.
//
// Invariants (beyond "no crash, no sanitizer report"): at most one reply, every datagram answered or
// counted as dropped, replies well framed, and every reply under 3x the request (a fresh channel has
// no session, so every reply here is session-less; SECURITY.md's amplification bound).
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace simbmc::fuzz;
  quietLogs();
  // One datagram to a fresh channel reaches only the pre-session commands, which read the BMC's state
  // and never change it (the lockout counters move only for an existing session), so the BMC is built
  // once per process and only the channel (sessions, counters) is new for every input.
  static FuzzBmc env(false);
  FuzzLan lan(env);
  const ByteView datagram(data, size);
  auto reply = lan.send(datagram);
  if (reply) {
    FUZZ_CHECK(replySessionId(*reply) == 0, "no session exists, so no reply is in one");
    checkAmplification(*reply, datagram);
  }
  return 0;
}
