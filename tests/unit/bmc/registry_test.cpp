// CommandRegistry policy (bmc/registry.hpp): what every handler can rely on without repeating it.
// IPMI v2.0 §5.2 Table 5-2 (completion codes), Appendix G (privileges); SECURITY.md (pre-session set).
#include "bmc/registry.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <vector>

namespace simbmc::bmc {
namespace {

constexpr uint8_t kNetFn = netfn::app;
constexpr uint8_t kTwoBytes = 0x10;
constexpr uint8_t kNoData = 0x11;
constexpr uint8_t kThrows = 0x12;
constexpr uint8_t kThrowsInt = 0x13;
constexpr uint8_t kErrorWithData = 0x14;
constexpr uint8_t kPreSession = 0x15;
constexpr uint8_t kAdminOnly = 0x16;
constexpr uint8_t kRaw = 0x17;
constexpr uint8_t kFilledError = 0x18;

// Two bytes; 0xFF in the first is an invalid field value.
struct TwoBytes {
  uint8_t a, b;
  static std::optional<TwoBytes> decode(Reader& r) {
    TwoBytes q{r.u8(), r.u8()};
    if (q.a == 0xFF) return std::nullopt;
    return q;
  }
};

RequestContext inSession(Privilege p) {
  RequestContext ctx;
  ctx.privilege = p;
  ctx.sessionId = 0x1234;
  ctx.userId = 2;
  return ctx;
}

RequestContext outOfSession() {
  RequestContext ctx;
  ctx.outOfSession = true;
  return ctx;
}

class RegistryTest : public ::testing::Test {
 protected:
  RegistryTest() {
    reg.add<TwoBytes>(kNetFn, kTwoBytes, Privilege::user, [this](const RequestContext&, const TwoBytes& q) {
      ++calls;
      return Reply::ok({static_cast<uint8_t>(q.a + q.b)});
    });
    reg.add<NoData>(kNetFn, kNoData, Privilege::user, [this](const RequestContext&, const NoData&) {
      ++calls;
      return Reply::ok({0x01, 0x02, 0x03});
    });
    reg.add<NoData>(kNetFn, kThrows, Privilege::user, [this](const RequestContext&, const NoData&) -> Reply {
      ++calls;
      throw std::runtime_error("boom");
    });
    reg.add<NoData>(kNetFn, kThrowsInt, Privilege::user, [this](const RequestContext&, const NoData&) -> Reply {
      ++calls;
      throw 42;
    });
    reg.add<NoData>(kNetFn, kErrorWithData, Privilege::user, [](const RequestContext&, const NoData&) {
      Reply r(Cc::invalidField);
      r.data() = {0xDE, 0xAD};
      return r;
    });
    reg.add<NoData>(kNetFn, kFilledError, Privilege::user, [](const RequestContext&, const NoData&) {
      Reply r(Cc::parameterOutOfRange);
      r.data() = {0xBE, 0xEF};
      return r;
    });
    reg.add<NoData>(
        kNetFn, kPreSession, Privilege::user,
        [this](const RequestContext& ctx, const NoData&) {
          ++calls;
          seen = ctx;
          return Reply::ok({0x55});
        },
        Access::preSession);
    reg.add<NoData>(kNetFn, kAdminOnly, Privilege::administrator, [this](const RequestContext&, const NoData&) {
      ++calls;
      return Reply::ok();
    });
    reg.addRaw(kNetFn, kRaw, Privilege::operator_, [this](const RequestContext&, Reader& r) -> Reply {
      ++calls;
      Bytes all;
      while (r.remaining() > 0) all.push_back(r.u8());
      return Reply::ok(all);
    });
  }

  std::optional<net::IpmiResponse> run(const RequestContext& ctx, uint8_t cmd, const Bytes& data, uint8_t lun = 0,
                                       uint8_t netfn = kNetFn) {
    return reg.dispatch(ctx, net::IpmiRequest{netfn, lun, cmd, data});
  }

  CommandRegistry reg;
  int calls = 0;
  RequestContext seen;
};

TEST_F(RegistryTest, ADecodedRequestReachesItsHandler) {
  auto r = run(inSession(Privilege::user), kTwoBytes, {0x01, 0x02});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cc, Cc::ok);
  EXPECT_EQ(r->data, (Bytes{0x03}));
  EXPECT_EQ(calls, 1);
}

TEST_F(RegistryTest, UnknownCommandOrNetFnIs0xC1) {
  auto r = run(inSession(Privilege::administrator), 0x7F, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cc, Cc::invalidCommand);
  EXPECT_TRUE(r->data.empty());
  r = run(inSession(Privilege::administrator), kTwoBytes, {0x01, 0x02}, 0, netfn::storage);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cc, Cc::invalidCommand);
  r = run(inSession(Privilege::administrator), kTwoBytes, {0x01, 0x02}, 0, netfn::groupExtension);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cc, Cc::invalidCommand);
  EXPECT_EQ(calls, 0);
}

