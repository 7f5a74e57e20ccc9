#include "bmc/daemon/instance.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>

#include "common/log.hpp"
#include "net/crypto.hpp"

namespace simbmc::daemon {
namespace {

namespace fs = std::filesystem;
using net::Bytes;

// Replaces `path` with `text` (mode 0600).
Result<void> writeSmallFile(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return makeError(Error::Kind::io, "cannot write " + tmp + ": " + std::strerror(errno));
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return makeError(Error::Kind::io, "cannot write " + path + ": " + std::strerror(errno));
  }
  return {};
}

Result<void> prepareStateDir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return makeError(Error::Kind::io, "cannot create state directory " + dir + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return makeError(Error::Kind::io, "state directory " + dir + " is not writable: " + std::strerror(errno));
  }
  return {};
}

Bytes u64le(uint64_t v) {
  Bytes b;
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
  return b;
}

uint64_t readU64le(const Bytes& b) {
  uint64_t v = 0;
  for (size_t i = 0; i < std::min<size_t>(8, b.size()); ++i) v |= static_cast<uint64_t>(b[i]) << (8 * i);
  return v;
}

std::string generatePassword() {
  static constexpr char kAlphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  std::array<uint8_t, 16> r{};
  if (!net::crypto::randomBytes(r)) return {};
  std::string pw;
  for (uint8_t b : r) pw.push_back(kAlphabet[b % (sizeof(kAlphabet) - 1)]);
  return pw;
}

// A random RFC 4122 version-4 GUID, persisted so the BMC keeps its identity across restarts.
Result<std::array<uint8_t, 16>> persistentGuid(storage::StateStore& store, const std::string& key) {
  auto existing = store.get(key);
  if (!existing) return existing.error();
  std::array<uint8_t, 16> g{};
  if (existing->has_value() && (*existing)->size() == 16) {
    std::copy((*existing)->begin(), (*existing)->end(), g.begin());
    return g;
  }
  if (!net::crypto::randomBytes(g)) return makeError(Error::Kind::internal, "no randomness for a GUID");
  g[9] = static_cast<uint8_t>((g[9] & 0x0F) | 0x40);  // version nibble (stored LS byte first)
  g[7] = static_cast<uint8_t>((g[7] & 0x3F) | 0x80);  // variant
  if (auto r = store.put(key, Bytes(g.begin(), g.end())); !r) return r.error();
  return g;
}

// What LAN configuration parameters report: the bound IPv4 address and a stable, locally
// administered MAC derived from the instance name.
bmc::LanIdentity lanIdentityFor(const InstanceConfig& c) {
  bmc::LanIdentity id;
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(c.bind, ec);
  if (!ec && addr.is_v4()) {
    id.ipAddress = addr.to_v4().to_bytes();
    if (id.ipAddress[0] != 127) id.subnetMask = {255, 255, 255, 0};
  }
  uint32_t h = 2166136261u;  // FNV-1a
  for (char ch : c.name) h = (h ^ static_cast<uint8_t>(ch)) * 16777619u;
  id.macAddress = {0x02, 0x53, static_cast<uint8_t>(h >> 24), static_cast<uint8_t>(h >> 16),
                   static_cast<uint8_t>(h >> 8), static_cast<uint8_t>(h)};
  return id;
}

}  // namespace

Result<UserOverride> parseUserOverride(const std::string& text) {
  UserOverride u;
  auto first = text.find(':');
  if (first == std::string::npos || first == 0) {
    return makeError(Error::Kind::invalidArgument, "--user expects NAME:PASSWORD[:PRIVILEGE], got '" + text + "'");
  }
  u.name = text.substr(0, first);
  std::string rest = text.substr(first + 1);
  auto second = rest.rfind(':');
  if (second != std::string::npos) {
    auto p = privilegeFromName(rest.substr(second + 1));
    if (p) {
      u.privilege = *p;
      rest = rest.substr(0, second);
    }
  }
  u.password = rest;
  if (u.name.size() > 16) return makeError(Error::Kind::invalidArgument, "--user: name longer than 16 bytes");
  if (u.password.size() > 20) return makeError(Error::Kind::invalidArgument, "--user: password longer than 20 bytes");
  return u;
}

