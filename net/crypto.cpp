#include "net/crypto.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <climits>
#include <initializer_list>
#include <memory>

#include "net/md2.hpp"

namespace simbmc::net::crypto {
namespace {

struct MacFree {
  void operator()(EVP_MAC* p) const { EVP_MAC_free(p); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* p) const { EVP_MAC_CTX_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};
using MacPtr = std::unique_ptr<EVP_MAC, MacFree>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

// Wipes a buffer that held plaintext or key material on every way out of a scope, unless disarmed.
class WipeGuard {
 public:
  explicit WipeGuard(Bytes& b) : b_(b) {}
  ~WipeGuard() {
    if (armed_) wipe(b_);
  }
  WipeGuard(const WipeGuard&) = delete;
  WipeGuard& operator=(const WipeGuard&) = delete;
  void disarm() { armed_ = false; }

 private:
  Bytes& b_;
  bool armed_ = true;
};

constexpr size_t kAesBlockSize = 16;
constexpr size_t kAesKeySize = 16;
// The RMCP+ payload length field is 16 bits (IPMI v2.0 §13.6, Table 13-8); this also keeps every
// length handed to OpenSSL far below INT_MAX.
constexpr size_t kMaxPayloadLength = 0xFFFF;
// IPMI v2.0 §13.31: the Kuid used for MD5-128 and the SIK is the 20-byte password; v1.5 passwords are 16.
constexpr size_t kPasswordKeySize = 20;
constexpr size_t kPassword15Size = 16;
constexpr size_t kRandomSize = 16;    // Rm and Rc, IPMI v2.0 §13.20, §13.21
constexpr size_t kMaxUserName = 16;   // UNameM of RAKP Message 1, IPMI v2.0 §13.20
// IPMI v2.0 §13.32: the Kn constants are 20 bytes. The spec's "repeated up to the HMAC block size"
// is ambiguous, but both clients use 20 bytes for every algorithm, SHA256 included: ipmitool
// (src/plugins/lanplus/lanplus_crypt.c, lanplus_generate_k1/k2: CONST_1/CONST_2 of 20) and FreeIPMI
// (libfreeipmi/util/ipmi-rmcpplus-util.c, IPMI_KEY_CONSTANT_LENGTH 20). Interoperating wins.
constexpr size_t kKeyConstantSize = 20;

size_t digestSize(AuthAlg alg) {
  switch (alg) {
    case AuthAlg::hmacSha1: return 20;
    case AuthAlg::hmacMd5: return 16;
    case AuthAlg::hmacSha256: return 32;
    case AuthAlg::none: break;
  }
  return 0;
}

// The HMAC digest behind an HMAC integrity algorithm (§13.28.4); AuthAlg::none for MD5-128 and none.
AuthAlg hmacDigestOf(IntegrityAlg alg) {
  switch (alg) {
    case IntegrityAlg::hmacSha1_96: return AuthAlg::hmacSha1;
    case IntegrityAlg::hmacMd5_128: return AuthAlg::hmacMd5;
    case IntegrityAlg::hmacSha256_128: return AuthAlg::hmacSha256;
    case IntegrityAlg::md5_128:
    case IntegrityAlg::none: break;
  }
  return AuthAlg::none;
}

// The AES-CBC-128 pad length for a payload (§13.29): (payload + pad + 1) is a multiple of 16.
size_t padLengthFor(size_t payloadSize) { return (kAesBlockSize - (payloadSize + 1) % kAesBlockSize) % kAesBlockSize; }

// The payload length of a decrypted, padded plaintext, or nullopt when the pad is wrong.
// Senders pad with 0..15 bytes (ipmitool lanplus_encrypt_payload, FreeIPMI
// _construct_payload_confidentiality_aes_cbc_128). FreeIPMI's receiver accepts a pad length up to 16
// and checks the bytes are 1..n (ipmi_rmcpplus_check_payload_pad); ipmitool checks 1..n too. A pad of
// 16 would mean a whole block of padding, which no sender produces, so 15 is the limit here.
std::optional<size_t> unpaddedSize(ByteView plain) {
  if (plain.empty()) return std::nullopt;
  const uint8_t padLength = plain.back();
  if (padLength >= kAesBlockSize || padLength + 1u > plain.size()) return std::nullopt;
  const size_t payloadSize = plain.size() - padLength - 1;
  for (size_t i = 0; i < padLength; ++i) {
    if (plain[payloadSize + i] != i + 1) return std::nullopt;
  }
  return payloadSize;
}

// OpenSSL 3 resolves algorithms by name on every implicit use (algorithms().md5, EVP_MAC_fetch, a digest
// name in OSSL_PARAMs): a provider lookup with a lock and string compares, which dominated the
// per-packet cost. Each algorithm is therefore fetched once, and HMAC contexts are cloned from a
// template that already carries its digest. These are immutable after their thread-safe first
// initialization (function-local statics), never freed: process-lifetime algorithm handles.
struct Algorithms {
  EVP_MD* md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  EVP_MD* sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_CIPHER* aes128cbc = EVP_CIPHER_fetch(nullptr, "AES-128-CBC", nullptr);
  EVP_CIPHER* aes128ecb = EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr);
  EVP_MAC* hmac = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr);
  EVP_MAC_CTX* hmacTemplate[4] = {nullptr, nullptr, nullptr, nullptr};  // index = AuthAlg

