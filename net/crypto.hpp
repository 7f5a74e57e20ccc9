// Cryptography for IPMI v1.5 and v2.0 (RMCP+) sessions, on OpenSSL 3 EVP. Pure functions, no state.
//
// IPMI v2.0 §13.28 (authentication, integrity, confidentiality algorithms), §13.31 (RAKP, SIK),
// §13.32 (K1/K2 generation), §22.15.2 Table 22-20 (cipher suite IDs), IPMI v1.5 §6.12 (auth codes).
// Every OpenSSL return code is checked; a failure returns an empty vector / nullopt, never throws.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "net/wire.hpp"

namespace simbmc::net::crypto {

// Numbers are the wire values of IPMI v2.0 §13.28 (Table 13-17, 13-18, 13-19).
enum class AuthAlg : uint8_t { none = 0x00, hmacSha1 = 0x01, hmacMd5 = 0x02, hmacSha256 = 0x03 };
enum class IntegrityAlg : uint8_t {
  none = 0x00, hmacSha1_96 = 0x01, hmacMd5_128 = 0x02, md5_128 = 0x03, hmacSha256_128 = 0x04
};
enum class ConfAlg : uint8_t { none = 0x00, aesCbc128 = 0x01, xrc4_128 = 0x02, xrc4_40 = 0x03 };

struct CipherSuite {
  uint8_t id;
  AuthAlg auth;
  IntegrityAlg integrity;
  ConfAlg conf;
};

// The suites simbmc implements: 0, 1, 2, 3, 6, 7, 8, 11, 12, 15, 16, 17 (Table 22-20). nullopt otherwise.
std::optional<CipherSuite> cipherSuite(uint8_t id);
std::span<const uint8_t> implementedSuiteIds();

// Length of the RAKP 2 / RAKP 3 key exchange authentication code: 0 (none), 20 (SHA1), 16 (MD5), 32 (SHA256).
size_t rakpAuthCodeLength(AuthAlg alg);
// Length of the RAKP 4 integrity check value: 0 (none), 12 (SHA1: HMAC-SHA1-96), 16 (MD5), 16 (SHA256).
size_t rakp4IcvLength(AuthAlg alg);
// Length of the session trailer AuthCode: 0, 12 (HMAC-SHA1-96), 16 (HMAC-MD5-128, MD5-128), 16 (HMAC-SHA256-128).
size_t integrityCodeLength(IntegrityAlg alg);

// HMAC with the authentication algorithm's digest (SHA1 / MD5 / SHA256). Full-length output.
// AuthAlg::none returns an empty vector.
Bytes hmac(AuthAlg alg, ByteView key, ByteView data);

// SIK = HMAC_Kuid/Kg(Rm | Rc | RoleM | ULengthM | UNameM), IPMI v2.0 §13.31.
// `key` is Kg when a non-zero BMC key is configured, else the user's 20-byte password key.
// `role` is the whole RAKP 1 role byte (name-only-lookup bit included). Empty for AuthAlg::none, randoms
// that are not 16 bytes, or a name longer than 16.
Bytes deriveSik(AuthAlg alg, ByteView key, ByteView consoleRandom, ByteView bmcRandom, uint8_t role,
                std::string_view userName);
// Kn = HMAC_SIK(constant n repeated 20 times), IPMI v2.0 §13.32. n is 1 for K1, 2 for K2.
// Empty unless sik has the digest length of `alg`.
Bytes deriveKey(AuthAlg alg, ByteView sik, uint8_t n);

// Session trailer AuthCode over `data` (from the AuthType/Format byte through the Next Header byte).
// HMAC-* algorithms key on K1 and truncate to integrityCodeLength(); MD5-128 is
// MD5(password | data | password) with the 20-byte password key (§13.28.4); a shorter key is zero-padded
// to 20, a longer one gives an empty result. HMAC algorithms with an empty k1 give an empty result.
Bytes integrityCode(IntegrityAlg alg, ByteView k1, ByteView passwordKey, ByteView data);

// AES-CBC-128 payload encryption, IPMI v2.0 §13.29: returns IV(16) | ciphertext of
// (payload | pad 01 02 .. n | pad-length n), padded to a 16-byte multiple. Key = first 16 bytes of K2.
Bytes aesCbc128Encrypt(ByteView k2, ByteView payload);
// The same with a caller-chosen 16-byte IV, for known-answer tests and corpus replay only: a session must
// use aesCbc128Encrypt(), whose IV comes from RAND_bytes. Empty if iv is not 16 bytes or k2 is short.
Bytes aesCbc128EncryptWithIv(ByteView k2, ByteView iv, ByteView payload);
// Size of aesCbc128Encrypt()'s result for a payload of `payloadSize` bytes: IV + padded blocks.
constexpr size_t aesCbc128Size(size_t payloadSize) { return 16 + (payloadSize / 16 + 1) * 16; }
// Inverse of the above: checks sizes (IV + non-empty multiple of 16) and the pad bytes; nullopt if bad.
std::optional<Bytes> aesCbc128Decrypt(ByteView k2, ByteView ivAndCiphertext);

// The per-session half of the above for an established RMCP+ session: the integrity algorithm keyed
// with K1 (or MD5-128 with the password key) and AES-CBC-128 keyed with K2, each keyed once at
// activation and reused for every packet, so a packet costs no key schedule, no algorithm lookup and
// no allocation of OpenSSL contexts. Results are byte-identical to integrityCode() and
// aesCbc128Encrypt()/aesCbc128Decrypt(). Not thread-safe: a session belongs to one io thread.
class SessionCipher {
 public:
  // nullptr when the keys do not fit the suite (empty K1 with an HMAC integrity algorithm, K2
  // shorter than 16 bytes with AES) or OpenSSL fails. Algorithms the suite does not use need no key.
  static std::unique_ptr<SessionCipher> create(const CipherSuite& suite, ByteView k1, ByteView k2,
                                               ByteView passwordKey);
  ~SessionCipher();
  SessionCipher(const SessionCipher&) = delete;
  SessionCipher& operator=(const SessionCipher&) = delete;

