// MD2 message digest (RFC 1319), for IPMI v1.5 session auth type 1 only (IPMI v2.0 §22.17.1).
//
// Debian's OpenSSL 3 is built without MD2, so simbmc carries this small implementation. MD2 is broken
// as a hash; it exists here because old IPMI 1.5 consoles still offer it. Not thread-safe per object;
// separate objects are independent. The destructor wipes the state, which may hold password bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "net/wire.hpp"

namespace simbmc::net::crypto {

class Md2 {
 public:
  static constexpr size_t digestSize = 16;
  using Digest = std::array<uint8_t, digestSize>;

  Md2() = default;
  ~Md2();
  Md2(const Md2&) = delete;
  Md2& operator=(const Md2&) = delete;

  void update(ByteView data);
  // Pads, appends the checksum and returns the digest; the object is then back in its initial state.
  Digest finish();

 private:
  static constexpr size_t blockSize = 16;
  void processBlock(const uint8_t* block);
  void reset();

  std::array<uint8_t, 48> state_{};  // X of RFC 1319 §3.4
  std::array<uint8_t, blockSize> checksum_{};
  std::array<uint8_t, blockSize> buffer_{};
  size_t buffered_ = 0;
  uint8_t lastChecksumByte_ = 0;  // L of RFC 1319 §3.2
};

// One-shot MD2 of `data`.
Md2::Digest md2(ByteView data);

}  // namespace simbmc::net::crypto
