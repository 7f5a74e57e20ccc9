// SecretBox: authenticated encryption of small secrets (user passwords) at rest.
//
// Passwords must be recoverable (RAKP needs the key), so they cannot be hashed; they are sealed with
// AES-256-GCM under a 32-byte key kept in a separate file (`secret.key`, mode 0600) outside the
// database, so a copy of the database alone does not reveal them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace simbmc::storage {

class SecretBox {
 public:
  // Loads the key from `path`, creating it (random, mode 0600, fsync'd) when absent.
  // Fails on a key file of the wrong size or unreadable path.
  static Result<SecretBox> openKeyFile(const std::string& path);
  // For tests.
  explicit SecretBox(const std::array<uint8_t, 32>& key) : key_(key) {}
  ~SecretBox();
  SecretBox(const SecretBox&) = default;
  SecretBox& operator=(const SecretBox&) = default;

  // nonce(12) | ciphertext | tag(16). Empty on an OpenSSL failure.
  std::vector<uint8_t> seal(std::span<const uint8_t> plaintext) const;
  // nullopt when the tag does not verify (wrong key or tampered data).
  std::optional<std::vector<uint8_t>> open(std::span<const uint8_t> sealed) const;

 private:
  std::array<uint8_t, 32> key_{};
};

}  // namespace simbmc::storage