  Algorithms() {
    for (AuthAlg alg : {AuthAlg::hmacSha1, AuthAlg::hmacMd5, AuthAlg::hmacSha256}) {
      if (hmac == nullptr) break;
      EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(hmac);
      const char* name = alg == AuthAlg::hmacSha1 ? "SHA1" : alg == AuthAlg::hmacMd5 ? "MD5" : "SHA256";
      const OSSL_PARAM params[] = {
          OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(name), 0),
          OSSL_PARAM_construct_end(),
      };
      if (ctx != nullptr && EVP_MAC_CTX_set_params(ctx, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        ctx = nullptr;
      }
      hmacTemplate[static_cast<uint8_t>(alg)] = ctx;
    }
  }
};

const Algorithms& algorithms() {
  static const Algorithms a;
  return a;
}

Bytes hmacWith(AuthAlg alg, ByteView key, ByteView data) {
  const auto i = static_cast<uint8_t>(alg);
  if (i == 0 || i > 3) return {};
  const EVP_MAC_CTX* tmpl = algorithms().hmacTemplate[i];
  if (tmpl == nullptr) return {};
  MacCtxPtr ctx(EVP_MAC_CTX_dup(tmpl));
  if (!ctx) return {};
  // EVP_MAC_init() reads a null key as "keep the previous key", which a fresh context lacks; an empty
  // key must still be a non-null pointer.
  static constexpr uint8_t kEmptyKey = 0;
  const uint8_t* keyPtr = key.empty() ? &kEmptyKey : key.data();
  if (EVP_MAC_init(ctx.get(), keyPtr, key.size(), nullptr) != 1) return {};
  if (!data.empty() && EVP_MAC_update(ctx.get(), data.data(), data.size()) != 1) return {};
  const size_t size = EVP_MAC_CTX_get_mac_size(ctx.get());
  if (size == 0) return {};
  Bytes out(size);
  size_t written = 0;
  if (EVP_MAC_final(ctx.get(), out.data(), &written, out.size()) != 1 || written != size) return {};
  return out;
}

// Plain (unkeyed) digest over the concatenation of `parts`, without building the concatenation.
Bytes digestOf(const EVP_MD* md, std::initializer_list<ByteView> parts) {
  if (md == nullptr) return {};
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return {};
  if (EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) return {};
  for (ByteView part : parts) {
    if (!part.empty() && EVP_DigestUpdate(ctx.get(), part.data(), part.size()) != 1) return {};
  }
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int written = 0;
  if (EVP_DigestFinal_ex(ctx.get(), out.data(), &written) != 1) return {};
  out.resize(written);
  return out;
}

// A password key zero-padded to `size` bytes; empty if it is longer (a caller bug, not a truncation to hide).
Bytes paddedKey(ByteView key, size_t size) {
  if (key.size() > size) return {};
  Bytes out(size, 0);
  std::copy(key.begin(), key.end(), out.begin());
  return out;
}

Bytes le32(uint32_t v) {
  Bytes out;
  Writer(out).u32le(v);
  return out;
}

// IVs for AES-CBC-128 come from the CSPRNG like every other random value here, but are drawn from a
// small per-thread pool refilled by RAND_bytes: one DRBG call (with its locking and fork check) per
// 32 packets instead of one per packet. CBC IVs must be unpredictable, not secret; the pool holds
// nothing else.
bool ivBytes(std::span<uint8_t> out) {
  struct Pool {
    std::array<uint8_t, 512> bytes{};
    size_t used = 512;
  };
  thread_local Pool pool;
  if (out.size() > pool.bytes.size()) return randomBytes(out);
  if (pool.bytes.size() - pool.used < out.size()) {
    if (RAND_bytes(pool.bytes.data(), static_cast<int>(pool.bytes.size())) != 1) return false;
    pool.used = 0;
  }
  std::copy_n(pool.bytes.begin() + static_cast<std::ptrdiff_t>(pool.used), out.size(), out.begin());
  OPENSSL_cleanse(pool.bytes.data() + pool.used, out.size());  // an IV is handed out once
  pool.used += out.size();
  return true;
}

// IPMI v2.0 §22.15.2, Table 22-20. Only the suites simbmc implements; 4, 5, 9, 10, 13, 14 need xRC4.
constexpr std::array<CipherSuite, 12> kSuites = {{
    {0, AuthAlg::none, IntegrityAlg::none, ConfAlg::none},
    {1, AuthAlg::hmacSha1, IntegrityAlg::none, ConfAlg::none},
    {2, AuthAlg::hmacSha1, IntegrityAlg::hmacSha1_96, ConfAlg::none},
    {3, AuthAlg::hmacSha1, IntegrityAlg::hmacSha1_96, ConfAlg::aesCbc128},
    {6, AuthAlg::hmacMd5, IntegrityAlg::none, ConfAlg::none},
    {7, AuthAlg::hmacMd5, IntegrityAlg::hmacMd5_128, ConfAlg::none},
    {8, AuthAlg::hmacMd5, IntegrityAlg::hmacMd5_128, ConfAlg::aesCbc128},
    {11, AuthAlg::hmacMd5, IntegrityAlg::md5_128, ConfAlg::none},
    {12, AuthAlg::hmacMd5, IntegrityAlg::md5_128, ConfAlg::aesCbc128},
    {15, AuthAlg::hmacSha256, IntegrityAlg::none, ConfAlg::none},
    {16, AuthAlg::hmacSha256, IntegrityAlg::hmacSha256_128, ConfAlg::none},
    {17, AuthAlg::hmacSha256, IntegrityAlg::hmacSha256_128, ConfAlg::aesCbc128},
}};

constexpr std::array<uint8_t, kSuites.size()> kSuiteIds = [] {
  std::array<uint8_t, kSuites.size()> ids{};
  for (size_t i = 0; i < kSuites.size(); ++i) ids[i] = kSuites[i].id;
  return ids;
}();

}  // namespace