TEST_F(RegistryTest, NonZeroLunIs0xC1) {
  for (uint8_t lun : {uint8_t{1}, uint8_t{2}, uint8_t{3}}) {
    auto r = run(inSession(Privilege::administrator), kTwoBytes, {0x01, 0x02}, lun);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->cc, Cc::invalidCommand) << "lun " << int{lun};
    EXPECT_TRUE(r->data.empty());
  }
  EXPECT_EQ(calls, 0);
}

TEST_F(RegistryTest, ShortOrLongRequestsAre0xC7) {
  for (const Bytes& data : {Bytes{}, Bytes{0x01}, Bytes{0x01, 0x02, 0x03}, Bytes(40, 0x01)}) {
    auto r = run(inSession(Privilege::user), kTwoBytes, data);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->cc, Cc::invalidLength) << data.size() << " bytes";
    EXPECT_TRUE(r->data.empty());
  }
  auto r = run(inSession(Privilege::user), kNoData, {0x00});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cc, Cc::invalidLength) << "one byte for a command without data";
  EXPECT_EQ(calls, 0);
}

TEST_F(RegistryTest, InvalidFieldIs0xCCButLengthComesFirst) {
  auto r = run(inSession(Privilege::user), kTwoBytes, {0xFF, 0x00});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cc, Cc::invalidField);
  EXPECT_TRUE(r->data.empty());
  r = run(inSession(Privilege::user), kTwoBytes, {0xFF, 0x00, 0x00});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cc, Cc::invalidLength);
  EXPECT_EQ(calls, 0);
}

TEST_F(RegistryTest, PrivilegeBelowTheCommandsIs0xD4) {
  for (Privilege p : {Privilege::callback, Privilege::user, Privilege::operator_, Privilege::none}) {
    auto r = run(inSession(p), kAdminOnly, {});
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->cc, Cc::insufficientPrivilege) << privilegeName(p);
    EXPECT_TRUE(r->data.empty());
  }
  auto r = run(inSession(Privilege::callback), kTwoBytes, {0x01, 0x02});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cc, Cc::insufficientPrivilege);
  EXPECT_EQ(calls, 0);
  r = run(inSession(Privilege::administrator), kAdminOnly, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cc, Cc::ok);
  r = run(inSession(Privilege::oem), kAdminOnly, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cc, Cc::ok);
  EXPECT_EQ(calls, 2);
}

TEST_F(RegistryTest, PrivilegeIsCheckedBeforeTheRequestIsDecoded) {
  auto r = run(inSession(Privilege::user), kAdminOnly, {0x01, 0x02, 0x03});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cc, Cc::insufficientPrivilege) << "a user must not learn the request layout of an admin command";
}

TEST_F(RegistryTest, AHandlerThatThrowsIs0xFF) {
  auto r = run(inSession(Privilege::user), kThrows, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cc, Cc::unspecified);
  EXPECT_TRUE(r->data.empty());
  EXPECT_EQ(calls, 1);
  // The registry keeps working afterwards.
  r = run(inSession(Privilege::user), kNoData, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cc, Cc::ok);
}

TEST_F(RegistryTest, AHandlerThatThrowsAnythingIs0xFF) {
  std::optional<net::IpmiResponse> r;
  EXPECT_NO_THROW(r = run(inSession(Privilege::user), kThrowsInt, {})) << "the dispatcher owns the catch-all";
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cc, Cc::unspecified);
  EXPECT_TRUE(r->data.empty());
}

TEST_F(RegistryTest, ErrorRepliesNeverCarryData) {
  auto r = run(inSession(Privilege::user), kErrorWithData, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cc, Cc::invalidField);
  EXPECT_TRUE(r->data.empty()) << "an error completion code carries no data (Reply::withData)";
  r = run(inSession(Privilege::user), kFilledError, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cc, Cc::parameterOutOfRange);
  EXPECT_TRUE(r->data.empty()) << "an error completion code carries no data (Reply::data() filled)";
}

TEST_F(RegistryTest, OutOfSessionOnlyPreSessionCommandsAreAnswered) {
  auto r = run(outOfSession(), kPreSession, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cc, Cc::ok);
  EXPECT_EQ(r->data, (Bytes{0x55}));
  EXPECT_TRUE(seen.outOfSession);
  EXPECT_EQ(calls, 1);

  for (uint8_t cmd : {kTwoBytes, kNoData, kAdminOnly, kRaw, uint8_t{0x7F}}) {
    EXPECT_FALSE(run(outOfSession(), cmd, {0x01, 0x02}).has_value()) << "cmd 0x" << std::hex << int{cmd};
  }
  EXPECT_FALSE(run(outOfSession(), kTwoBytes, {0x01, 0x02}, 0, netfn::chassis).has_value());
  EXPECT_EQ(calls, 1);
}

