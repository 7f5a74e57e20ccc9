#include "sensors/hub.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <fstream>
#include <mutex>
#include <thread>

#include "common/clock.hpp"
#include "unit/storage/test_files.hpp"

namespace simbmc::sensors {
namespace {

using std::chrono::milliseconds;

// A source the test scripts: counts reads, returns what `next` says.
class ScriptedSource final : public SensorSource {
 public:
  explicit ScriptedSource(bool blocking) : blocking_(blocking) {}
  bool blocking() const override { return blocking_; }
  Result<double> read(Millis elapsed) override {
    ++reads;
    lastElapsed = elapsed;
    if (fail) return makeError(Error::Kind::io, "scripted failure");
    return next;
  }
  bool blocking_;
  double next = 40;
  bool fail = false;
  int reads = 0;
  Millis lastElapsed{-1};
};

// Holds submitted work until the test runs it: a worker that is as slow as the test wants.
class ManualExecutor final : public ReadExecutor {
 public:
  void submit(Work work, Done done) override { jobs.emplace_back(std::move(work), std::move(done)); }
  void runAll() {
    auto pending = std::move(jobs);
    jobs.clear();
    for (auto& [work, done] : pending) done(work());
  }
  std::vector<std::pair<Work, Done>> jobs;
};

SensorConfig tempConfig(uint8_t number, int pollMs) {
  SensorConfig c;
  c.number = number;
  c.name = "Temp " + std::to_string(number);
  c.thresholds[kUc] = 95;
  c.positiveHysteresis = 2;
  c.poll = Millis(pollMs);
  return c;
}

Sensor makeSensor(SensorConfig c) {
  auto s = Sensor::create(std::move(c), std::pair{0.0, 100.0});
  EXPECT_TRUE(s.hasValue()) << (s ? "" : s.error().message);
  return std::move(*s);
}

class HubTest : public ::testing::Test {
 protected:
  void advance(milliseconds d, milliseconds tick = milliseconds(10)) {
    while (d > milliseconds(0)) {
      const milliseconds step = std::min(tick, d);
      clock_.advance(step);
      timers_.runDue();
      d -= step;
    }
  }
  ScriptedSource* addScripted(uint8_t number, int pollMs, bool blocking = false) {
    auto src = std::make_unique<ScriptedSource>(blocking);
    ScriptedSource* raw = src.get();
    EXPECT_TRUE(hub_.add(makeSensor(tempConfig(number, pollMs)), std::move(src)));
    return raw;
  }

  FakeClock clock_;
  TimerQueue timers_{clock_};
  InlineExecutor inline_;
  SensorHub hub_{timers_, inline_};
  std::vector<SensorEvent> events_;
};

TEST_F(HubTest, EachSensorPollsOnItsOwnPeriod) {
  ScriptedSource* fast = addScripted(1, 100);
  ScriptedSource* slow = addScripted(2, 1000);
  hub_.start();
  EXPECT_EQ(fast->reads, 1);  // read at start, so the first Get Sensor Reading has a value
  EXPECT_EQ(slow->reads, 1);
  EXPECT_TRUE(hub_.find(1)->reading().available);
  advance(milliseconds(3000));
  EXPECT_EQ(fast->reads, 31);
  EXPECT_EQ(slow->reads, 4);
  EXPECT_EQ(slow->lastElapsed, Millis(3000));
  EXPECT_EQ(hub_.reads(), 35u);
  EXPECT_EQ(hub_.find(3), nullptr);
  EXPECT_EQ(hub_.sensors().size(), 2u);
}

TEST_F(HubTest, RefreshReadsAPushedSourceAtOnceAndKeepsTheSchedule) {
  SensorConfig c;
  c.number = 0x80;
  c.name = "Pwr Unit Status";
  c.sensorType = 0x09;
  c.readingType = kSensorSpecificReadingType;
  c.readingMask = 0x0003;
  c.poll = Millis(1000);
  uint16_t state = 0;
  int reads = 0;
  ASSERT_TRUE(hub_.add(makeSensor(c), std::make_unique<CallbackSource>([&] {
                         ++reads;
                         return static_cast<double>(state);
                       })));
  ScriptedSource* blocking = addScripted(2, 1000, true);
  hub_.setEventHandler([this](const SensorEvent& e) { events_.push_back(e); });
  EXPECT_FALSE(hub_.refresh(0x80)) << "not before start";
  hub_.start();
  EXPECT_EQ(reads, 1);
  state = 1;
  advance(milliseconds(300));
  EXPECT_TRUE(events_.empty()) << "the next poll is 700 ms away";
  EXPECT_TRUE(hub_.refresh(0x80));
  EXPECT_EQ(reads, 2);
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0], (SensorEvent{0x80, 0x09, 0x6F, false, {0x00, 0xFF, 0xFF}}));
  advance(milliseconds(700));
  EXPECT_EQ(reads, 3) << "the periodic poll is unchanged";
  EXPECT_EQ(events_.size(), 1u);
  EXPECT_FALSE(hub_.refresh(0x81)) << "no such sensor";
  const int blockingReads = blocking->reads;
  EXPECT_FALSE(hub_.refresh(2)) << "blocking sources are only read by the worker";
  EXPECT_EQ(blocking->reads, blockingReads);
}

TEST_F(HubTest, DuplicateNumbersAreRefused) {
  addScripted(1, 100);
  EXPECT_FALSE(hub_.add(makeSensor(tempConfig(1, 100)), std::make_unique<ScriptedSource>(false)));
  EXPECT_EQ(hub_.size(), 1u);
}