std::optional<CipherSuite> cipherSuite(uint8_t id) {
  for (const CipherSuite& s : kSuites) {
    if (s.id == id) return s;
  }
  return std::nullopt;
}

std::span<const uint8_t> implementedSuiteIds() { return kSuiteIds; }

size_t rakpAuthCodeLength(AuthAlg alg) { return digestSize(alg); }

size_t rakp4IcvLength(AuthAlg alg) {
  // IPMI v2.0 §13.23 (RAKP Message 4) and §13.28, Table 13-17: RAKP-HMAC-SHA1 sends HMAC-SHA1-96,
  // RAKP-HMAC-SHA256 HMAC-SHA256-128 and RAKP-HMAC-MD5 the whole HMAC-MD5.
  switch (alg) {
    case AuthAlg::hmacSha1: return 12;
    case AuthAlg::hmacMd5:
    case AuthAlg::hmacSha256: return 16;
    case AuthAlg::none: break;
  }
  return 0;
}

size_t integrityCodeLength(IntegrityAlg alg) {
  // IPMI v2.0 §13.28.4.
  switch (alg) {
    case IntegrityAlg::hmacSha1_96: return 12;
    case IntegrityAlg::hmacMd5_128:
    case IntegrityAlg::md5_128:
    case IntegrityAlg::hmacSha256_128: return 16;
    case IntegrityAlg::none: break;
  }
  return 0;
}

