// libFuzzer target: a sequence of datagrams into ONE LanChannel, so sessions live across datagrams
// and the fuzzer reaches everything behind authentication.
//
// Before the fuzz input runs, the harness logs in as a real client would (net/crypto for every key
// and code): RMCP+ suite 17 as admin, RMCP+ suite 3 as operator, and IPMI 1.5 MD5 (Get Session
// Challenge + Activate Session) as admin, then raises each to its maximum privilege.
//
// Input: byte 0 = options (bit 0: the BMC has an in-memory state store, so writes run the
// persistence code; off: memory-only and faster), then up to kMaxRecords records, each `u16le length` + that many bytes (a length past the end
// takes the rest). A record is [selector][time][body...]:
//   time      virtual time to let pass first: (time & 0x3F) units of 1 ms, 100 ms, 1 s or 10 s
//             (time >> 6); then expire() and the TimerQueue run, as in the daemon.
//   selector  bits 2..0 = mode, bits 7..3 = which session (index into the sessions the harness holds,
//             modulo their count; for mode 1 into the session ids seen in Open Session and Get
//             Session Challenge replies, the last kMaxKnownIds, followed by the harness's sessions).
//   mode 0  raw: body is the datagram.
//   mode 1  raw with a real id: body is the datagram, with its session id field (and for RAKP 1/3 the
//           payload's BMC session id) overwritten by a live or pending session id.
//   mode 2  request: body = [netfn<<2|lun][cmd][data...] sent as a correctly signed/encrypted IPMI
//           request in the chosen session; the reply, if any, is verified as a client would.
//   mode 3  payload: body = [payload type][payload...]: the raw payload (no checksums fixed), signed
//           and encrypted correctly in the chosen session (1.5 sessions: the raw message). Bit 7 of
//           the type byte sends it signed but not encrypted: what an SOL payload activated without
//           encryption or suspended (Suspend/Resume Payload Encryption) carries, and otherwise a
//           packet the BMC must drop.
//   mode 4  sequence games: body = [seq delta (int8)][rqSeq][netfn<<2|lun][cmd][data...]: as mode 2
//           but with the session sequence number moved (replays, duplicates, jumps) and a chosen rqSeq
//           (retry cache).
//   mode 5  login: body = [kind][user][role][flags][open-session privilege]: another handshake,
//           kind % 13 picks an enabled cipher suite or (12) IPMI 1.5; flags bit 0 wrong password,
//           bit 1 stop after Open Session / Get Session Challenge, bit 2 stop after RAKP 2, bit 3 raise
//           privilege afterwards, bits 5..4 the 1.5 auth type (none, MD2, MD5, password).
//   mode 6  tamper: body = [offset][xor][netfn<<2|lun][cmd][data...]: a mode 2 packet with one byte
//           changed. In a session with integrity any change past the RMCP header must be dropped.
//           With xor 0: the session's last answered request again, verbatim: must be dropped (replay).
//   mode 7  wrong peer: a mode 2 packet from another address: must be dropped.
#include <algorithm>
#include <array>
#include <optional>
#include <vector>

#include "fuzz_support.hpp"
#include "net/crypto.hpp"

