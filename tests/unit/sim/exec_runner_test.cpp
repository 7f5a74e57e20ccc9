#include "sim/exec_runner.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "sim/host_power.hpp"

namespace simbmc::sim {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// These tests start real processes, so they poll in real time, bounded to about two seconds.
constexpr auto kPollLimit = std::chrono::seconds(2);
constexpr auto kPollStep = milliseconds(10);

template <typename Pred>
bool pollUntil(Pred done) {
  const auto deadline = std::chrono::steady_clock::now() + kPollLimit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollStep);
  }
  return true;
}

std::string readFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Gone, or a zombie waiting for init: either way no longer running.
bool processGone(pid_t pid) {
  if (kill(pid, 0) != 0 && errno == ESRCH) return true;
  std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  return stat.empty() || (close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z');
}

class ExecRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::path(testing::TempDir()) / "simbmc_exec_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const char* name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

TEST_F(ExecRunnerTest, RunsCommandWithActionAndInstanceInEnvironment) {
  ExecRunner runner("bmc7");
  std::vector<ExecResult> results;
  runner.setExitHandler([&](const ExecResult& r) { results.push_back(r); });
  const std::string out = path("out");
  pid_t pid = runner.run("cycle", "echo \"$SIMBMC_ACTION $SIMBMC_INSTANCE\" > '" + out + ".tmp' && mv '" +
                                      out + ".tmp' '" + out + "'");
  ASSERT_GT(pid, 0);
  EXPECT_EQ(runner.running(), 1u);
  ASSERT_TRUE(pollUntil([&] {
    runner.reap();
    return runner.running() == 0;
  }));
  EXPECT_EQ(readFile(out), "cycle bmc7\n");
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].pid, pid);
  EXPECT_EQ(results[0].action, "cycle");
  EXPECT_TRUE(results[0].ok());
}

TEST_F(ExecRunnerTest, InheritedSimbmcVariablesAreReplaced) {
  ASSERT_EQ(setenv("SIMBMC_ACTION", "stale", 1), 0);
  ExecRunner runner("x");
  const std::string out = path("env");
  ASSERT_GT(runner.run("on", "env | grep '^SIMBMC_ACTION=' > '" + out + "'"), 0);
  const bool done = pollUntil([&] {
    runner.reap();
    return runner.running() == 0;
  });
  unsetenv("SIMBMC_ACTION");
  ASSERT_TRUE(done);
  EXPECT_EQ(readFile(out), "SIMBMC_ACTION=on\n");
}

TEST_F(ExecRunnerTest, StdinIsDevNull) {
  ExecRunner runner("x");
  const std::string out = path("stdin");
  // `cat` returns at once on EOF; with an inherited terminal or pipe it could block.
  ASSERT_GT(runner.run("on", "cat > '" + out + "'; echo done >> '" + out + "'"), 0);
  ASSERT_TRUE(pollUntil([&] {
    runner.reap();
    return runner.running() == 0;
  }));
  EXPECT_EQ(readFile(out), "done\n");
}

TEST_F(ExecRunnerTest, FailedCommandReportsExitStatus) {
  ExecRunner runner("x");
  std::vector<ExecResult> results;
  runner.setExitHandler([&](const ExecResult& r) { results.push_back(r); });
  ASSERT_GT(runner.run("off", "exit 3"), 0);
  ASSERT_GT(runner.run("reset", "kill -9 $$"), 0);
  ASSERT_TRUE(pollUntil([&] {
    runner.reap();
    return runner.running() == 0;
  }));
  ASSERT_EQ(results.size(), 2u);
  for (const auto& r : results) {
    EXPECT_FALSE(r.ok());
    if (r.action == "off") {
      EXPECT_EQ(r.exitCode, 3);
      EXPECT_EQ(r.signal, 0);
    } else {
      EXPECT_EQ(r.action, "reset");
      EXPECT_EQ(r.exitCode, -1);
      EXPECT_EQ(r.signal, SIGKILL);
    }
  }
}

TEST_F(ExecRunnerTest, EmptyCommandDoesNothing) {
  ExecRunner runner("x");
  EXPECT_EQ(runner.run("on", ""), 0);
  EXPECT_EQ(runner.running(), 0u);
  EXPECT_EQ(runner.reap(), 0u);
}

TEST_F(ExecRunnerTest, RunDoesNotWaitAndDestructorKillsRunningChild) {
  pid_t pid = 0;
  const auto start = std::chrono::steady_clock::now();
  {
    ExecRunner runner("x", milliseconds(50));
    pid = runner.run("on", "sleep 60");
    ASSERT_GT(pid, 0);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
    EXPECT_EQ(runner.reap(), 0u);
    EXPECT_EQ(runner.running(), 1u);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, kPollLimit);
  // Reaped by the destructor: the PID no longer names our child.
  errno = 0;
  EXPECT_EQ(kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST_F(ExecRunnerTest, DestructorKillsTheCommandsOwnChildrenToo) {
  const std::string pidFile = path("grandchild");
  {
    ExecRunner runner("x", milliseconds(0));
    ASSERT_GT(runner.run("soft", "sleep 60 & echo $! > '" + pidFile + "'; wait"), 0);
    ASSERT_TRUE(pollUntil([&] { return !readFile(pidFile).empty(); }));
  }
  const pid_t grandchild = static_cast<pid_t>(std::stol(readFile(pidFile)));
  ASSERT_GT(grandchild, 0);
  EXPECT_TRUE(pollUntil([&] { return processGone(grandchild); }));
}

TEST_F(ExecRunnerTest, DestructorWaitsGraceForQuickCommands) {
  std::vector<ExecResult> results;
  const std::string out = path("quick");
  {
    ExecRunner runner("x", milliseconds(2000));
    ASSERT_GT(runner.run("on", "sleep 0.1; echo ok > '" + out + "'"), 0);
  }
  EXPECT_EQ(readFile(out), "ok\n");
}

TEST_F(ExecRunnerTest, HostPowerSimRunsConfiguredHooks) {
  FakeClock clock;
  TimerQueue queue(clock);
  ExecRunner runner("rack1-node3");
  const std::string out = path("hooks");
  PowerConfig c;
  c.initiallyOn = false;
  const std::string hook = "echo \"$SIMBMC_ACTION $SIMBMC_INSTANCE\" >> '" + out + "'";
  c.onCommand = hook;
  c.cycleCommand = hook;
  c.softCommand = hook;
  // resetCommand left empty: no exec for reset.
  HostPowerSim sim(queue, c, 0, &runner);

  std::vector<std::string> expected;
  auto step = [&](bmc::ChassisAction action, const char* word) {
    ASSERT_EQ(sim.request(action, bmc::RestartCause::chassisControl), Cc::ok);
    clock.advance(std::chrono::seconds(5));
    queue.runDue();
    if (word != nullptr) expected.push_back(std::string(word) + " rack1-node3");
    // Wait for this hook before the next, so lines arrive in order.
    ASSERT_TRUE(pollUntil([&] {
      runner.reap();
      return runner.running() == 0;
    }));
  };
  step(bmc::ChassisAction::powerUp, "on");
  step(bmc::ChassisAction::powerUp, nullptr);  // already on: nothing to run
  step(bmc::ChassisAction::hardReset, nullptr);
  step(bmc::ChassisAction::powerCycle, "cycle");
  step(bmc::ChassisAction::softShutdown, "soft");
  EXPECT_FALSE(sim.powerOn());

  std::string want;
  for (const auto& line : expected) want += line + "\n";
  EXPECT_EQ(readFile(out), want);
}

}  // namespace
}  // namespace simbmc::sim