Bytes hmac(AuthAlg alg, ByteView key, ByteView data) { return hmacWith(alg, key, data); }

Bytes deriveSik(AuthAlg alg, ByteView key, ByteView consoleRandom, ByteView bmcRandom, uint8_t role,
                std::string_view userName) {
  // IPMI v2.0 §13.31: SIK = HMAC_K(Rm | Rc | RoleM | ULengthM | <UNameM>). Rm (the console's random
  // number) comes first, as both clients compute it: ipmitool src/plugins/lanplus/lanplus_crypt.c
  // (lanplus_generate_sik: console_rand, then bmc_rand) and FreeIPMI libfreeipmi/util/
  // ipmi-rmcpplus-util.c (ipmi_calculate_sik: remote_console_random_number, then
  // managed_system_random_number). RoleM is the whole requested-role byte, name-only-lookup bit 4
  // included. FreeIPMI keys with the unpadded password while ipmitool pads it to 20 bytes; HMAC
  // zero-pads keys to its block size, so both give the same SIK.
  if (alg == AuthAlg::none) return {};
  if (consoleRandom.size() != kRandomSize || bmcRandom.size() != kRandomSize) return {};
  if (userName.size() > kMaxUserName) return {};
  Bytes input;
  input.reserve(2 * kRandomSize + 2 + userName.size());
  Writer(input)
      .bytes(consoleRandom)
      .bytes(bmcRandom)
      .u8(role)
      .u8(static_cast<uint8_t>(userName.size()))
      .fixedString(userName, userName.size());
  return hmac(alg, key, input);
}

Bytes deriveKey(AuthAlg alg, ByteView sik, uint8_t n) {
  // IPMI v2.0 §13.32: Kn = HMAC_SIK(n repeated); the output is the full digest (20/16/32 bytes).
  if (alg == AuthAlg::none || sik.size() != digestSize(alg)) return {};
  std::array<uint8_t, kKeyConstantSize> constant;
  constant.fill(n);
  return hmac(alg, sik, constant);
}

Bytes integrityCode(IntegrityAlg alg, ByteView k1, ByteView passwordKey, ByteView data) {
  // IPMI v2.0 §13.28.4, the session trailer AuthCode.
  switch (alg) {
    case IntegrityAlg::hmacSha1_96:
    case IntegrityAlg::hmacMd5_128:
    case IntegrityAlg::hmacSha256_128: break;
    case IntegrityAlg::md5_128: {
      // MD5-128 is keyless: MD5(Kuid | data | Kuid), Kuid the password zero-padded to 20 bytes, not 16.
      // This follows FreeIPMI (libfreeipmi/interface/ipmi-rmcpplus-interface.c,
      // _construct_session_trlr_authentication_code, and util/ipmi-rmcpplus-util.c,
      // ipmi_rmcpplus_check_packet_session_authentication_code: pwbuf of IPMI_2_0_MAX_PASSWORD_LENGTH
      // = 20, hashed over the packet from AuthType/Format through Next Header). ipmitool lists suites
      // 11/12 but has no MD5-128 code: lanplus_HMAC() takes integrity value 3 for RAKP-HMAC-SHA256
      // and the trailer code then hits assert(0), so FreeIPMI is the only client to match here.
      Bytes pw = paddedKey(passwordKey, kPasswordKeySize);
      WipeGuard guard(pw);
      if (pw.empty()) return {};
      Bytes code = digestOf(algorithms().md5, {pw, data, pw});
      if (code.size() != integrityCodeLength(alg)) return {};
      return code;
    }
    case IntegrityAlg::none: return {};
  }
  const AuthAlg digest = hmacDigestOf(alg);
  if (digest == AuthAlg::none || k1.empty()) return {};
  Bytes code = hmacWith(digest, k1, data);
  const size_t length = integrityCodeLength(alg);
  if (code.size() < length) return {};
  code.resize(length);
  return code;
}

Bytes aesCbc128Encrypt(ByteView k2, ByteView payload) {
  std::array<uint8_t, kAesBlockSize> iv;
  if (!ivBytes(iv)) return {};
  return aesCbc128EncryptWithIv(k2, iv, payload);
}