namespace {

using namespace simbmc;
using namespace simbmc::fuzz;
namespace crypto = simbmc::net::crypto;

constexpr size_t kMaxRecords = 64;
constexpr size_t kMaxSessions = 12;
constexpr size_t kMaxKnownIds = 8;

uint32_t le32(ByteView b, size_t at) {
  return static_cast<uint32_t>(b[at]) | (static_cast<uint32_t>(b[at + 1]) << 8) |
         (static_cast<uint32_t>(b[at + 2]) << 16) | (static_cast<uint32_t>(b[at + 3]) << 24);
}

void putLe32(Bytes& b, size_t at, uint32_t v) {
  for (size_t i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

// What the console knows about one session.
struct ClientSession {
  bool v20 = true;
  uint32_t bmcId = 0;      // SIDc: what requests carry
  uint32_t consoleId = 0;  // SIDm: what replies carry (v2.0)
  crypto::CipherSuite suite{};
  Bytes sik, k1, k2, userKey;
  crypto::AuthType15 authType = crypto::AuthType15::none;
  Bytes password16;
  uint32_t nextSeq = 1;  // next inbound sequence number the BMC expects
  uint8_t rqSeq = 0;
  uint32_t ivCounter = 0;
  Bytes lastAnswered;  // the last request datagram that got a reply
};

// An IPMI response message checked against its request, IPMI v2.0 §13.8.
void checkResponseMessage(ByteView m, uint8_t netfnLun, uint8_t rqSeq, uint8_t cmd) {
  FUZZ_CHECK(m.size() >= 8, "response message has a completion code");
  FUZZ_CHECK(net::checksum(m.subspan(0, 2)) == m[2], "response header checksum");
  FUZZ_CHECK(net::checksum(m.subspan(3, m.size() - 4)) == m[m.size() - 1], "response body checksum");
  FUZZ_CHECK(m[0] == 0x81 && m[3] == 0x20, "response addresses swapped from the request");
  FUZZ_CHECK((m[1] >> 2) == ((netfnLun >> 2) | 1), "response NetFn is the request's + 1");
  FUZZ_CHECK((m[4] >> 2) == (rqSeq & 0x3F), "response carries the request's rqSeq");
  // corpus/lan_session_fuzzer/regression_retry_cache_lun: the retry cache once answered a request
  // that differed from a cached one only in its LUN with the cached response.
  FUZZ_CHECK((m[4] & 0x03) == (netfnLun & 0x03), "response carries the request's LUN");
  FUZZ_CHECK((m[1] & 0x03) == 0x00, "response goes to the requester's LUN (0)");
  FUZZ_CHECK(m[5] == cmd, "response carries the request's command");
}

class Harness {
 public:
  explicit Harness(bool withStore) : env_(withStore), lan_(env_) {
    // The fixed logins every input starts from (see the file comment).
    std::optional<ClientSession> s17 = loginV20(17, kUsers[0], 0x04, 0, false, 0, true);
    FUZZ_CHECK(s17.has_value(), "harness login: suite 17 admin");
    std::optional<ClientSession> s3 = loginV20(3, kUsers[1], 0x03, 0, false, 0, true);
    FUZZ_CHECK(s3.has_value(), "harness login: suite 3 operator");
    std::optional<ClientSession> s15 = loginV15(crypto::AuthType15::md5, kUsers[0], 0x04, false, false, true);
    FUZZ_CHECK(s15.has_value(), "harness login: IPMI 1.5 MD5 admin");
    sessions_ = {*s17, *s3, *s15};
  }

  void run(ByteView input) {
    size_t pos = 0;
    for (size_t n = 0; n < kMaxRecords && pos + 2 <= input.size(); ++n) {
      const size_t want = input[pos] | (input[pos + 1] << 8);
      pos += 2;
      const size_t len = std::min(want, input.size() - pos);
      record(input.subspan(pos, len));
      pos += len;
    }
  }

 private:
  void record(ByteView rec) {
    if (rec.size() < 2) return;
    const uint8_t selector = rec[0];
    const uint8_t time = rec[1];
    ByteView body = rec.subspan(2);
    static constexpr std::array<int64_t, 4> kUnitMs = {1, 100, 1000, 10000};
    if (time != 0) lan_.advance(std::chrono::milliseconds((time & 0x3F) * kUnitMs[time >> 6]));
    const size_t which = selector >> 3;
    ClientSession& s = sessions_[which % sessions_.size()];
    switch (selector & 0x07) {
      case 0: raw(body); break;
      case 1: rawWithId(body, which); break;
      case 2: request(s, body, 0, std::nullopt); break;
      case 3: payload(s, body); break;
      case 4:
        if (body.size() >= 2) request(s, body.subspan(2), static_cast<int8_t>(body[0]), body[1]);
        break;
      case 5: login(body); break;
      case 6: tamper(s, body); break;
      case 7: wrongPeer(s, body); break;
    }
  }

  // ---- Raw datagrams -------------------------------------------------------------------------

  void raw(ByteView datagram) {
    auto reply = lan_.send(datagram);
    if (reply) {
      checkAmplification(*reply, datagram);
      learnIds(*reply);
    }
  }

  void rawWithId(ByteView body, size_t which) {
    Bytes d(body.begin(), body.end());
    const size_t pick = which % (knownIds_.size() + sessions_.size());
    const ClientSession* session = pick >= knownIds_.size() ? &sessions_[pick - knownIds_.size()] : nullptr;
    const uint32_t id = session != nullptr ? session->bmcId : knownIds_[pick];
    bool inSession = false;
    if (d.size() >= 16 && d[0] == 0x06 && d[4] == 0x06) {
      putLe32(d, 6, id);
      const uint8_t type = d[5] & 0x3F;
      if ((type == 0x12 || type == 0x14) && d.size() >= 24) putLe32(d, 20, id);
      inSession = true;
    } else if (d.size() >= 13) {
      putLe32(d, 9, id);
    }
    auto reply = lan_.send(d);
    if (!reply) return;
    learnIds(*reply);
    checkAmplification(*reply, d);
    // The fuzzer cannot know this session's K1 (it comes from RAND_bytes randoms), so nothing it
    // sends in RMCP+ framing can pass the integrity check (SECURITY.md: exactly the negotiated integrity).
    if (inSession && session != nullptr && session->v20) {
      FUZZ_CHECK(session->suite.integrity == crypto::IntegrityAlg::none,
                 "an unsigned packet is never answered in a session with integrity");
    }
  }

  // Remembers pending session ids the BMC hands out, so mode 1 can continue those handshakes.
  void learnIds(const Bytes& reply) {
    std::optional<uint32_t> id;
    if (reply.size() >= 16 + 12 && reply[4] == 0x06 && reply[5] == 0x11 && reply[17] == 0x00) {
      id = le32(reply, 16 + 8);  // Open Session Response: managed system session id
    } else if (reply.size() >= 14 + 7 + 5 && reply[4] == 0x00 && (reply[14 + 1] >> 2) == 0x07 &&
               reply[14 + 5] == 0x39 && reply[14 + 6] == 0x00) {
      id = le32(reply, 14 + 7);  // Get Session Challenge response: temporary session id
    }
    if (!id) return;
    if (knownIds_.size() >= kMaxKnownIds) knownIds_.erase(knownIds_.begin());
    knownIds_.push_back(*id);
  }

  // ---- Session packets -------------------------------------------------------------------------

  // The datagram a console sends in session `s` carrying `payload` (an IPMI message for type 0).
  Bytes wrap(ClientSession& s, uint8_t payloadType, ByteView payload, uint32_t seq, bool plain = false) {
    Bytes out = {0x06, 0x00, 0xFF, 0x07};
    net::Writer w(out);
    if (!s.v20) {
      w.u8(static_cast<uint8_t>(s.authType)).u32le(seq).u32le(s.bmcId);
      if (s.authType != crypto::AuthType15::none) {
        Bytes code = crypto::authCode15(s.authType, s.password16, s.bmcId, payload, seq);
        code.resize(16);
        w.bytes(code);
      }
      w.u8(static_cast<uint8_t>(payload.size())).bytes(payload);
      return out;
    }
    const bool auth = s.suite.integrity != crypto::IntegrityAlg::none;
    const bool enc = s.suite.conf != crypto::ConfAlg::none && !plain;
    Bytes body(payload.begin(), payload.end());
    if (enc) {
      // A counter IV keeps inputs reproducible; the BMC must not care where the IV came from.
      std::array<uint8_t, 16> iv{};
      iv[0] = 0x1F;
      for (size_t i = 0; i < 4; ++i) iv[12 + i] = static_cast<uint8_t>(s.ivCounter >> (8 * i));
      ++s.ivCounter;
      body = crypto::aesCbc128EncryptWithIv(s.k2, iv, payload);
    }
    w.u8(0x06).u8(static_cast<uint8_t>(payloadType | (enc ? 0x80 : 0) | (auth ? 0x40 : 0)));
    w.u32le(s.bmcId).u32le(seq).u16le(static_cast<uint16_t>(body.size())).bytes(body);
    if (auth) {
      const size_t covered = out.size() - 4 + 2;
      const size_t pad = (4 - covered % 4) % 4;
      for (size_t i = 0; i < pad; ++i) w.u8(0xFF);
      w.u8(static_cast<uint8_t>(pad)).u8(0x07);
      w.bytes(crypto::integrityCode(s.suite.integrity, s.k1, s.userKey, ByteView(out).subspan(4)));
    }
    return out;
  }

  // Unwraps a reply in session `s` as the console would, checking every code; the IPMI message.
  Bytes unwrap(const ClientSession& s, const Bytes& reply) {
    ByteView r(reply);
    FUZZ_CHECK(r.size() >= 5 && r[3] == 0x07, "session reply is IPMI");
    if (!s.v20) {
      FUZZ_CHECK(r[4] == static_cast<uint8_t>(s.authType) || r[4] == 0x00, "1.5 reply auth type");
      const uint32_t seq = le32(r, 5);
      FUZZ_CHECK(le32(r, 9) == s.bmcId, "1.5 reply carries the session id");
      const size_t header = r[4] == 0x00 ? 13 : 29;
      ByteView message = r.subspan(header + 1);
      if (r[4] != 0x00) {
        Bytes expect = crypto::authCode15(s.authType, s.password16, s.bmcId, message, seq);
        FUZZ_CHECK(crypto::constantTimeEqual(expect, r.subspan(13, 16)), "1.5 reply auth code verifies");
      }
      return Bytes(message.begin(), message.end());
    }
    FUZZ_CHECK(r[4] == 0x06, "RMCP+ session reply");
    const bool auth = s.suite.integrity != crypto::IntegrityAlg::none;
    const bool enc = s.suite.conf != crypto::ConfAlg::none;
    FUZZ_CHECK((r[5] & 0x3F) == 0x00, "reply payload type IPMI");
    FUZZ_CHECK(((r[5] & 0x40) != 0) == auth && ((r[5] & 0x80) != 0) == enc, "reply protected as negotiated");
    FUZZ_CHECK(le32(r, 6) == s.consoleId, "reply carries the console's session id");
    FUZZ_CHECK(le32(r, 10) != 0, "reply sequence number is not 0");
    const size_t length = r[14] | (r[15] << 8);
    ByteView body = r.subspan(16, length);
    if (auth) {
      const size_t codeLength = crypto::integrityCodeLength(s.suite.integrity);
      FUZZ_CHECK(r.size() >= 16 + length + 2 + codeLength, "reply trailer present");
      FUZZ_CHECK((r.size() - codeLength - 4) % 4 == 0, "integrity pad to a multiple of 4");
      FUZZ_CHECK(r[r.size() - codeLength - 1] == 0x07, "next header 0x07");
      Bytes expect = crypto::integrityCode(s.suite.integrity, s.k1, s.userKey, r.subspan(4, r.size() - 4 - codeLength));
      FUZZ_CHECK(crypto::constantTimeEqual(expect, r.subspan(r.size() - codeLength)), "reply integrity code verifies");
    } else {
      FUZZ_CHECK(r.size() == 16 + length, "no trailer without integrity");
    }
    if (!enc) return Bytes(body.begin(), body.end());
    auto plain = crypto::aesCbc128Decrypt(s.k2, body);
    FUZZ_CHECK(plain.has_value(), "reply decrypts");
    return *plain;
  }

  // Mode 2 and 4: a well-formed request in session `s`.
  std::optional<Bytes> request(ClientSession& s, ByteView body, int seqDelta, std::optional<uint8_t> rqSeq) {
    if (body.size() < 2) return std::nullopt;
    const uint8_t netfnLun = body[0];
    const uint8_t cmd = body[1];
    const uint8_t seqNo = rqSeq.value_or(s.rqSeq++) & 0x3F;
    Bytes message = lanRequest(netfnLun, seqNo, cmd, body.subspan(2));
    const uint32_t seq = s.nextSeq + static_cast<uint32_t>(seqDelta);
    if (seqDelta >= 0) s.nextSeq = seq + 1;
    Bytes datagram = wrap(s, 0x00, message, seq);
    auto reply = lan_.send(datagram);
    if (!reply) return std::nullopt;
    s.lastAnswered = datagram;
    Bytes m = unwrap(s, *reply);
    checkResponseMessage(m, netfnLun, seqNo, cmd);
    return m;
  }

  void payload(ClientSession& s, ByteView body) {
    if (body.empty()) return;
    Bytes datagram = wrap(s, body[0] & 0x3F, body.subspan(1), s.nextSeq++, (body[0] & 0x80) != 0);
    lan_.send(datagram);
  }

  void tamper(ClientSession& s, ByteView body) {
    if (body.size() >= 2 && body[1] == 0x00) {
      // No byte to change: replay the session's last answered request verbatim instead. SECURITY.md:
      // the sequence window has a bitmap "so an exact duplicate is dropped".
      if (s.lastAnswered.empty()) return;
      auto reply = lan_.send(s.lastAnswered);
      FUZZ_CHECK(!reply.has_value(), "an exact duplicate of an answered request is dropped");
      return;
    }
    if (body.size() < 4) return;
    const uint8_t netfnLun = body[2];
    Bytes message = lanRequest(netfnLun, s.rqSeq++, body[3], body.subspan(4));
    const uint32_t seq = s.nextSeq++;
    Bytes datagram = wrap(s, 0x00, message, seq);
    const size_t at = body[0] % datagram.size();
    datagram[at] ^= body[1];
    auto reply = lan_.send(datagram);
    if (s.v20 && s.suite.integrity != crypto::IntegrityAlg::none && at >= 4 && body[1] != 0) {
      FUZZ_CHECK(!reply.has_value(), "a changed byte in an integrity-protected packet is dropped");
    }
  }

  void wrongPeer(ClientSession& s, ByteView body) {
    if (body.size() < 2) return;
    Bytes message = lanRequest(body[0], s.rqSeq++, body[1], body.subspan(2));
    Bytes datagram = wrap(s, 0x00, message, s.nextSeq++);
    auto reply = lan_.send(datagram, kOtherPeer);
    FUZZ_CHECK(!reply.has_value(), "a session packet from another peer is dropped");
  }

  // ---- Logins ----------------------------------------------------------------------------------

  void login(ByteView body) {
    if (body.size() < 4) return;
    const uint8_t kind = body[0] % (kAllSuites.size() + 1);
    const FuzzUser& user = kUsers[body[1] % kUsers.size()];
    const uint8_t role = body[2];
    const uint8_t flags = body[3];
    const uint8_t openPriv = body.size() > 4 ? body[4] : 0;
    const bool wrongPassword = (flags & 0x01) != 0;
    const bool raise = (flags & 0x08) != 0;
    std::optional<ClientSession> s;
    if (kind == kAllSuites.size()) {
      static constexpr std::array<crypto::AuthType15, 4> kTypes = {crypto::AuthType15::none, crypto::AuthType15::md2,
                                                                   crypto::AuthType15::md5, crypto::AuthType15::password};
      s = loginV15(kTypes[(flags >> 4) & 0x03], user, role, wrongPassword, (flags & 0x02) != 0, raise);
    } else {
      const int stopAfter = (flags & 0x02) != 0 ? 1 : (flags & 0x04) != 0 ? 2 : 0;
      s = loginV20(kAllSuites[kind], user, role, openPriv, wrongPassword, stopAfter, raise);
    }
    if (!s) return;
    if (sessions_.size() < kMaxSessions) {
      sessions_.push_back(*s);
    } else {
      sessions_[3 + (replaced_++ % (kMaxSessions - 3))] = *s;
    }
  }

  // A session-less RMCP+ reply's payload of `type`, or nullopt.
  static std::optional<Bytes> v20Payload(const std::optional<Bytes>& reply, uint8_t type) {
    if (!reply || reply->size() < 16 || (*reply)[4] != 0x06 || (*reply)[5] != type) return std::nullopt;
    const size_t length = (*reply)[14] | ((*reply)[15] << 8);
    if (reply->size() < 16 + length) return std::nullopt;
    return Bytes(reply->begin() + 16, reply->begin() + 16 + static_cast<std::ptrdiff_t>(length));
  }

  Bytes sessionless20(uint8_t type, const Bytes& payload) {
    Bytes out = {0x06, 0x00, 0xFF, 0x07, 0x06, type, 0, 0, 0, 0, 0, 0, 0, 0};
    net::Writer(out).u16le(static_cast<uint16_t>(payload.size())).bytes(payload);
    return out;
  }

  static Bytes passwordKey(const FuzzUser& user, bool wrong, size_t size) {
    Bytes key(user.password.begin(), user.password.end());
    key.resize(size, 0);
    if (wrong) key[0] ^= 0x01;
    return key;
  }

  // RMCP+ Open Session, RAKP 1-4 (IPMI v2.0 §13.17-13.23). stopAfter: 1 = Open Session, 2 = RAKP 2.
  std::optional<ClientSession> loginV20(uint8_t suiteId, const FuzzUser& user, uint8_t role, uint8_t openPriv,
                                        bool wrongPassword, int stopAfter, bool raise) {
    auto suite = crypto::cipherSuite(suiteId);
    FUZZ_CHECK(suite.has_value(), "enabled suites are implemented");
    ClientSession s;
    s.suite = *suite;
    s.consoleId = 0xC0DE0000u + static_cast<uint32_t>(++logins_);

    Bytes open;
    net::Writer(open)
        .u8(0x42).u8(openPriv).u16le(0).u32le(s.consoleId)
        .u8(0x00).u16le(0).u8(0x08).u8(static_cast<uint8_t>(suite->auth)).zeros(3)
        .u8(0x01).u16le(0).u8(0x08).u8(static_cast<uint8_t>(suite->integrity)).zeros(3)
        .u8(0x02).u16le(0).u8(0x08).u8(static_cast<uint8_t>(suite->conf)).zeros(3);
    auto openReply = v20Payload(send(sessionless20(0x10, open)), 0x11);
    if (!openReply || openReply->size() < 12 || (*openReply)[1] != 0x00) return std::nullopt;
    FUZZ_CHECK(openReply->size() == 36, "Open Session Response size");
    FUZZ_CHECK(le32(*openReply, 4) == s.consoleId, "Open Session Response echoes the console id");
    s.bmcId = le32(*openReply, 8);
    FUZZ_CHECK(s.bmcId != 0, "session id is never 0");
    if (stopAfter == 1) return std::nullopt;

    const std::array<uint8_t, 16> rm = {0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7,
                                        0xA8, 0xA9, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE, static_cast<uint8_t>(logins_)};
    Bytes rakp1;
    net::Writer(rakp1).u8(0x43).zeros(3).u32le(s.bmcId).bytes(rm).u8(role).u16le(0)
        .u8(static_cast<uint8_t>(user.name.size()))
        .bytes(ByteView(reinterpret_cast<const uint8_t*>(user.name.data()), user.name.size()));
    auto rakp2 = v20Payload(send(sessionless20(0x12, rakp1)), 0x13);
    if (!rakp2 || rakp2->size() < 8 || (*rakp2)[1] != 0x00) return std::nullopt;
    const Bytes kuid = passwordKey(user, false, 20);
    const size_t codeLength = crypto::rakpAuthCodeLength(suite->auth);
    FUZZ_CHECK(rakp2->size() == 40 + codeLength, "RAKP 2 size");
    FUZZ_CHECK(le32(*rakp2, 4) == s.consoleId, "RAKP 2 echoes the console id");
    ByteView rc = ByteView(*rakp2).subspan(8, 16);
    FUZZ_CHECK(std::equal(kSystemGuid.begin(), kSystemGuid.end(), rakp2->begin() + 24), "RAKP 2 carries the GUID");
    Bytes nameBytes(user.name.begin(), user.name.end());
    {
      Bytes data;
      net::Writer(data).u32le(s.consoleId).u32le(s.bmcId).bytes(rm).bytes(rc).bytes(kSystemGuid).u8(role)
          .u8(static_cast<uint8_t>(nameBytes.size())).bytes(nameBytes);
      FUZZ_CHECK(crypto::constantTimeEqual(crypto::hmac(suite->auth, kuid, data), ByteView(*rakp2).subspan(40)),
                 "RAKP 2 key exchange code verifies with the user's password");
    }
    if (stopAfter == 2) return std::nullopt;

    const Bytes key = passwordKey(user, wrongPassword, 20);
    Bytes rakp3;
    {
      Bytes data;
      net::Writer(data).bytes(rc).u32le(s.consoleId).u8(role).u8(static_cast<uint8_t>(nameBytes.size())).bytes(nameBytes);
      net::Writer(rakp3).u8(0x44).u8(0x00).u16le(0).u32le(s.bmcId).bytes(crypto::hmac(suite->auth, key, data));
    }
    auto rakp4 = v20Payload(send(sessionless20(0x14, rakp3)), 0x15);
    if (!rakp4 || rakp4->size() < 8 || (*rakp4)[1] != 0x00) return std::nullopt;
    FUZZ_CHECK(!wrongPassword || suite->auth == crypto::AuthAlg::none, "a wrong password never logs in");
    FUZZ_CHECK(le32(*rakp4, 4) == s.consoleId, "RAKP 4 echoes the console id");

    s.sik = crypto::deriveSik(suite->auth, key, rm, rc, role, user.name);
    s.k1 = crypto::deriveKey(suite->auth, s.sik, 1);
    s.k2 = crypto::deriveKey(suite->auth, s.sik, 2);
    s.userKey = key;
    if (suite->auth != crypto::AuthAlg::none) {
      Bytes data;
      net::Writer(data).bytes(rm).u32le(s.bmcId).bytes(kSystemGuid);
      Bytes icv = crypto::hmac(suite->auth, s.sik, data);
      icv.resize(crypto::rakp4IcvLength(suite->auth));
      FUZZ_CHECK(crypto::constantTimeEqual(icv, ByteView(*rakp4).subspan(8)), "RAKP 4 integrity check value verifies");
    } else {
      FUZZ_CHECK(rakp4->size() == 8, "RAKP 4 without authentication carries no ICV");
    }
    if (raise) raisePrivilege(s, role & 0x0F);
    return s;
  }

  // IPMI 1.5 Get Session Challenge + Activate Session (IPMI v2.0 §22.16-22.17).
  std::optional<ClientSession> loginV15(crypto::AuthType15 type, const FuzzUser& user, uint8_t priv, bool wrongPassword,
                                        bool stopAfterChallenge, bool raise) {
    ClientSession s;
    s.v20 = false;
    s.authType = type;
    Bytes challengeData;
    net::Writer(challengeData).u8(static_cast<uint8_t>(type)).fixedString(user.name, 16);
    Bytes message = lanRequest(netfn::app << 2, 0x01, 0x39, challengeData);
    Bytes datagram = {0x06, 0x00, 0xFF, 0x07, 0x00, 0, 0, 0, 0, 0, 0, 0, 0};
    net::Writer(datagram).u8(static_cast<uint8_t>(message.size())).bytes(message);
    auto reply = send(datagram);
    if (!reply || reply->size() < 14 + 8 || reply->at(4) != 0x00) return std::nullopt;
    ByteView m = ByteView(*reply).subspan(14);
    checkResponseMessage(m, netfn::app << 2, 0x01, 0x39);
    if (m[6] != 0x00) return std::nullopt;
    FUZZ_CHECK(m.size() == 8 + 20, "Get Session Challenge response size");
    s.bmcId = le32(m, 7);
    FUZZ_CHECK(s.bmcId != 0, "temporary session id is never 0");
    ByteView challenge = m.subspan(11, 16);
    if (stopAfterChallenge) return std::nullopt;

    s.password16 = passwordKey(user, false, 16);
    const Bytes signingKey = passwordKey(user, wrongPassword, 16);
    Bytes activateData;
    net::Writer(activateData).u8(static_cast<uint8_t>(type)).u8(priv).bytes(challenge).u32le(0x1000);
    Bytes activate = lanRequest(netfn::app << 2, 0x02, 0x3A, activateData);
    Bytes pkt = {0x06, 0x00, 0xFF, 0x07};
    net::Writer w(pkt);
    w.u8(static_cast<uint8_t>(type)).u32le(0).u32le(s.bmcId);
    if (type != crypto::AuthType15::none) {
      Bytes code = crypto::authCode15(type, signingKey, s.bmcId, activate, 0);
      code.resize(16);
      w.bytes(code);
    }
    w.u8(static_cast<uint8_t>(activate.size())).bytes(activate);
    auto activated = send(pkt);
    if (!activated) return std::nullopt;
    if (replySessionId(*activated) == 0) return std::nullopt;  // refused before the session existed (table full)
    ClientSession verify = s;
    Bytes am = unwrap(verify, *activated);
    checkResponseMessage(am, netfn::app << 2, 0x02, 0x3A);
    if (am[6] != 0x00) return std::nullopt;
    FUZZ_CHECK(!wrongPassword || type == crypto::AuthType15::none, "a wrong password never activates");
    FUZZ_CHECK(am.size() == 8 + 10, "Activate Session response size");
    FUZZ_CHECK(le32(am, 8) == s.bmcId, "the session keeps its id");
    s.nextSeq = le32(am, 12);
    if (raise) raisePrivilege(s, priv & 0x0F);
    return s;
  }

  // Set Session Privilege Level (IPMI v2.0 §22.18), as ipmitool does right after login.
  void raisePrivilege(ClientSession& s, uint8_t priv) {
    const uint8_t level = priv;
    request(s, std::array<uint8_t, 3>{netfn::app << 2, 0x3B, level}, 0, std::nullopt);
  }

  std::optional<Bytes> send(const Bytes& datagram) {
    auto reply = lan_.send(datagram);
    if (reply) {
      checkAmplification(*reply, datagram);
      learnIds(*reply);
    }
    return reply;
  }

  FuzzBmc env_;
  FuzzLan lan_;
  std::vector<ClientSession> sessions_;
  std::vector<uint32_t> knownIds_;
  uint32_t logins_ = 0;
  size_t replaced_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  quietLogs();
  if (size == 0) return 0;
  Harness h((data[0] & 0x01) != 0);
  h.run(ByteView(data + 1, size - 1));
  return 0;
}