TEST_F(HubTest, ScenarioCrossingGivesExactlyOneAssertionAndOneDeassertion) {
  SourceConfig sc;
  sc.kind = SourceConfig::Kind::scenario;
  sc.steps = {{Millis(0), 40}, {Millis(1000), 97}, {Millis(1500), 94}, {Millis(1700), 96}, {Millis(2000), 40}};
  auto source = makeSource(sc);
  ASSERT_TRUE(source.hasValue());
  ASSERT_TRUE(hub_.add(makeSensor(tempConfig(0x30, 100)), std::move(*source)));
  hub_.setEventHandler([this](const SensorEvent& e) { events_.push_back(e); });
  hub_.start();
  advance(milliseconds(999));
  EXPECT_TRUE(events_.empty());
  advance(milliseconds(1));
  ASSERT_EQ(events_.size(), 1u);
  const Factors& f = hub_.find(0x30)->factors();
  EXPECT_EQ(events_[0], (SensorEvent{0x30, 0x01, 0x01, false, {0x59, f.toRaw(97), f.toRaw(95)}}));
  advance(milliseconds(1000));
  ASSERT_EQ(events_.size(), 2u);  // 94 and 96 stay inside the hysteresis band
  EXPECT_EQ(events_[1], (SensorEvent{0x30, 0x01, 0x01, true, {0x59, f.toRaw(40), f.toRaw(95)}}));
  advance(milliseconds(5000));
  EXPECT_EQ(events_.size(), 2u);
}

TEST_F(HubTest, FailingSourceMakesTheSensorUnavailableAndRecovers) {
  ScriptedSource* s = addScripted(1, 100);
  hub_.start();
  s->fail = true;
  advance(milliseconds(300));
  EXPECT_FALSE(hub_.find(1)->reading().available);
  EXPECT_EQ(hub_.failedReads(), 3u);
  s->fail = false;
  s->next = 55;
  advance(milliseconds(100));
  EXPECT_TRUE(hub_.find(1)->reading().available);
  EXPECT_EQ(hub_.find(1)->reading().raw, hub_.find(1)->factors().toRaw(55));
}

TEST_F(HubTest, EmitPassesSettingsEventsToTheHandler) {
  addScripted(1, 100)->next = 90;
  hub_.setEventHandler([this](const SensorEvent& e) { events_.push_back(e); });
  hub_.start();
  Sensor* s = hub_.find(1);
  std::array<uint8_t, kThresholdCount> raw{};
  raw[kUc] = s->factors().toRaw(85);
  ASSERT_TRUE(s->setThresholds(1u << kUc, raw));
  hub_.emit(s->reevaluate());
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].data[0], 0x59);
}

TEST(HubBlocking, ReadsGoThroughTheExecutorOneAtATime) {
  FakeClock clock;
  TimerQueue timers(clock);
  ManualExecutor exec;
  auto src = std::make_unique<ScriptedSource>(true);
  ScriptedSource* s = src.get();
  s->next = 50;
  {
    SensorHub hub(timers, exec);
    ASSERT_TRUE(hub.add(makeSensor(tempConfig(1, 100)), std::move(src)));
    hub.start();
    EXPECT_EQ(s->reads, 0);  // nothing ran on the caller's thread
    ASSERT_EQ(exec.jobs.size(), 1u);
    EXPECT_FALSE(hub.find(1)->reading().available);
    // Polls while the read is in flight are skipped, not queued.
    for (int i = 0; i < 5; ++i) {
      clock.advance(milliseconds(100));
      timers.runDue();
    }
    EXPECT_EQ(exec.jobs.size(), 1u);
    exec.runAll();
    EXPECT_EQ(s->reads, 1);
    EXPECT_TRUE(hub.find(1)->reading().available);
    clock.advance(milliseconds(100));
    timers.runDue();
    EXPECT_EQ(exec.jobs.size(), 1u);
  }
  // The hub is gone: a result that arrives now is dropped without touching it.
  exec.runAll();
  EXPECT_EQ(timers.size(), 0u);
}

// The real worker thread: results come back through `post`, which here queues them for the test
// thread (standing in for the io_context). Bounded wait, no timing assertion.
TEST(HubBlocking, ThreadExecutorPostsResultsBack) {
  storage::testing::TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::ofstream(dir.file("v")) << "61.5\n";
  std::mutex mu;
  std::deque<std::function<void()>> posted;
  FakeClock clock;
  TimerQueue timers(clock);
  {
    ThreadExecutor exec([&](std::function<void()> fn) {
      std::lock_guard lock(mu);
      posted.push_back(std::move(fn));
    });
    SensorHub hub(timers, exec);
    SourceConfig fc;
    fc.kind = SourceConfig::Kind::file;
    fc.path = dir.file("v");
    auto source = makeSource(fc);
    ASSERT_TRUE(source.hasValue());
    ASSERT_TRUE(hub.add(makeSensor(tempConfig(7, 1000)), std::move(*source)));
    hub.start();
    bool done = false;
    for (int i = 0; i < 500 && !done; ++i) {
      std::deque<std::function<void()>> batch;
      {
        std::lock_guard lock(mu);
        batch.swap(posted);
      }
      for (auto& fn : batch) fn();
      done = hub.find(7)->reading().available;
      if (!done) std::this_thread::sleep_for(milliseconds(10));
    }
    ASSERT_TRUE(done);
    EXPECT_NEAR(hub.find(7)->factors().toValue(hub.find(7)->reading().raw), 61.5, hub.find(7)->factors().step());
  }
  // Destroyed with nothing in flight; anything still queued is inert.
  for (auto& fn : posted) fn();
}

}  // namespace
}  // namespace simbmc::sensors