Bytes aesCbc128EncryptWithIv(ByteView k2, ByteView iv, ByteView payload) {
  // IPMI v2.0 §13.29, Table 13-20: IV | AES-CBC-128(payload | 01 02 .. n | n) with
  // (payload + n + 1) % 16 == 0, key = K2[0..15]. ipmitool and FreeIPMI build the pad the same way.
  if (k2.size() < kAesKeySize || iv.size() != kAesBlockSize) return {};
  const size_t padLength = padLengthFor(payload.size());
  const size_t plainSize = payload.size() + padLength + 1;
  if (kAesBlockSize + plainSize > kMaxPayloadLength) return {};

  // The payload may carry secrets (Set User Password), so the padded copy is wiped.
  Bytes plain;
  WipeGuard guard(plain);
  plain.reserve(plainSize);
  plain.insert(plain.end(), payload.begin(), payload.end());
  for (size_t i = 1; i <= padLength; ++i) plain.push_back(static_cast<uint8_t>(i));
  plain.push_back(static_cast<uint8_t>(padLength));

  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return {};
  if (EVP_EncryptInit_ex(ctx.get(), algorithms().aes128cbc, nullptr, k2.data(), iv.data()) != 1) return {};
  // The IPMI pad replaces PKCS#7: OpenSSL must not add a block of its own.
  if (EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1) return {};
  Bytes out(kAesBlockSize + plainSize);
  std::copy(iv.begin(), iv.end(), out.begin());
  int updated = 0;
  if (EVP_EncryptUpdate(ctx.get(), out.data() + kAesBlockSize, &updated, plain.data(),
                        static_cast<int>(plainSize)) != 1) {
    return {};
  }
  int finalized = 0;
  if (updated < 0 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + kAesBlockSize + static_cast<size_t>(updated), &finalized) != 1) {
    return {};
  }
  if (finalized < 0 || static_cast<size_t>(updated) + static_cast<size_t>(finalized) != plainSize) return {};
  return out;
}

std::optional<Bytes> aesCbc128Decrypt(ByteView k2, ByteView ivAndCiphertext) {
  // IPMI v2.0 §13.29. Callers check the session trailer AuthCode before decrypting (the integrity
  // code covers the encrypted payload), so a pad check that fails fast gives no padding oracle.
  if (k2.size() < kAesKeySize) return std::nullopt;
  const size_t size = ivAndCiphertext.size();
  if (size < 2 * kAesBlockSize || size % kAesBlockSize != 0 || size > kMaxPayloadLength) return std::nullopt;
  const ByteView iv = ivAndCiphertext.first(kAesBlockSize);
  const ByteView ciphertext = ivAndCiphertext.subspan(kAesBlockSize);

  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return std::nullopt;
  if (EVP_DecryptInit_ex(ctx.get(), algorithms().aes128cbc, nullptr, k2.data(), iv.data()) != 1) return std::nullopt;
  if (EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1) return std::nullopt;
  Bytes plain(ciphertext.size());
  WipeGuard guard(plain);
  int updated = 0;
  if (EVP_DecryptUpdate(ctx.get(), plain.data(), &updated, ciphertext.data(),
                        static_cast<int>(ciphertext.size())) != 1) {
    return std::nullopt;
  }
  int finalized = 0;
  if (updated < 0 ||
      EVP_DecryptFinal_ex(ctx.get(), plain.data() + static_cast<size_t>(updated), &finalized) != 1) {
    return std::nullopt;
  }
  if (finalized < 0 || static_cast<size_t>(updated) + static_cast<size_t>(finalized) != plain.size()) {
    return std::nullopt;
  }

  const auto payloadSize = unpaddedSize(plain);
  if (!payloadSize) return std::nullopt;
  plain.resize(*payloadSize);  // the bytes dropped are the pad, not secret
  guard.disarm();
  return plain;
}

