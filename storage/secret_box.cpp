#include "storage/secret_box.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>

#include "common/log.hpp"

namespace simbmc::storage {
namespace {

constexpr size_t kKeySize = 32;
constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

// Closes on scope exit; for paths where close() cannot lose written data (reads, error paths).
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Error errnoError(std::string_view what, const std::string& path, int err) {
  return makeError(Error::Kind::io, fmt::format("{} {}: {}", what, path, std::strerror(err)));
}

std::string parentDir(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

Result<void> writeAll(int fd, const uint8_t* data, size_t size, const std::string& path) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return errnoError("write", path, n < 0 ? errno : EIO);
    data += n;
    size -= static_cast<size_t>(n);
  }
  return {};
}

enum class Created { yes, lostRace };

// Writes a fresh random key to a private temporary file and moves it into place without replacing a
// key that another process created meanwhile: a replaced key would make its sealed passwords unreadable.
Result<Created> createKeyFile(const std::string& path) {
  std::array<uint8_t, kKeySize> key{};
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
    return makeError(Error::Kind::internal, "RAND_bytes failed while creating the secret key");
  }
  std::string tmp = path + ".tmp.XXXXXX";
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);  // O_CREAT | O_EXCL, mode 0600
  if (fd < 0) {
    OPENSSL_cleanse(key.data(), key.size());
    return errnoError("create", tmp, errno);
  }
  auto fail = [&](Error e) -> Error {
    ::unlink(tmp.c_str());
    return e;
  };
  auto written = writeAll(fd, key.data(), key.size(), tmp);
  OPENSSL_cleanse(key.data(), key.size());
  if (!written) {
    ::close(fd);
    return fail(written.error());
  }
  if (::fchmod(fd, 0600) != 0 || ::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return fail(errnoError("sync", tmp, err));
  }
  if (::close(fd) != 0) return fail(errnoError("close", tmp, errno));

  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) != 0) {
    if (errno == EEXIST) {
      ::unlink(tmp.c_str());
      return Created::lostRace;
    }
    // Filesystems without RENAME_NOREPLACE: a plain rename, racing only against a second instance
    // started on the same state directory at the same moment.
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) return fail(errnoError("rename", tmp, errno));
    if (::rename(tmp.c_str(), path.c_str()) != 0) return fail(errnoError("rename", tmp, errno));
  }

  std::string dir = parentDir(path);
  Fd dirFd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (dirFd.fd < 0) return errnoError("open directory", dir, errno);
  if (::fsync(dirFd.fd) != 0) return errnoError("fsync directory", dir, errno);
  return Created::yes;
}

}  // namespace

Result<SecretBox> SecretBox::openKeyFile(const std::string& path) {
  // Two rounds: when another process creates the file between our open() and our create, read theirs.
  for (int round = 0; round < 2; ++round) {
    Fd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (fd.fd < 0) {
      if (errno != ENOENT) return errnoError("open key file", path, errno);
      auto created = createKeyFile(path);
      if (!created) return created.error();
      if (*created == Created::yes) log::info("storage: created secret key file path={}", path);
      continue;
    }

    struct stat st {};
    if (::fstat(fd.fd, &st) != 0) return errnoError("stat key file", path, errno);
    if (!S_ISREG(st.st_mode)) {
      return makeError(Error::Kind::invalidArgument, fmt::format("key file {} is not a regular file", path));
    }
    if (st.st_size != static_cast<off_t>(kKeySize)) {
      return makeError(Error::Kind::corrupt,
                       fmt::format("key file {} has {} bytes, expected {}", path, st.st_size, kKeySize));
    }
    if ((st.st_mode & 077) != 0) {
      log::warn("storage: key file path={} had mode {:o}, setting 600", path, st.st_mode & 07777);
      if (::fchmod(fd.fd, 0600) != 0) return errnoError("chmod key file", path, errno);
    }

    // One byte of room detects a file that grew after fstat.
    std::array<uint8_t, kKeySize + 1> buf{};
    size_t got = 0;
    while (got < buf.size()) {
      ssize_t n = ::read(fd.fd, buf.data() + got, buf.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        OPENSSL_cleanse(buf.data(), buf.size());
        return errnoError("read key file", path, errno);
      }
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
    if (got != kKeySize) {
      OPENSSL_cleanse(buf.data(), buf.size());
      return makeError(Error::Kind::corrupt,
                       fmt::format("key file {}: read {} bytes, expected {}", path, got, kKeySize));
    }
    std::array<uint8_t, kKeySize> key{};
    std::memcpy(key.data(), buf.data(), kKeySize);
    OPENSSL_cleanse(buf.data(), buf.size());
    SecretBox box(key);
    OPENSSL_cleanse(key.data(), key.size());
    return box;
  }
  return makeError(Error::Kind::io, fmt::format("key file {} disappeared while it was being created", path));
}

SecretBox::~SecretBox() { OPENSSL_cleanse(key_.data(), key_.size()); }

std::vector<uint8_t> SecretBox::seal(std::span<const uint8_t> plaintext) const {
  if (plaintext.size() > static_cast<size_t>(INT_MAX) - kNonceSize - kTagSize) return {};
  std::vector<uint8_t> out(kNonceSize + plaintext.size() + kTagSize);
  uint8_t* nonce = out.data();
  uint8_t* body = out.data() + kNonceSize;
  uint8_t* tag = body + plaintext.size();
  // A random 96-bit nonce per seal: the number of seals under one key (password changes) stays far
  // below the 2^32 bound for random GCM nonces.
  if (RAND_bytes(nonce, static_cast<int>(kNonceSize)) != 1) return {};

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  int finalLen = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceSize), nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key_.data(), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), body, &len, plaintext.data(), static_cast<int>(plaintext.size())) != 1 ||
      static_cast<size_t>(len) != plaintext.size() || EVP_EncryptFinal_ex(ctx.get(), body + len, &finalLen) != 1 ||
      finalLen != 0 || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize), tag) != 1) {
    return {};
  }
  return out;
}

std::optional<std::vector<uint8_t>> SecretBox::open(std::span<const uint8_t> sealed) const {
  if (sealed.size() < kNonceSize + kTagSize || sealed.size() > static_cast<size_t>(INT_MAX)) return std::nullopt;
  auto nonce = sealed.first(kNonceSize);
  auto body = sealed.subspan(kNonceSize, sealed.size() - kNonceSize - kTagSize);
  // EVP wants a mutable tag buffer.
  std::array<uint8_t, kTagSize> tag{};
  std::memcpy(tag.data(), sealed.data() + sealed.size() - kTagSize, kTagSize);

  std::vector<uint8_t> plain(body.size());
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  int finalLen = 0;
  bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceSize), nullptr) == 1 &&
            EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key_.data(), nonce.data()) == 1 &&
            EVP_DecryptUpdate(ctx.get(), plain.data(), &len, body.data(), static_cast<int>(body.size())) == 1 &&
            static_cast<size_t>(len) == body.size() &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize), tag.data()) == 1 &&
            EVP_DecryptFinal_ex(ctx.get(), plain.data() + len, &finalLen) == 1 && finalLen == 0;
  if (!ok) {
    // Unauthenticated plaintext must not linger in freed memory either.
    OPENSSL_cleanse(plain.data(), plain.size());
    return std::nullopt;
  }
  return plain;
}

}  // namespace simbmc::storage