TEST_F(RegistryTest, PreSessionCommandsSkipThePrivilegeCheckOutOfSessionOnly) {
  // Registered at User: reachable before a session exists (privilege none) ...
  auto r = run(outOfSession(), kPreSession, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cc, Cc::ok);
  // ... but inside a session the session's privilege applies.
  r = run(inSession(Privilege::callback), kPreSession, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cc, Cc::insufficientPrivilege);
  r = run(inSession(Privilege::user), kPreSession, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cc, Cc::ok);
  EXPECT_FALSE(seen.outOfSession);
}

TEST_F(RegistryTest, PreSessionCommandsStillGetLengthChecksOutOfSession) {
  auto r = run(outOfSession(), kPreSession, {0x00});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cc, Cc::invalidLength);
  r = run(outOfSession(), kPreSession, {}, 1);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cc, Cc::invalidCommand);
  EXPECT_EQ(calls, 0);
}

TEST_F(RegistryTest, RawHandlersReadTheRequestThemselves) {
  auto r = run(inSession(Privilege::operator_), kRaw, {0x09, 0x08, 0x07});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cc, Cc::ok);
  EXPECT_EQ(r->data, (Bytes{0x09, 0x08, 0x07}));
  r = run(inSession(Privilege::user), kRaw, {0x09});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cc, Cc::insufficientPrivilege);
}

TEST_F(RegistryTest, ContainsAndPrivilegeOf) {
  EXPECT_TRUE(reg.contains(kNetFn, kTwoBytes));
  EXPECT_FALSE(reg.contains(kNetFn, 0x7F));
  EXPECT_FALSE(reg.contains(netfn::chassis, kTwoBytes));
  EXPECT_EQ(reg.privilegeOf(kNetFn, kAdminOnly), Privilege::administrator);
  EXPECT_EQ(reg.privilegeOf(kNetFn, kRaw), Privilege::operator_);
  EXPECT_EQ(reg.privilegeOf(kNetFn, 0x7F), std::nullopt);
}

TEST_F(RegistryTest, ReRegisteringReplacesTheEntry) {
  reg.add<NoData>(kNetFn, kNoData, Privilege::administrator,
                  [](const RequestContext&, const NoData&) { return Reply::ok({0x99}); });
  EXPECT_EQ(reg.privilegeOf(kNetFn, kNoData), Privilege::administrator);
  auto r = run(inSession(Privilege::user), kNoData, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cc, Cc::insufficientPrivilege);
  r = run(inSession(Privilege::administrator), kNoData, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->data, (Bytes{0x99}));
}

TEST_F(RegistryTest, SameCommandNumberInDifferentNetFnsIsDistinct) {
  reg.add<NoData>(netfn::chassis, kNoData, Privilege::user,
                  [](const RequestContext&, const NoData&) { return Reply::ok({0xC4}); });
  auto r = run(inSession(Privilege::user), kNoData, {}, 0, netfn::chassis);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->data, (Bytes{0xC4}));
  r = run(inSession(Privilege::user), kNoData, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->data, (Bytes{0x01, 0x02, 0x03}));
}

TEST_F(RegistryTest, AWrapperAnswersItsRequestsAndPassesTheRestOnWithTheReaderUntouched) {
  // Answers requests whose first byte is 0x42 itself; the rest reach the original handler whole.
  ASSERT_TRUE(reg.wrap(kNetFn, kTwoBytes, [](const RequestContext& ctx, Reader& r, const auto& next) -> Reply {
    Reader peek = r;
    if (peek.u8() != 0x42) return next(ctx, r);
    r.skip(2);
    if (!r.done()) return Cc::invalidLength;
    return Reply::ok({0x42});
  }));
  auto mine = run(inSession(Privilege::user), kTwoBytes, {0x42, 0x00});
  ASSERT_TRUE(mine.has_value());
  EXPECT_EQ(mine->data, (Bytes{0x42}));
  EXPECT_EQ(calls, 0);
  auto theirs = run(inSession(Privilege::user), kTwoBytes, {0x01, 0x02});
  ASSERT_TRUE(theirs.has_value());
  EXPECT_EQ(theirs->data, (Bytes{0x03}));
  EXPECT_EQ(calls, 1);
  // The original's policy still applies to what it is passed: length, field, privilege.
  EXPECT_EQ(run(inSession(Privilege::user), kTwoBytes, {0x01})->cc, Cc::invalidLength);
  EXPECT_EQ(run(inSession(Privilege::user), kTwoBytes, {0xFF, 0x00})->cc, Cc::invalidField);
  EXPECT_EQ(run(inSession(Privilege::callback), kTwoBytes, {0x42, 0x00})->cc, Cc::insufficientPrivilege);
  EXPECT_EQ(reg.privilegeOf(kNetFn, kTwoBytes), Privilege::user);
  // Nothing to wrap: nothing registered.
  EXPECT_FALSE(reg.wrap(kNetFn, 0x7F, [](const RequestContext&, Reader&, const auto&) { return Reply::ok(); }));
  EXPECT_FALSE(reg.contains(kNetFn, 0x7F));
}

}  // namespace
}  // namespace simbmc::bmc
