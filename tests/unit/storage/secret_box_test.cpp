#include "storage/secret_box.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "unit/storage/test_files.hpp"

namespace simbmc::storage {
namespace {

using testing::fileMode;
using testing::readFile;
using testing::ScopedUmask;
using testing::TempDir;
using testing::writeFile;

constexpr size_t kOverhead = 12 + 16;  // nonce + tag

std::array<uint8_t, 32> keyOf(uint8_t fill) {
  std::array<uint8_t, 32> key{};
  key.fill(fill);
  return key;
}

std::vector<uint8_t> bytes(std::string_view s) { return std::vector<uint8_t>(s.begin(), s.end()); }

TEST(SecretBox, SealOpenRoundTrip) {
  SecretBox box(keyOf(0x11));
  for (const auto& plain : {bytes(""), bytes("x"), bytes("admin-password-20byt")}) {
    auto sealed = box.seal(plain);
    ASSERT_EQ(sealed.size(), plain.size() + kOverhead);
    auto opened = box.open(sealed);
    ASSERT_TRUE(opened.has_value());
    EXPECT_EQ(*opened, plain);
  }
}

TEST(SecretBox, EachSealUsesAFreshNonce) {
  SecretBox box(keyOf(0x11));
  auto a = box.seal(bytes("same"));
  auto b = box.seal(bytes("same"));
  EXPECT_NE(std::vector<uint8_t>(a.begin(), a.begin() + 12), std::vector<uint8_t>(b.begin(), b.begin() + 12));
  EXPECT_NE(a, b);
}

TEST(SecretBox, AnyFlippedByteIsRejected) {
  SecretBox box(keyOf(0x22));
  const auto sealed = box.seal(bytes("s3cret"));
  // Nonce, ciphertext and tag are all covered.
  for (size_t i = 0; i < sealed.size(); ++i) {
    auto tampered = sealed;
    tampered[i] ^= 0x01;
    EXPECT_FALSE(box.open(tampered).has_value()) << "byte " << i;
  }
}

TEST(SecretBox, TruncatedOrShortInputIsRejected) {
  SecretBox box(keyOf(0x22));
  auto sealed = box.seal(bytes("s3cret"));
  EXPECT_FALSE(box.open(std::span<const uint8_t>(sealed).first(sealed.size() - 1)).has_value());
  EXPECT_FALSE(box.open(std::span<const uint8_t>(sealed).first(kOverhead - 1)).has_value());
  EXPECT_FALSE(box.open({}).has_value());
  auto longer = sealed;
  longer.push_back(0);
  EXPECT_FALSE(box.open(longer).has_value());
}

TEST(SecretBox, WrongKeyIsRejected) {
  SecretBox a(keyOf(0x01));
  auto key = keyOf(0x01);
  key[31] ^= 0x80;
  SecretBox b(key);
  EXPECT_FALSE(b.open(a.seal(bytes("s3cret"))).has_value());
  EXPECT_FALSE(b.open(a.seal(bytes(""))).has_value());
}

TEST(SecretBox, CopiesShareTheKey) {
  SecretBox a(keyOf(0x33));
  SecretBox b = a;
  EXPECT_EQ(b.open(a.seal(bytes("pw"))), std::optional(bytes("pw")));
}

TEST(SecretBoxKeyFile, CreatedWithMode0600AndReloadedToTheSameKey) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("secret.key");
  ScopedUmask umask(0);
  auto first = SecretBox::openKeyFile(path);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(fileMode(path), 0600);
  const auto key = readFile(path);
  EXPECT_EQ(key.size(), 32u);
  EXPECT_NE(key, std::vector<uint8_t>(32, 0));

  auto second = SecretBox::openKeyFile(path);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(readFile(path), key);  // loading does not rewrite it
  EXPECT_EQ(second->open(first->seal(bytes("pw"))), std::optional(bytes("pw")));

  // Only the key file is left behind: the temporary file was renamed into place.
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST(SecretBoxKeyFile, DifferentFilesGiveDifferentKeys) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  auto a = SecretBox::openKeyFile(dir.file("a.key"));
  auto b = SecretBox::openKeyFile(dir.file("b.key"));
  ASSERT_TRUE(a && b);
  EXPECT_NE(readFile(dir.file("a.key")), readFile(dir.file("b.key")));
  EXPECT_FALSE(b->open(a->seal(bytes("pw"))).has_value());
}

TEST(SecretBoxKeyFile, WrongSizeIsAnError) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  for (size_t size : {size_t{0}, size_t{31}, size_t{33}, size_t{64}}) {
    const std::string path = dir.file("secret.key");
    const std::vector<uint8_t> content(size, 0x5A);
    writeFile(path, content);
    auto box = SecretBox::openKeyFile(path);
    ASSERT_FALSE(box) << "size " << size;
    EXPECT_EQ(box.error().kind, Error::Kind::corrupt);
    EXPECT_NE(box.error().message.find(path), std::string::npos) << box.error().message;
    EXPECT_EQ(readFile(path), content);  // never replaced: that would orphan every sealed password
  }
}

TEST(SecretBoxKeyFile, WideModeIsTightened) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("secret.key");
  writeFile(path, std::vector<uint8_t>(32, 0x42));
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto box = SecretBox::openKeyFile(path);
  ASSERT_TRUE(box) << box.error().message;
  EXPECT_EQ(fileMode(path), 0600);
  SecretBox expected(keyOf(0x42));
  EXPECT_EQ(expected.open(box->seal(bytes("pw"))), std::optional(bytes("pw")));
}

TEST(SecretBoxKeyFile, UnusablePathIsAnError) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  auto missingDir = SecretBox::openKeyFile(dir.file("missing/secret.key"));
  ASSERT_FALSE(missingDir);
  EXPECT_EQ(missingDir.error().kind, Error::Kind::io);
  auto isDir = SecretBox::openKeyFile(dir.path());
  EXPECT_FALSE(isDir);
}

}  // namespace
}  // namespace simbmc::storage
