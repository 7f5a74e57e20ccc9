// HostControl: the port through which the BMC drives the managed host's power (implemented in sim/
// by a simulated power state machine, and later by the QEMU VM link). Single-threaded; transitions
// complete asynchronously on the instance's TimerQueue.
#pragma once

#include <cstdint>
#include <functional>

#include "common/cc.hpp"

namespace simbmc::bmc {

// IPMI v2.0 §28.3 Chassis Control, data byte 1.
enum class ChassisAction : uint8_t {
  powerDown = 0x00,
  powerUp = 0x01,
  powerCycle = 0x02,
  hardReset = 0x03,
  diagnosticInterrupt = 0x04,
  softShutdown = 0x05,
};

// IPMI v2.0 §28.11 Get System Restart Cause, Table 28-11.
enum class RestartCause : uint8_t {
  unknown = 0x00,
  chassisControl = 0x01,
  resetButton = 0x02,
  powerButton = 0x03,
  watchdog = 0x04,
  oem = 0x05,
  alwaysRestore = 0x06,
  previousStateRestore = 0x07,
  pefReset = 0x08,
  pefPowerCycle = 0x09,
  softReset = 0x0A,
  rtcWakeup = 0x0B,
};

enum class PowerEvent { poweredOn, poweredOff, reset, diagnosticInterrupt, softShutdownRequested };

class HostControl {
 public:
  virtual ~HostControl() = default;

  // True while main power is on (also during a hard reset; false during the off phase of a cycle).
  virtual bool powerOn() const = 0;
  // True during the off phase of a power cycle: from the moment power goes off (listeners already
  // see it when they hear poweredOff) until it comes back or the cycle is cancelled. Hosts that
  // cannot tell say false.
  virtual bool powerCycleInProgress() const { return false; }
  // Starts `action`. Cc::ok when accepted; Cc::notSupportedInState (0xD5) when it makes no sense in
  // the current state (soft shutdown or diag interrupt while off); Cc::nodeBusy while a previous
  // transition is still running and cannot be merged.
  virtual Cc request(ChassisAction action, RestartCause cause) = 0;
  virtual RestartCause lastRestartCause() const = 0;
  // True if the last transition to "on" was caused by an IPMI command (Get Chassis Status byte 2 bit 4).
  virtual bool lastPowerOnViaIpmi() const = 0;
  // Total seconds of main power on, across restarts (for Get POH Counter).
  virtual uint64_t powerOnSeconds() const = 0;

  // Observers (SEL, SOL console, ...) learn of transitions when they complete.
  using Listener = std::function<void(PowerEvent)>;
  virtual void addListener(Listener listener) = 0;
};

}  // namespace simbmc::bmc
