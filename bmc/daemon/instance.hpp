// Instance: one simulated server's BMC, composed from its parts: state store, simulated host,
// BMC service, LAN channel and UDP socket. Many instances share one io_context thread and one
// TimerQueue; nothing else is shared.
#pragma once

#include <utility>

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "bmc/bmc.hpp"
#include "bmc/daemon/config.hpp"
#include "net/lan_channel.hpp"
#include "net/udp_server.hpp"
#include "sim/console_factory.hpp"
#include "sim/exec_runner.hpp"
#include "sim/host_power.hpp"
#include "storage/state_store.hpp"

namespace simbmc::daemon {

// A --user NAME:PASSWORD[:PRIVILEGE] override from the command line.
struct UserOverride {
  std::string name, password;
  Privilege privilege = Privilege::administrator;
};
Result<UserOverride> parseUserOverride(const std::string& text);

class Instance {
 public:
  // Opens the state directory, restores state, binds the socket. Errors name the instance and the
  // cause (unwritable state dir, corrupt database, address in use).
  static Result<std::unique_ptr<Instance>> create(boost::asio::io_context& io, TimerQueue& timers,
                                                  const Clock& clock, InstanceConfig config,
                                                  const std::vector<UserOverride>& overrides);
  ~Instance();

  // Once a second: session expiry, reaping exec hooks, persisting the POH counter.
  void housekeeping();
  // Persists what must survive and closes the socket.
  void shutdown();

  const std::string& name() const { return config_.name; }
  uint16_t port() const { return udp_ ? udp_->localPort() : 0; }
  net::LanChannel& lan() { return *lan_; }
  // The host console (never null after create()).
  sim::ConsoleBase& console() { return *console_.console; }

 private:
  Instance(InstanceConfig config, const Clock& clock) : config_(std::move(config)), clock_(clock) {}
  Result<void> seedUsers(const std::vector<UserOverride>& overrides);
  Result<void> createConsole(boost::asio::io_context& io, TimerQueue& timers);
  void persistPoh();

  InstanceConfig config_;
  const Clock& clock_;
  std::unique_ptr<storage::StateStore> store_;
  std::unique_ptr<sim::ExecRunner> exec_;
  std::unique_ptr<sim::HostPowerSim> host_;
  sim::Console console_;  // before bmc_: SOL holds listeners on it until the Bmc is gone
  std::unique_ptr<bmc::Bmc> bmc_;
  std::unique_ptr<net::LanChannel> lan_;
  std::unique_ptr<net::UdpServer> udp_;
  uint64_t lastPersistedPoh_ = 0;
  int ticks_ = 0;
};

}  // namespace simbmc::daemon
