#include <gtest/gtest.h>

#include "common/timer_queue.hpp"

namespace simbmc {
namespace {

TEST(TimerQueue, RunsDueCallbacksInDeadlineOrder) {
  FakeClock clock;
  TimerQueue q(clock);
  std::vector<int> order;
  q.scheduleAfter(std::chrono::seconds(2), [&] { order.push_back(2); });
  q.scheduleAfter(std::chrono::seconds(1), [&] { order.push_back(1); });
  auto cancelled = q.scheduleAfter(std::chrono::seconds(1), [&] { order.push_back(99); });
  q.cancel(cancelled);
  EXPECT_EQ(q.runDue(), 0u);
  clock.advance(std::chrono::milliseconds(1500));
  EXPECT_EQ(q.runDue(), 1u);
  clock.advance(std::chrono::seconds(1));
  EXPECT_EQ(q.runDue(), 1u);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_FALSE(q.nextDeadline().has_value());
}

TEST(TimerQueue, CallbackMayRescheduleWithoutLoopingForever) {
  FakeClock clock;
  TimerQueue q(clock);
  int runs = 0;
  std::function<void()> again = [&] { ++runs; q.scheduleAfter(std::chrono::seconds(0), again); };
  q.scheduleAfter(std::chrono::seconds(0), again);
  EXPECT_EQ(q.runDue(), 1u);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(q.size(), 1u);
}

}  // namespace
}  // namespace simbmc