  // The session trailer AuthCode (integrityCodeLength() bytes) over `data`, appended to `out`.
  // `data` may be a view into `out`. False (out unchanged) on failure or IntegrityAlg::none.
  bool appendCode(ByteView data, Bytes& out);
  // Constant-time check of `code` against the AuthCode over `data`.
  bool verifyCode(ByteView data, ByteView code);
  // IV(16, fresh from the CSPRNG) | AES-CBC-128(payload | pad | pad length) appended to `out`.
  // False (out unchanged) on failure or ConfAlg::none.
  bool appendEncrypted(ByteView payload, Bytes& out);
  // The payload of IV | ciphertext after checking sizes and the pad, or nullopt.
  std::optional<Bytes> decrypt(ByteView ivAndCiphertext);

 private:
  struct State;
  explicit SessionCipher(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// IPMI v1.5 session auth codes (§6.12.x, v2.0 §22.17.1): auth type 1 = MD2, 2 = MD5,
// 4 = straight password (the password itself). MD2/MD5 = H(password16 | sessionId LE | data |
// sessionSeq LE | password16). `password16` is the password zero-padded/truncated to 16 bytes (a shorter
// one is zero-padded here; a longer one gives an empty result). none and oem give an empty result.
enum class AuthType15 : uint8_t { none = 0x00, md2 = 0x01, md5 = 0x02, password = 0x04, oem = 0x05 };
Bytes authCode15(AuthType15 type, ByteView password16, uint32_t sessionId, ByteView data, uint32_t sessionSeq);

// Constant-time comparison (CRYPTO_memcmp); false if the sizes differ.
bool constantTimeEqual(ByteView a, ByteView b);
// Fills `out` from the CSPRNG (RAND_bytes). False on failure.
bool randomBytes(std::span<uint8_t> out);
// Overwrites `b` with zeros in a way the compiler cannot elide (OPENSSL_cleanse), then clears it.
void wipe(Bytes& b);

}  // namespace simbmc::net::crypto