Result<std::unique_ptr<Instance>> Instance::create(boost::asio::io_context& io, TimerQueue& timers, const Clock& clock,
                                                   InstanceConfig config, const std::vector<UserOverride>& overrides) {
  std::unique_ptr<Instance> self(new Instance(std::move(config), clock));
  InstanceConfig& c = self->config_;
  auto fail = [&](const std::string& what) {
    return makeError(Error::Kind::invalidArgument, "bmc '" + c.name + "': " + what);
  };
  if (auto r = prepareStateDir(c.stateDir); !r) return fail(r.error().message);
  auto box = storage::SecretBox::openKeyFile(c.stateDir + "/secret.key");
  if (!box) return fail(box.error().message);
  auto store = storage::StateStore::open(c.stateDir + "/state.db", *box);
  if (!store) {
    if (store.error().kind == Error::Kind::corrupt) {
      return fail("state database " + c.stateDir + "/state.db is corrupt (" + store.error().message +
                  "); move it aside to start with empty state");
    }
    return fail(store.error().message);
  }
  self->store_ = std::move(*store);

  if (!c.guidsConfigured) {
    auto dev = persistentGuid(*self->store_, "identity.device_guid");
    if (!dev) return fail(dev.error().message);
    c.bmc.identity.deviceGuid = *dev;
    auto sys = persistentGuid(*self->store_, "identity.system_guid");
    if (!sys) return fail(sys.error().message);
    c.bmc.identity.systemGuid = *sys;
  }

  auto poh = self->store_->get("chassis.poh_seconds");
  if (!poh) return fail(poh.error().message);
  self->lastPersistedPoh_ = poh->has_value() ? readU64le(**poh) : 0;
  auto lastPower = self->store_->get("chassis.power_on");
  if (!lastPower) return fail(lastPower.error().message);
  const bool firstStart = !lastPower->has_value();
  sim::PowerConfig power = c.power;
  if (!firstStart) power.initiallyOn = false;  // the restore policy decides below

  c.bmc.allowInsecure = c.allowInsecure;
  c.bmc.sel.path = c.stateDir + "/sel.db";
  c.bmc.sdr.path = c.stateDir + "/sdr.db";
  c.bmc.lanIdentity = lanIdentityFor(c);
  self->exec_ = std::make_unique<sim::ExecRunner>(c.name);
  self->host_ = std::make_unique<sim::HostPowerSim>(timers, power, self->lastPersistedPoh_, self->exec_.get());
  if (auto r = self->createConsole(io, timers); !r) return fail(r.error().message);
  self->bmc_ = std::make_unique<bmc::Bmc>(c.bmc, clock, timers, *self->host_, self->store_.get());
  self->bmc_->users().lockoutPolicy() = c.lockout;
  self->bmc_->setConsole(self->console_.console.get());
  // Blocking sensor reads (hwmon, i2c, file) run on a worker thread; results come back on the io thread.
  self->bmc_->sensors().setPost([&io](std::function<void()> fn) { boost::asio::post(io, std::move(fn)); });
  if (auto r = self->bmc_->start(); !r) return fail(r.error().message);
  if (auto r = self->seedUsers(overrides); !r) return fail(r.error().message);
  if (!firstStart) {
    self->host_->applyRestorePolicy(static_cast<sim::PowerRestorePolicy>(self->bmc_->chassis().powerRestorePolicy()),
                                    self->bmc_->chassis().wasPoweredOn());
  }

  self->lan_ = std::make_unique<net::LanChannel>(self->bmc_->lan(), self->bmc_->users(), self->bmc_->registry(), clock,
                                                 c.bmc.identity.systemGuid);
  self->lan_->setPayloadHandler(&self->bmc_->sol());  // SOL packets; bmc_ outlives lan_
  self->udp_ = std::make_unique<net::UdpServer>(io, *self->lan_);
  if (auto r = self->udp_->open(c.bind, c.port); !r) return fail(r.error().message);
  self->udp_->start();
  if (c.allowInsecure) {
    log::warn("bmc={} lab mode: insecure cipher suites or auth types may be enabled", c.name);
  }
  log::info("listening bmc={} addr={} port={} state={}", c.name, c.bind, self->udp_->localPort(), c.stateDir);
  return self;
}

