// Bounds-checked byte codec for IPMI wire data (after libpldm's msgbuf).
//
// Reader is a cursor over borrowed bytes with a sticky error: any read past the end sets the error,
// returns zero, and every later read also fails, so a parser reads all its fields and checks ok()
// (or done(): ok and every byte consumed) once. Writer appends to a caller-owned vector.
// Never cast a struct over a buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace simbmc::net {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

class Reader {
 public:
  explicit Reader(ByteView data) : data_(data) {}

  uint8_t u8();
  uint16_t u16le();
  uint32_t u32le();
  uint16_t u16be();
  uint32_t u32be();
  // The next n bytes, or an empty span (and the error set) if fewer remain.
  ByteView bytes(size_t n);
  void skip(size_t n) { (void)bytes(n); }
  // Everything not yet read; the reader is then at the end.
  ByteView rest();

  size_t remaining() const { return failed_ ? 0 : data_.size() - pos_; }
  size_t position() const { return pos_; }
  bool ok() const { return !failed_; }
  // ok() and every byte consumed: the strict-length check of a request.
  bool done() const { return !failed_ && pos_ == data_.size(); }

 private:
  bool take(size_t n);
  ByteView data_;
  size_t pos_ = 0;
  bool failed_ = false;
};

class Writer {
 public:
  // An empty buffer gets room for a typical IPMI message at once instead of growing 1, 2, 4, 8 ...
  explicit Writer(Bytes& out) : out_(out) {
    if (out_.capacity() == 0) out_.reserve(kInitialCapacity);
  }
  Writer& u8(uint8_t v) { out_.push_back(v); return *this; }
  Writer& u16le(uint16_t v);
  Writer& u32le(uint32_t v);
  Writer& u16be(uint16_t v);
  Writer& u32be(uint32_t v);
  Writer& bytes(ByteView v) { out_.insert(out_.end(), v.begin(), v.end()); return *this; }
  Writer& zeros(size_t n) { out_.insert(out_.end(), n, 0); return *this; }
  // Copies s, truncated or zero-padded to exactly n bytes.
  Writer& fixedString(std::string_view s, size_t n);
  size_t size() const { return out_.size(); }

 private:
  static constexpr size_t kInitialCapacity = 64;
  Bytes& out_;
};

// IPMB/IPMI message checksum: two's complement of the byte sum (IPMI v2.0 §13.8).
uint8_t checksum(ByteView data);

}  // namespace simbmc::net
