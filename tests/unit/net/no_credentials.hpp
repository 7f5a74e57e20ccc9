// A CredentialStore that knows no user, for net/ tests whose sessions are made without a login.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "net/lan_channel.hpp"

namespace simbmc::net::testing {

class NoCredentials final : public CredentialStore {
 public:
  std::optional<UserCredential> findUser(uint8_t, std::string_view) const override { return std::nullopt; }
  bool lockedOut(uint8_t) const override { return false; }
  void recordLoginFailure(uint8_t) override {}
  void recordLoginSuccess(uint8_t) override {}
};

}  // namespace simbmc::net::testing
