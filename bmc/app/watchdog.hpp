// Watchdog: the BMC watchdog timer (IPMI v2.0 §27): Reset Watchdog Timer (App 0x22), Set Watchdog
// Timer (0x24) and Get Watchdog Timer (0x25), a countdown in 100 ms units on the instance's
// TimerQueue, the pre-timeout interrupt, the timeout action applied through HostControl, the timer
// use expiration flags and "Watchdog 2" sensor events (sensor type 0x23, Table 42-3) through an
// EventSink.
//
// Behaviour (the spec's text where it has one, else what real BMCs and the Linux ipmi_watchdog
// driver expect):
// - Set stops a running timer unless the "don't stop" bit is set; with it, a running timer restarts
//   from the new initial countdown and keeps running, a stopped timer stays stopped (§27.6, byte 1
//   bit 6). Every Set clears a pending pre-timeout indication (Get Message Flags bit 3).
// - Reset (§27.5) starts or restarts the countdown from the initial value; before any Set since the
//   BMC started or the host last powered on, reset or powered off it answers 0x80 "attempt to start
//   un-initialized watchdog" (the spec's recommendation).
// - A host power-on, power-off or reset stops the timer and returns it to "un-initialized" (a BIOS
//   or OS arms it again after boot); the expiration flags survive (they are cleared by Set's clear
//   mask or a BMC restart only).
// - On expiry the timer stops with a present countdown of 0, the flag of its timer use is set, the
//   event is logged unless "don't log" is set, then the action runs: hard reset, power down or power
//   cycle with RestartCause::watchdog. An action the host cannot take in its state (reset or cycle
//   while off) is logged as offset 0 "timer expired, status only".
// - Pre-timeout: with an interrupt type set, at (expiry - interval) the BMC sets the watchdog
//   pre-timeout flag in the message flags, asks the host for a diagnostic interrupt when the type is
//   NMI, and logs offset 8 "timer interrupt". An interval not shorter than the countdown fires at
//   the start.
// - An initial countdown of 0 expires at once when the timer is started (§27.6).
// - The timer is volatile: a BMC restart starts with it stopped and un-initialized, its expiration
//   flags clear. Its sensor's event enables are settings: Set Sensor Event Enable writes them to the
//   StateStore before the reply (as the SensorService does for the configured sensors) and load()
//   restores them, whatever number the sensor has.
// - Its "Watchdog 2" sensor (attachSensor): the events carry its number; Get Sensor Reading and Get
//   Sensor Event Status on it return the offset of the last watchdog event as the one asserted
//   discrete state (00h timer expired, 01h hard reset, 02h power down, 03h power cycle, 08h timer
//   interrupt; none before the first event); Set Sensor Event Enable turns its event messages
//   (all events, scanning) off and on, which gates the SEL entries like "don't log" does. Unless the
//   config declares a sensor of type 23h (which then stands for it), the BMC generates a compact SDR
//   for it (sensorRecord), owned by the BMC (20h, LUN 0) with the BMC's entity (06h system management
//   module, instance 1), so `ipmitool sdr elist`, `sel elist`, `ipmi-sensors` and `ipmi-sel` name it.
//
// Single-threaded (the io_context thread). `timers`, `host` and `messageFlags` (the Bmc's App state
// byte) must outlive this object; its destructor cancels its timers and detaches its host listener.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bmc/event_sink.hpp"
#include "bmc/host_control.hpp"
#include "bmc/registry.hpp"
#include "common/result.hpp"
#include "common/timer_queue.hpp"
#include "storage/state_store.hpp"