Instance::~Instance() = default;

// The console exists before the Bmc (which only points at it) and before the restore policy runs,
// so the simulated host's console sees the first power-on.
Result<void> Instance::createConsole(boost::asio::io_context& io, TimerQueue& timers) {
  const InstanceConfig& c = config_;
  sim::ConsoleConfig cc = c.console;
  auto underStateDir = [&](std::string& path) {
    if (!path.empty() && path.front() != '/') path = c.stateDir + "/" + path;
  };
  underStateDir(cc.logFile);
  if (cc.kind == sim::ConsoleConfig::Kind::pty) underStateDir(cc.path);
  auto console = sim::makeConsole(io, timers, *host_, cc, c.name);
  if (!console) return console.error();
  console_ = std::move(*console);
  if (cc.kind == sim::ConsoleConfig::Kind::pty) {
    // For people and scripts: where to attach (the pty number changes at every start).
    const std::string slave = console_.console->endpoint();
    const std::string file = c.stateDir + "/console.pty";
    if (auto r = writeSmallFile(file, slave + "\n"); !r) return r;
    fmt::print("simbmc: bmc '{}': host console pty {}  (also in {})\n", c.name, slave, file);
    std::fflush(stdout);
  }
  return {};
}

Result<void> Instance::seedUsers(const std::vector<UserOverride>& overrides) {
  bmc::UserDb& users = bmc_->users();
  const std::vector<uint8_t> channels{config_.bmc.lan.channel};
  for (const UserConfig& u : config_.users) {
    bool exists = false;
    for (uint8_t id = 2; id <= bmc::UserDb::kMaxUsers; ++id) {
      const bmc::User* x = users.get(id);
      if (x != nullptr && x->name == u.name) exists = true;
    }
    if (exists) continue;  // state from earlier runs (passwords set over IPMI) wins over the config
    std::string password = u.password.value_or("");
    const bool overridden = std::any_of(overrides.begin(), overrides.end(), [&](auto& o) { return o.name == u.name; });
    if (!u.password && !overridden) {
      password = generatePassword();
      fmt::print("simbmc: bmc '{}': generated password for user '{}': {}  (shown once; stored in {})\n", config_.name,
                 u.name, password, config_.stateDir);
      std::fflush(stdout);
    }
    auto id = users.upsert(u.name, password, u.privilege, channels);
    if (!id) return id.error();
    if (!u.enabled) {
      if (auto r = users.update(*id, [](bmc::User& x) { x.enabled = false; }); !r) return r;
    }
  }
  for (const UserOverride& o : overrides) {
    auto id = users.upsert(o.name, o.password, o.privilege, channels);
    if (!id) return id.error();
  }
  return {};
}

void Instance::persistPoh() {
  const uint64_t poh = host_->powerOnSeconds();
  if (poh == lastPersistedPoh_) return;
  if (store_->put("chassis.poh_seconds", u64le(poh))) lastPersistedPoh_ = poh;
}

void Instance::housekeeping() {
  lan_->sessions().expire();
  exec_->reap();
  if (++ticks_ % 60 == 0) persistPoh();
}

void Instance::shutdown() {
  persistPoh();
  const net::ChannelCounters& c = lan_->counters();
  const auto& d = c.dropped;
  using net::Drop;
  log::info("stopped bmc={} received={} replied={} sessions_opened={} login_failures={} retry_hits={} "
            "dropped={} malformed={} not_allowed={} unknown_session={} auth_failed={} replay={} "
            "decrypt_failed={} wrong_peer={} oversized={} payloads_in={} payloads_out={}",
            config_.name, c.received, c.replied, c.sessionsOpened, c.loginFailures, c.cacheHits, c.totalDropped(),
            d[size_t(Drop::malformed)], d[size_t(Drop::notAllowed)], d[size_t(Drop::unknownSession)],
            d[size_t(Drop::authFailed)], d[size_t(Drop::replay)], d[size_t(Drop::decryptFailed)],
            d[size_t(Drop::wrongPeer)], d[size_t(Drop::oversized)], c.payloadsReceived, c.payloadsSent);
  if (udp_) udp_->close();
}

}  // namespace simbmc::daemon