Bytes authCode15(AuthType15 type, ByteView password16, uint32_t sessionId, ByteView data, uint32_t sessionSeq) {
  // IPMI v2.0 §22.17.1 (v1.5 AuthCode algorithms): H(password | session ID | message data | session
  // sequence number | password), the two 32-bit fields in wire (least significant byte first) order.
  // FreeIPMI (libfreeipmi/interface/ipmi-lan-interface.c) hashes the same fields in the same order.
  Bytes pw = paddedKey(password16, kPassword15Size);
  WipeGuard guard(pw);
  if (pw.empty()) return {};
  switch (type) {
    case AuthType15::password: {
      guard.disarm();
      return pw;
    }
    case AuthType15::md5: {
      Bytes code = digestOf(algorithms().md5, {pw, le32(sessionId), data, le32(sessionSeq), pw});
      if (code.size() != kPassword15Size) return {};
      return code;
    }
    case AuthType15::md2: {
      Md2 h;
      h.update(pw);
      h.update(le32(sessionId));
      h.update(data);
      h.update(le32(sessionSeq));
      h.update(pw);
      const Md2::Digest d = h.finish();
      return Bytes(d.begin(), d.end());
    }
    case AuthType15::none:
    case AuthType15::oem: break;
  }
  return {};
}

bool constantTimeEqual(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool randomBytes(std::span<uint8_t> out) {
  if (out.empty()) return true;
  if (out.size() > static_cast<size_t>(INT_MAX)) return false;
  return RAND_bytes(out.data(), static_cast<int>(out.size())) == 1;
}

void wipe(Bytes& b) {
  if (!b.empty()) OPENSSL_cleanse(b.data(), b.size());
  b.clear();
}

// ---- SessionCipher ----------------------------------------------------------------------------

struct SessionCipher::State {
  IntegrityAlg integrity = IntegrityAlg::none;
  bool aes = false;
  // HMAC (RFC 2104) keyed with K1 once: the digest states after the key's inner and outer pad blocks.
  // Each code copies them instead of re-keying, which through EVP_MAC costs a parameter lookup and
  // twice as many context copies.
  MdCtxPtr hmacInner, hmacOuter;
  MdCtxPtr md5Prefix;    // MD5-128: MD5 state after the 20-byte password key
  MdCtxPtr work;         // where each code is computed
  Bytes passwordKey;     // MD5-128's trailing key copy
  // AES-128 keyed with K2[0..15] in ECB mode, the CBC chaining done here: an OpenSSL CBC context
  // needs a re-initialisation (IV length and padding looked up by name) for every packet's IV.
  CipherCtxPtr enc, dec;

  ~State() { wipe(passwordKey); }

  bool keyHmac(const EVP_MD* md, ByteView key) {
    constexpr size_t kMaxBlock = 128;
    const int block = md == nullptr ? 0 : EVP_MD_get_block_size(md);
    if (block <= 0 || static_cast<size_t>(block) > kMaxBlock) return false;
    Bytes k = key.size() > static_cast<size_t>(block) ? digestOf(md, {key}) : Bytes(key.begin(), key.end());
    WipeGuard keyGuard(k);
    std::array<uint8_t, kMaxBlock> pad{};
    bool ok = true;
    for (const uint8_t mask : {uint8_t{0x36}, uint8_t{0x5C}}) {
      for (size_t i = 0; i < static_cast<size_t>(block); ++i) pad[i] = static_cast<uint8_t>((i < k.size() ? k[i] : 0) ^ mask);
      MdCtxPtr& ctx = mask == 0x36 ? hmacInner : hmacOuter;
      ctx.reset(EVP_MD_CTX_new());
      ok = ok && ctx && EVP_DigestInit_ex(ctx.get(), md, nullptr) == 1 &&
           EVP_DigestUpdate(ctx.get(), pad.data(), static_cast<size_t>(block)) == 1;
    }
    OPENSSL_cleanse(pad.data(), pad.size());
    return ok;
  }

  // The full AuthCode into `code` (at least integrityCodeLength() bytes). Returns its length or 0.
  size_t compute(ByteView data, std::span<uint8_t, EVP_MAX_MD_SIZE> code) {
    const size_t length = integrityCodeLength(integrity);
    if (!work) return 0;
    unsigned int written = 0;
    if (integrity == IntegrityAlg::md5_128) {
      if (EVP_MD_CTX_copy_ex(work.get(), md5Prefix.get()) != 1) return 0;
      if (!data.empty() && EVP_DigestUpdate(work.get(), data.data(), data.size()) != 1) return 0;
      if (EVP_DigestUpdate(work.get(), passwordKey.data(), passwordKey.size()) != 1) return 0;
      if (EVP_DigestFinal_ex(work.get(), code.data(), &written) != 1 || written != length) return 0;
      return length;
    }
    if (!hmacInner || !hmacOuter) return 0;
    std::array<uint8_t, EVP_MAX_MD_SIZE> inner{};
    unsigned int innerSize = 0;
    if (EVP_MD_CTX_copy_ex(work.get(), hmacInner.get()) != 1) return 0;
    if (!data.empty() && EVP_DigestUpdate(work.get(), data.data(), data.size()) != 1) return 0;
    if (EVP_DigestFinal_ex(work.get(), inner.data(), &innerSize) != 1) return 0;
    if (EVP_MD_CTX_copy_ex(work.get(), hmacOuter.get()) != 1 ||
        EVP_DigestUpdate(work.get(), inner.data(), innerSize) != 1 ||
        EVP_DigestFinal_ex(work.get(), code.data(), &written) != 1 || written < length) {
      return 0;
    }
    return length;
  }
};

SessionCipher::SessionCipher(std::unique_ptr<State> state) : state_(std::move(state)) {}
SessionCipher::~SessionCipher() = default;

std::unique_ptr<SessionCipher> SessionCipher::create(const CipherSuite& suite, ByteView k1, ByteView k2,
                                                     ByteView passwordKey) {
  auto st = std::make_unique<State>();
  st->integrity = suite.integrity;
  const Algorithms& algs = algorithms();
  switch (suite.integrity) {
    case IntegrityAlg::none: break;
    case IntegrityAlg::md5_128: {
      st->passwordKey = paddedKey(passwordKey, kPasswordKeySize);
      if (st->passwordKey.empty() || algs.md5 == nullptr) return nullptr;
      st->md5Prefix.reset(EVP_MD_CTX_new());
      if (!st->md5Prefix) return nullptr;
      if (EVP_DigestInit_ex(st->md5Prefix.get(), algs.md5, nullptr) != 1 ||
          EVP_DigestUpdate(st->md5Prefix.get(), st->passwordKey.data(), st->passwordKey.size()) != 1) {
        return nullptr;
      }
      break;
    }
    case IntegrityAlg::hmacSha1_96:
    case IntegrityAlg::hmacMd5_128:
    case IntegrityAlg::hmacSha256_128: {
      const AuthAlg alg = hmacDigestOf(suite.integrity);
      const EVP_MD* md = alg == AuthAlg::hmacSha1 ? algs.sha1 : alg == AuthAlg::hmacMd5 ? algs.md5 : algs.sha256;
      if (k1.empty() || !st->keyHmac(md, k1)) return nullptr;
      if (static_cast<size_t>(EVP_MD_get_size(md)) < integrityCodeLength(suite.integrity)) return nullptr;
      break;
    }
  }
  if (suite.integrity != IntegrityAlg::none) {
    st->work.reset(EVP_MD_CTX_new());
    if (!st->work) return nullptr;
  }
  if (suite.conf == ConfAlg::aesCbc128) {
    if (k2.size() < kAesKeySize || algs.aes128ecb == nullptr) return nullptr;
    st->aes = true;
    st->enc.reset(EVP_CIPHER_CTX_new());
    st->dec.reset(EVP_CIPHER_CTX_new());
    if (!st->enc || !st->dec) return nullptr;
    // Keyed once, never re-initialised. The IPMI pad replaces PKCS#7 in both directions.
    if (EVP_EncryptInit_ex(st->enc.get(), algs.aes128ecb, nullptr, k2.data(), nullptr) != 1 ||
        EVP_CIPHER_CTX_set_padding(st->enc.get(), 0) != 1 ||
        EVP_DecryptInit_ex(st->dec.get(), algs.aes128ecb, nullptr, k2.data(), nullptr) != 1 ||
        EVP_CIPHER_CTX_set_padding(st->dec.get(), 0) != 1) {
      return nullptr;
    }
  } else if (suite.conf != ConfAlg::none) {
    return nullptr;
  }
  return std::unique_ptr<SessionCipher>(new SessionCipher(std::move(st)));
}

bool SessionCipher::appendCode(ByteView data, Bytes& out) {
  std::array<uint8_t, EVP_MAX_MD_SIZE> code{};
  const size_t length = state_->compute(data, code);  // before `out` grows: data may point into it
  if (length == 0) return false;
  out.insert(out.end(), code.begin(), code.begin() + static_cast<std::ptrdiff_t>(length));
  return true;
}

bool SessionCipher::verifyCode(ByteView data, ByteView code) {
  std::array<uint8_t, EVP_MAX_MD_SIZE> expect{};
  const size_t length = state_->compute(data, expect);
  return length != 0 && constantTimeEqual(ByteView(expect.data(), length), code);
}

bool SessionCipher::appendEncrypted(ByteView payload, Bytes& out) {
  if (!state_->aes) return false;
  const size_t padLength = padLengthFor(payload.size());
  const size_t plainSize = payload.size() + padLength + 1;
  if (kAesBlockSize + plainSize > kMaxPayloadLength) return false;
  std::array<uint8_t, kAesBlockSize> iv{};
  if (!ivBytes(iv)) return false;

  const size_t start = out.size();
  out.resize(start + kAesBlockSize + plainSize);
  uint8_t* dst = out.data() + start;
  std::copy(iv.begin(), iv.end(), dst);
  // CBC: C[i] = AES(P[i] ^ C[i-1]), C[-1] = IV. The last plaintext block carries the payload's
  // tail, the pad and the pad length. `block` held plaintext (the payload may be a password) and is
  // wiped.
  std::array<uint8_t, kAesBlockSize> block{};
  bool ok = true;
  for (size_t off = 0; off < plainSize && ok; off += kAesBlockSize) {
    for (size_t i = 0; i < kAesBlockSize; ++i) {
      const size_t at = off + i;
      uint8_t p = 0;
      if (at < payload.size()) {
        p = payload[at];
      } else if (at < plainSize - 1) {
        p = static_cast<uint8_t>(at - payload.size() + 1);  // pad bytes 01 02 ..
      } else {
        p = static_cast<uint8_t>(padLength);
      }
      block[i] = static_cast<uint8_t>(p ^ dst[off + i]);  // dst[off..] is the previous ciphertext block (or the IV)
    }
    int n = 0;
    ok = EVP_EncryptUpdate(state_->enc.get(), dst + kAesBlockSize + off, &n, block.data(),
                           static_cast<int>(kAesBlockSize)) == 1 &&
         static_cast<size_t>(n) == kAesBlockSize;
  }
  OPENSSL_cleanse(block.data(), block.size());
  if (!ok) {
    OPENSSL_cleanse(out.data() + start, out.size() - start);
    out.resize(start);
    return false;
  }
  return true;
}

std::optional<Bytes> SessionCipher::decrypt(ByteView ivAndCiphertext) {
  if (!state_->aes) return std::nullopt;
  const size_t size = ivAndCiphertext.size();
  if (size < 2 * kAesBlockSize || size % kAesBlockSize != 0 || size > kMaxPayloadLength) return std::nullopt;
  const ByteView ciphertext = ivAndCiphertext.subspan(kAesBlockSize);
  Bytes plain(ciphertext.size());
  WipeGuard guard(plain);
  // CBC: P[i] = AES^-1(C[i]) ^ C[i-1], C[-1] = IV; all blocks deciphered in one call.
  int updated = 0;
  if (EVP_DecryptUpdate(state_->dec.get(), plain.data(), &updated, ciphertext.data(),
                        static_cast<int>(ciphertext.size())) != 1 ||
      static_cast<size_t>(updated) != plain.size()) {
    return std::nullopt;
  }
  for (size_t i = 0; i < plain.size(); ++i) plain[i] ^= ivAndCiphertext[i];  // the IV, then C[i-1]
  const auto payloadSize = unpaddedSize(plain);
  if (!payloadSize) return std::nullopt;
  plain.resize(*payloadSize);
  guard.disarm();
  return plain;
}

}  // namespace simbmc::net::crypto