namespace simbmc::bmc {

// §27.6 Set Watchdog Timer request, byte 1 bits [2:0].
namespace timerUse {
inline constexpr uint8_t reserved = 0;  // accepted: ipmitool's `mc watchdog set` sends it by default
inline constexpr uint8_t biosFrb2 = 1;
inline constexpr uint8_t biosPost = 2;
inline constexpr uint8_t osLoad = 3;
inline constexpr uint8_t smsOs = 4;
inline constexpr uint8_t oem = 5;
}  // namespace timerUse

// §27.6 byte 2 bits [2:0].
enum class TimeoutAction : uint8_t { none = 0, hardReset = 1, powerDown = 2, powerCycle = 3 };
// §27.6 byte 2 bits [6:4].
enum class PreTimeoutInterrupt : uint8_t { none = 0, smi = 1, nmi = 2, messaging = 3 };

// The decoded Set Watchdog Timer request (§27.6).
struct WatchdogSettings {
  uint8_t timerUse = 0;
  bool dontLog = false;
  bool dontStop = false;
  PreTimeoutInterrupt preTimeoutInterrupt = PreTimeoutInterrupt::none;
  TimeoutAction timeoutAction = TimeoutAction::none;
  uint8_t preTimeoutSeconds = 0;
  uint8_t expirationFlagsClear = 0;  // bits 1..5, one per timer use
  uint16_t initialCountdown = 0;     // 100 ms units
};

struct WatchdogConfig {
  // The "Watchdog 2" sensor: the number it gets when no configured sensor has it, and the ID string
  // of its SDR (1..16 characters).
  uint8_t sensorNumber = 0x81;
  std::string sensorName = "BMC Watchdog";
};

// Which number the watchdog's sensor takes among `served` (the sensors the Sensor/Event NetFn
// already serves): the first of type 23h (the config declared the watchdog's sensor: no record is
// generated), else `preferred` or the next free number after it. nullopt when all 255 are taken.
struct WatchdogSensorChoice {
  uint8_t number = 0;
  bool generateRecord = true;
};
std::optional<WatchdogSensorChoice> chooseWatchdogSensor(const std::vector<std::pair<uint8_t, uint8_t>>& served,
                                                         uint8_t preferred);

// Command-specific completion code of Reset Watchdog Timer (§27.5).
inline constexpr Cc kWatchdogUninitialized{0x80};
// Get Message Flags data byte 1 bit 3 (§22.4): watchdog pre-timeout interrupt occurred.
inline constexpr uint8_t kMessageFlagWatchdogPreTimeout = 0x08;
// Table 42-3, sensor type 0x23 "Watchdog 2".
inline constexpr uint8_t kSensorTypeWatchdog2 = 0x23;

class Watchdog {
 public:
  // `store` (may be null: nothing persists) keeps the sensor's event enables; it must outlive this.
  Watchdog(TimerQueue& timers, HostControl& host, uint8_t& messageFlags, WatchdogConfig config = {},
           storage::StateStore* store = nullptr);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Where events go (the SEL); null: events are not logged. The sink must outlive this object or be
  // replaced first.
  void setEventSink(EventSink* sink) { events_ = sink; }
  // Restores the sensor's persisted event enables (a malformed value is ignored with a warning);
  // an error only when the store cannot be read.
  Result<void> load();
  // App 0x22 Reset (Operator), 0x24 Set (Operator), 0x25 Get (User): Appendix G.
  void registerCommands(CommandRegistry& registry);

  // The commands, for the handlers, the control plane and tests.
  Cc set(const WatchdogSettings& settings);
  Cc reset();
  // The 8 data bytes of the Get Watchdog Timer response (§27.7).
  Bytes get() const;

  // Makes `number` the watchdog's sensor: its events carry it, and the Sensor/Event NetFn's sensor
  // commands (Get Sensor Reading, Get Sensor Event Status, Get/Set Sensor Event Enable, Re-arm
  // Sensor Events, Get/Set Sensor Type, and the threshold commands, 0xCD) are answered here for it,
  // in front of what is registered already (registered here, 0xCB for other numbers, when nothing
  // is). Call after the sensor commands are registered.
  void attachSensor(CommandRegistry& registry, uint8_t number);
  uint8_t sensorNumber() const { return config_.sensorNumber; }
  // The sensor's compact SDR (§43.2 Table 43-2), record ID bytes 0 for the repository to assign.
  Bytes sensorRecord() const;
  // The discrete state of the sensor: the bit of the last event's offset (0 before any).
  uint16_t sensorStates() const { return sensorStates_; }
  bool sensorEventsEnabled() const { return sensorEvents_ && sensorScanning_; }

  bool running() const { return running_; }
  bool initialized() const { return initialized_; }
  // Present countdown in 100 ms units, from the TimerQueue's clock.
  uint16_t presentCountdown() const;
  uint8_t expirationFlags() const { return expirationFlags_; }
  const WatchdogSettings& settings() const { return settings_; }

 private:
  void start();
  void stop();
  void cancelTimers();
  void expire();
  void preTimeout();
  void onPowerEvent(PowerEvent event);
  // Sets the sensor state to `offset` and logs it unless "don't log" or the sensor's event enables
  // say otherwise.
  void recordEvent(uint8_t offset);
  void logEvent(uint8_t offset) const;
  Reply sensorCommand(uint8_t cmd, ByteView data);

  TimerQueue& timers_;
  HostControl& host_;
  uint8_t& messageFlags_;
  WatchdogConfig config_;
  storage::StateStore* store_;
  EventSink* events_ = nullptr;
  WatchdogSettings settings_;
  bool initialized_ = false;
  bool running_ = false;
  SteadyTime deadline_{};
  uint16_t stoppedCountdown_ = 0;  // the present countdown while stopped
  uint8_t expirationFlags_ = 0;
  uint16_t sensorStates_ = 0;
  bool sensorEvents_ = true;    // Set Sensor Event Enable byte 2 [7]
  bool sensorScanning_ = true;  // byte 2 [6]
  TimerQueue::Id expiryTimer_ = 0;
  TimerQueue::Id preTimeoutTimer_ = 0;
  // HostControl has no removeListener: the listener holds a weak reference and goes inert with us.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace simbmc::bmc
