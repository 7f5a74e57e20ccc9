// SensorHub: polls every sensor's source on the sensor's own period (TimerQueue, so unit tests run
// it in virtual time), caches the readings in the Sensor objects, and hands the events the readings
// cause to one handler. IPMI handlers only read the cache: they never wait for a source.
//
// Simulated sources are read inline on the timer callback; blocking sources (hwmon, i2c, file) go
// through the ReadExecutor, at most one read in flight per sensor (a poll that finds the previous
// read still running is skipped). A failing source makes its sensor "unavailable" and logs once per
// transition; it never stops the hub.
//
// Single-threaded (the io thread); `timers` and `executor` must outlive the hub. Results delivered
// after the hub is destroyed are ignored.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "common/timer_queue.hpp"
#include "sensors/executor.hpp"
#include "sensors/sensor.hpp"
#include "sensors/source.hpp"

namespace simbmc::sensors {

class SensorHub {
 public:
  using EventHandler = std::function<void(const SensorEvent&)>;

  SensorHub(TimerQueue& timers, ReadExecutor& executor);
  ~SensorHub();
  SensorHub(const SensorHub&) = delete;
  SensorHub& operator=(const SensorHub&) = delete;

  // Adds a sensor and its source; before start(). False (nothing added) for a duplicate number.
  bool add(Sensor sensor, std::unique_ptr<SensorSource> source);
  void setEventHandler(EventHandler handler) { handler_ = std::move(handler); }

  // Time zero of the simulated sources; polls every sensor now, then every `poll`.
  void start();
  bool started() const { return started_; }

  Sensor* find(uint8_t number);
  const Sensor* find(uint8_t number) const;
  // Sensors in the order they were added.
  std::vector<const Sensor*> sensors() const;
  size_t size() const { return entries_.size(); }

  // Passes events (from a settings change on a Sensor) to the handler.
  void emit(const std::vector<SensorEvent>& events);
  // Reads sensor `number` now and hands the events to the handler, leaving its polling schedule
  // alone: for sources that know when their value changes (a host power transition). False (nothing
  // read) when there is no such sensor, its source blocks, or the hub has not started.
  bool refresh(uint8_t number);

  // Reads completed (good or failed), for tests and counters.
  uint64_t reads() const { return reads_; }
  uint64_t failedReads() const { return failedReads_; }

 private:
  struct Entry {
    Sensor sensor;
    std::shared_ptr<SensorSource> source;
    TimerQueue::Id timer = 0;
    SteadyTime due{};
    bool inFlight = false;
    bool failing = false;
  };
  void poll(size_t index);
  void schedule(size_t index);
  void onSample(size_t index, const Result<double>& sample);

  TimerQueue& timers_;
  ReadExecutor& executor_;
  std::vector<std::unique_ptr<Entry>> entries_;
  std::unordered_map<uint8_t, size_t> byNumber_;
  EventHandler handler_;
  SteadyTime start_{};
  bool started_ = false;
  uint64_t reads_ = 0;
  uint64_t failedReads_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace simbmc::sensors
