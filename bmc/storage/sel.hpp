// SelService: the SEL device of the Storage NetFn (IPMI v2.0 §31, commands 0x40-0x49, 0x5C, 0x5D)
// over a SelStore, and the EventSink every event generator (sensors, watchdog, chassis, Platform
// Event Message) logs through.
//
// - Records are §32's 16 bytes. Add SEL Entry fills in the record ID, and the timestamp for system
//   event records (0x02) and timestamped OEM records (0xC0-0xDF) (§31.6); non-timestamped OEM
//   records (0xE0-0xFF) are stored as given; other (reserved) types are refused with 0x80.
// - Reservations (§31.4) are volatile: Reserve SEL cancels the previous one, and any add (including
//   logEvent), delete or clear cancels the current one. Delete, Clear, Partial Add and Get SEL Entry
//   at an offset other than 0 need the current reservation (0xC5 otherwise).
// - Clear SEL erases at once: the initiate reply already says "erase completed" (§31.9).
// - SEL time (§31.10-31.11) is the injected Clock plus an offset set by Set SEL Time; the offset
//   and the UTC offset (§31.11a-b) are persisted in the SEL's database.
// - Get SEL Info's most recent addition and erase timestamps (§31.2) never repeat or go backwards,
//   across restarts too (SelStore's rule: the SEL time, or the previous value + 1), so a client that
//   caches the SEL by them sees every add, delete, clear and circular overwrite; only Set SEL Time
//   lets them follow a clock set back. Records keep the SEL time at which they were logged.
// - Every write is committed before its reply is built. Storage errors: 0xC4 when full (capacity
//   with policy "stop", or the disk), 0xC0 when the file is locked, 0xFF otherwise; reads keep
//   working while writes fail.
// Single-threaded (the io_context thread). `clock` must outlive this.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "bmc/event_sink.hpp"
#include "bmc/registry.hpp"
#include "common/clock.hpp"
#include "common/result.hpp"
#include "storage/sel_store.hpp"

namespace simbmc::bmc {

// [bmc.sel] in the config: capacity in entries (16..65534) and what happens when it is reached.
struct SelConfig {
  std::string path = ":memory:";  // state-dir/sel.db in the daemon
  uint32_t capacity = storage::SelLimits::kDefaultCapacity;
  storage::SelOverflowPolicy policy = storage::SelOverflowPolicy::stop;
};

class SelService final : public EventSink {
 public:
  SelService(const Clock& clock, SelConfig config);
  ~SelService() override;
  SelService(const SelService&) = delete;
  SelService& operator=(const SelService&) = delete;

  // Opens (creating) the SEL database at `dbPath` (":memory:" for tests) and loads the persisted
  // time offsets. A corrupt file fails with Error::Kind::corrupt and a message naming it.
  Result<void> open(const std::string& dbPath);
  void registerCommands(CommandRegistry& registry);

  // EventSink: adds a system event record (type 0x02) stamped with the SEL time.
  bool logEvent(const SystemEvent& event) override;

  // Seconds since the epoch as the SEL reports them (Get SEL Time).
  uint32_t selTime() const;
  // The store, for the control plane and tests; null before open() succeeded.
  storage::SelStore* store();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace simbmc::bmc
