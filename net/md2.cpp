#include "net/md2.hpp"

#include <openssl/crypto.h>

#include <algorithm>

namespace simbmc::net::crypto {
namespace {

// RFC 1319 §3.2: the 256-byte permutation of 0..255 "constructed from the digits of pi".
constexpr std::array<uint8_t, 256> kPiSubst = {
    41,  46,  67,  201, 162, 216, 124, 1,   61,  54,  84,  161, 236, 240, 6,   19,  98,  167, 5,   243, 192, 199,
    115, 140, 152, 147, 43,  217, 188, 76,  130, 202, 30,  155, 87,  60,  253, 212, 224, 22,  103, 66,  111, 24,
    138, 23,  229, 18,  190, 78,  196, 214, 218, 158, 222, 73,  160, 251, 245, 142, 187, 47,  238, 122, 169, 104,
    121, 145, 21,  178, 7,   63,  148, 194, 16,  137, 11,  34,  95,  33,  128, 127, 93,  154, 90,  144, 50,  39,
    53,  62,  204, 231, 191, 247, 151, 3,   255, 25,  48,  179, 72,  165, 181, 209, 215, 94,  146, 42,  172, 86,
    170, 198, 79,  184, 56,  210, 150, 164, 125, 182, 118, 252, 107, 226, 156, 116, 4,   241, 69,  157, 112, 89,
    100, 113, 135, 32,  134, 91,  207, 101, 230, 45,  168, 2,   27,  96,  37,  173, 174, 176, 185, 246, 28,  70,
    97,  105, 52,  64,  126, 15,  85,  71,  163, 35,  221, 81,  175, 58,  195, 92,  249, 206, 186, 197, 234, 38,
    44,  83,  13,  110, 133, 40,  132, 9,   211, 223, 205, 244, 65,  129, 77,  82,  106, 220, 55,  200, 108, 193,
    171, 250, 36,  225, 123, 8,   12,  189, 177, 74,  120, 136, 149, 139, 227, 99,  232, 109, 233, 203, 213, 254,
    59,  0,   29,  57,  242, 239, 183, 14,  102, 88,  208, 228, 166, 119, 114, 248, 235, 117, 75,  10,  49,  68,
    80,  180, 143, 237, 31,  26,  219, 153, 141, 51,  159, 17,  131, 20,
};

// A typo in the table above would still pass some test vectors by luck; a permutation check catches most.
constexpr bool isPermutation(const std::array<uint8_t, 256>& table) {
  std::array<bool, 256> seen{};
  for (uint8_t v : table) {
    if (seen[v]) return false;
    seen[v] = true;
  }
  return true;
}
static_assert(isPermutation(kPiSubst));

}  // namespace

Md2::~Md2() { reset(); }

void Md2::reset() {
  OPENSSL_cleanse(state_.data(), state_.size());
  OPENSSL_cleanse(checksum_.data(), checksum_.size());
  OPENSSL_cleanse(buffer_.data(), buffer_.size());
  buffered_ = 0;
  lastChecksumByte_ = 0;
}

void Md2::processBlock(const uint8_t* block) {
  // RFC 1319 §3.2 (checksum; the reference code's XOR into C[j], per the RFC's published erratum) and
  // §3.4 (18 rounds over the 48-byte state).
  for (size_t j = 0; j < blockSize; ++j) {
    checksum_[j] ^= kPiSubst[block[j] ^ lastChecksumByte_];
    lastChecksumByte_ = checksum_[j];
  }
  for (size_t j = 0; j < blockSize; ++j) {
    state_[blockSize + j] = block[j];
    state_[2 * blockSize + j] = static_cast<uint8_t>(block[j] ^ state_[j]);
  }
  uint8_t t = 0;
  for (unsigned round = 0; round < 18; ++round) {
    for (uint8_t& x : state_) {
      x ^= kPiSubst[t];
      t = x;
    }
    t = static_cast<uint8_t>(t + round);
  }
}

void Md2::update(ByteView data) {
  while (!data.empty()) {
    const size_t n = std::min(blockSize - buffered_, data.size());
    std::copy_n(data.begin(), n, buffer_.begin() + static_cast<std::ptrdiff_t>(buffered_));
    buffered_ += n;
    data = data.subspan(n);
    if (buffered_ == blockSize) {
      processBlock(buffer_.data());
      buffered_ = 0;
    }
  }
}

Md2::Digest Md2::finish() {
  // RFC 1319 §3.1: always pad, with i bytes of value i (1 <= i <= 16), to a block boundary.
  const auto padValue = static_cast<uint8_t>(blockSize - buffered_);
  std::fill(buffer_.begin() + static_cast<std::ptrdiff_t>(buffered_), buffer_.end(), padValue);
  processBlock(buffer_.data());
  buffered_ = 0;
  // §3.3: append the checksum as a final block. Copied first because processBlock() updates checksum_.
  std::array<uint8_t, blockSize> checksum = checksum_;
  processBlock(checksum.data());
  OPENSSL_cleanse(checksum.data(), checksum.size());

  Digest out;
  std::copy_n(state_.begin(), digestSize, out.begin());
  reset();
  return out;
}

Md2::Digest md2(ByteView data) {
  Md2 h;
  h.update(data);
  return h.finish();
}

}  // namespace simbmc::net::crypto
