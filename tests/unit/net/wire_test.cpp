#include <gtest/gtest.h>

#include "net/wire.hpp"

namespace simbmc::net {
namespace {

TEST(Reader, ReadsLittleAndBigEndian) {
  const Bytes b{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
  Reader r(b);
  EXPECT_EQ(r.u8(), 0x01);
  EXPECT_EQ(r.u16le(), 0x0302);
  EXPECT_EQ(r.u32be(), 0x04050607u);
  EXPECT_TRUE(r.done());
}

TEST(Reader, ShortReadIsStickyAndReturnsZero) {
  const Bytes b{0xAA, 0xBB, 0xCC};
  Reader r(b);
  EXPECT_EQ(r.u16le(), 0xBBAA);
  EXPECT_EQ(r.u16le(), 0);  // one byte left: fails
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.u8(), 0);  // sticky: even a 1-byte read now fails
  EXPECT_TRUE(r.bytes(1).empty());
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_FALSE(r.done());
}

TEST(Reader, DoneRequiresEveryByteConsumed) {
  const Bytes b{1, 2};
  Reader r(b);
  r.u8();
  EXPECT_TRUE(r.ok());
  EXPECT_FALSE(r.done());
  EXPECT_EQ(r.rest().size(), 1u);
  EXPECT_TRUE(r.done());
}

TEST(Reader, HugeLengthDoesNotOverflow) {
  const Bytes b{1, 2, 3};
  Reader r(b);
  r.u8();
  EXPECT_TRUE(r.bytes(SIZE_MAX).empty());
  EXPECT_FALSE(r.ok());
}

TEST(Writer, WritesFieldsAndFixedStrings) {
  Bytes out;
  Writer w(out);
  w.u8(0x11).u16le(0x2233).u32le(0x44556677).u16be(0x8899).fixedString("ab", 4).fixedString("abcdef", 3);
  EXPECT_EQ(out, (Bytes{0x11, 0x33, 0x22, 0x77, 0x66, 0x55, 0x44, 0x88, 0x99, 'a', 'b', 0, 0, 'a', 'b', 'c'}));
}

TEST(Checksum, MakesSumZero) {
  const Bytes b{0x20, 0x18};
  EXPECT_EQ(checksum(b), 0xC8);
  const Bytes empty;
  EXPECT_EQ(checksum(empty), 0);
}

}  // namespace
}  // namespace simbmc::net
