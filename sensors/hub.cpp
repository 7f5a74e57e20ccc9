#include "sensors/hub.hpp"

#include "common/log.hpp"

namespace simbmc::sensors {

SensorHub::SensorHub(TimerQueue& timers, ReadExecutor& executor) : timers_(timers), executor_(executor) {}

SensorHub::~SensorHub() {
  for (auto& e : entries_) {
    if (e->timer != 0) timers_.cancel(e->timer);
  }
}

bool SensorHub::add(Sensor sensor, std::unique_ptr<SensorSource> source) {
  const uint8_t number = sensor.number();
  if (byNumber_.contains(number) || !source) return false;
  byNumber_[number] = entries_.size();
  entries_.push_back(std::make_unique<Entry>(Entry{std::move(sensor), std::move(source)}));
  return true;
}

void SensorHub::start() {
  if (started_) return;
  started_ = true;
  start_ = timers_.clock().now();
  for (size_t i = 0; i < entries_.size(); ++i) {
    entries_[i]->due = start_;
    poll(i);
  }
}

Sensor* SensorHub::find(uint8_t number) {
  auto it = byNumber_.find(number);
  return it == byNumber_.end() ? nullptr : &entries_[it->second]->sensor;
}

const Sensor* SensorHub::find(uint8_t number) const {
  auto it = byNumber_.find(number);
  return it == byNumber_.end() ? nullptr : &entries_[it->second]->sensor;
}

std::vector<const Sensor*> SensorHub::sensors() const {
  std::vector<const Sensor*> v;
  v.reserve(entries_.size());
  for (const auto& e : entries_) v.push_back(&e->sensor);
  return v;
}

void SensorHub::emit(const std::vector<SensorEvent>& events) {
  if (!handler_) return;
  for (const SensorEvent& e : events) handler_(e);
}

bool SensorHub::refresh(uint8_t number) {
  auto it = byNumber_.find(number);
  if (!started_ || it == byNumber_.end()) return false;
  Entry& e = *entries_[it->second];
  if (e.source->blocking()) return false;
  const Millis elapsed = std::chrono::duration_cast<Millis>(timers_.clock().now() - start_);
  onSample(it->second, e.source->read(elapsed));
  return true;
}

void SensorHub::schedule(size_t index) {
  Entry& e = *entries_[index];
  // Fixed-rate from the start time; after a stall (a busy io thread, a clock jump) the next poll is
  // one period from now rather than a burst of catch-up polls.
  const SteadyTime now = timers_.clock().now();
  e.due += e.sensor.config().poll;
  if (e.due <= now) e.due = now + e.sensor.config().poll;
  e.timer = timers_.scheduleAt(e.due, [this, index] {
    entries_[index]->timer = 0;
    poll(index);
  });
}

void SensorHub::poll(size_t index) {
  Entry& e = *entries_[index];
  schedule(index);
  const Millis elapsed = std::chrono::duration_cast<Millis>(timers_.clock().now() - start_);
  if (!e.source->blocking()) {
    onSample(index, e.source->read(elapsed));
    return;
  }
  if (e.inFlight) return;  // the previous read is still running: skip this round
  e.inFlight = true;
  std::weak_ptr<bool> alive = alive_;
  std::shared_ptr<SensorSource> source = e.source;
  executor_.submit([source, elapsed] { return source->read(elapsed); },
                   [this, alive, index](Result<double> r) {
                     if (alive.expired()) return;
                     entries_[index]->inFlight = false;
                     onSample(index, r);
                   });
}

void SensorHub::onSample(size_t index, const Result<double>& sample) {
  Entry& e = *entries_[index];
  ++reads_;
  if (!sample) {
    ++failedReads_;
    if (!e.failing) {  // once per transition, not once per poll
      log::warn("sensor unavailable number={} name=\"{}\" what=\"{}\"", e.sensor.number(), e.sensor.name(),
                sample.error().message);
    }
    e.failing = true;
  } else if (e.failing) {
    log::info("sensor available again number={} name=\"{}\"", e.sensor.number(), e.sensor.name());
    e.failing = false;
  }
  emit(e.sensor.update(sample));
}

}  // namespace simbmc::sensors
