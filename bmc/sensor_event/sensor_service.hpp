// SensorService: the Sensor/Event NetFn (0x04, IPMI v2.0 §29-30, §35) over the sensors of one BMC.
//
// - Owns the sensors::SensorHub that polls the configured sensors; handlers answer from its cache.
// - Event commands: Set/Get Event Receiver (§30.4-30.5), Platform Event Message (§30.3, logged
//   through the EventSink). Sensor commands: Get Sensor Reading Factors, Set/Get Sensor Hysteresis,
//   Set/Get Sensor Thresholds, Set/Get Sensor Event Enable, Re-arm Sensor Events, Get Sensor Event
//   Status, Get Sensor Reading, Set/Get Sensor Type (§35.5-35.16). Unknown sensor number -> 0xCB;
//   threshold-only commands on a discrete sensor -> 0xCD. Privileges from Appendix G.
// - Threshold crossings and discrete state changes go to the EventSink as system events from the
//   BMC (generator 0x20), unless the event receiver is disabled (address 0xFF).
// - Settings clients change (thresholds, hysteresis, event enables, sensor type, event receiver)
//   are written to the StateStore before the reply (keys sensor.<n>.thresholds / .hysteresis /
//   .events / .type, sensor.event_receiver) and restored by load(). Thresholds and hysteresis are
//   stored with the linearization they were set under and ignored (with a warning) if the config
//   changed it since. A threshold, hysteresis or sensor type change is also passed to the SDR
//   listener, so the SDR repository carries the new values before the reply.
// Single-threaded (the io thread); `timers`, `store` (may be null: nothing persists) and the event
// sink must outlive this.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "bmc/event_sink.hpp"
#include "bmc/registry.hpp"
#include "common/result.hpp"
#include "common/timer_queue.hpp"
#include "sensors/hub.hpp"
#include "sensors/sensor.hpp"
#include "sensors/source.hpp"
#include "storage/state_store.hpp"

namespace simbmc::bmc {

class SensorService {
 public:
  // A thread-safe "run fn on the io thread" (boost::asio::post in the daemon).
  using Post = std::function<void(std::function<void()>)>;

  SensorService(std::vector<sensors::SensorConfig> sensors, TimerQueue& timers, storage::StateStore* store);
  ~SensorService();
  SensorService(const SensorService&) = delete;
  SensorService& operator=(const SensorService&) = delete;

  // Before load(): blocking reads (hwmon, i2c, file) run on a worker thread that hands results
  // back through `post`. Without it they run inline (unit tests).
  void setPost(Post post);
  // Before load(): what I/O sources use (tests inject a fake I2C bus).
  void setSourceEnv(sensors::SourceEnv env);
  // Where events go; null (the default) drops them. Set it before load() to see the events the
  // first readings cause.
  void setEventSink(EventSink* sink);

  // Before load(): a sensor the BMC feeds itself (its Power Unit), after the configured ones. Built,
  // restored and served like them; a number already in use fails load(). With `initial`, the sensor
  // starts from that sample without events (Sensor::prime), so only later changes are logged.
  void addSensor(sensors::SensorConfig config, std::unique_ptr<sensors::SensorSource> source,
                 std::optional<double> initial = std::nullopt);
  // Where SDR changes go: called with a sensor's record (as sensorSdrs() builds it) after a client
  // changed its thresholds, hysteresis or sensor type, before the reply. Set it before
  // registerCommands().
  using SdrChanged = std::function<void(const Bytes& record)>;
  void setSdrListener(SdrChanged listener);

  // Builds the sensors and their sources, restores persisted settings and starts polling. Errors
  // (an invalid sensor, a duplicate number, an unreadable store) name the sensor.
  Result<void> load();
  void registerCommands(CommandRegistry& registry);

  // Re-reads sensor `number` now (a source that knows its value just changed; see
  // SensorHub::refresh); its events go to the event sink. False when there is nothing to re-read.
  bool refresh(uint8_t number);

  // The sensors' SDRs (full 01h, compact 02h, event-only 03h) for the SDR repository, record ID
  // bytes 0, with the current thresholds, hysteresis and sensor types. Empty before load().
  std::vector<Bytes> sensorSdrs() const;
  // The same records with the thresholds, hysteresis and sensor types the config gives (what a
  // client's changes are applied to): they identify the configuration, whatever clients set since.
  std::vector<Bytes> configuredSdrs() const;

  // The live sensors (control plane, tests); null before load().
  const sensors::SensorHub* hub() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace simbmc::bmc
