// Host consoles (sim/console_*.cpp): the shared listener/history base, the simulated host's boot log
// and shell in virtual time against the real HostPowerSim, and the descriptor-backed consoles (pty,
// socket, command) over real file descriptors on loopback/UNIX sockets created by the test.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <utility>  // before Asio (Boost 1.74 with g++ 12)

#include <boost/asio/io_context.hpp>

#include "common/clock.hpp"
#include "common/timer_queue.hpp"
#include "sim/console_base.hpp"
#include "sim/console_command.hpp"
#include "sim/console_factory.hpp"
#include "sim/console_log.hpp"
#include "sim/console_pty.hpp"
#include "sim/console_sim.hpp"
#include "sim/console_socket.hpp"
#include "sim/host_power.hpp"

namespace simbmc::sim {
namespace {

namespace fs = std::filesystem;
using bmc::ChassisAction;
using bmc::RestartCause;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::span<const uint8_t> bytesOf(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++n;
  return n;
}

// ---- ConsoleBase and the history ring ------------------------------------------------------------

class TestConsole final : public ConsoleBase {
 public:
  explicit TestConsole(size_t history = kDefaultHistoryBytes) : ConsoleBase(history) {}
  size_t write(std::span<const uint8_t> b) override { return b.size(); }
  std::string endpoint() const override { return "test"; }
  using ConsoleBase::emit;
};

TEST(HistoryRingTest, KeepsTheNewestBytes) {
  HistoryRing ring(8);
  ring.append(bytesOf("abcdef"));
  EXPECT_EQ(ring.contents(), "abcdef");
  ring.append(bytesOf("ghij"));
  EXPECT_EQ(ring.contents(), "cdefghij");
  ring.append(bytesOf("k"));
  EXPECT_EQ(ring.contents(), "defghijk");
  ring.append(bytesOf("0123456789XY"));  // longer than the ring
  EXPECT_EQ(ring.contents(), "456789XY");
  EXPECT_EQ(ring.size(), 8u);
  HistoryRing none(0);
  none.append(bytesOf("abc"));
  EXPECT_EQ(none.contents(), "");
}

TEST(ConsoleBaseTest, EveryListenerSeesEveryByteInOrder) {
  TestConsole c(16);
  std::string a, b;
  const int ha = c.addOutputListener([&](std::span<const uint8_t> s) { a.append(s.begin(), s.end()); });
  c.addOutputListener([&](std::span<const uint8_t> s) { b.append(s.begin(), s.end()); });
  c.emit("hello ");
  c.emit("world");
  EXPECT_EQ(a, "hello world");
  EXPECT_EQ(b, "hello world");
  c.removeListener(ha);
  c.removeListener(ha);  // twice: no-op
  c.emit("!");
  EXPECT_EQ(a, "hello world");
  EXPECT_EQ(b, "hello world!");
  EXPECT_EQ(c.history(), "hello world!");
  EXPECT_EQ(c.totalOutput(), 12u);
}

TEST(ConsoleBaseTest, OutputEmittedByAListenerFollowsTheCurrentChunk) {
  TestConsole c;
  std::string first, second;
  c.addOutputListener([&](std::span<const uint8_t> s) {
    first.append(s.begin(), s.end());
    if (std::string(s.begin(), s.end()) == "x") c.emit("echo");  // an echo produced while delivering
  });
  c.addOutputListener([&](std::span<const uint8_t> s) { second.append(s.begin(), s.end()); });
  c.emit("x");
  EXPECT_EQ(first, "xecho");
  EXPECT_EQ(second, "xecho");  // not "echox"
  EXPECT_EQ(c.history(), "xecho");
}

TEST(ConsoleBaseTest, ListenerRemovedDuringDeliveryIsNotCalledAgain) {
  TestConsole c;
  int handleB = 0;
  std::string b;
  c.addOutputListener([&](std::span<const uint8_t>) { c.removeListener(handleB); });
  handleB = c.addOutputListener([&](std::span<const uint8_t> s) { b.append(s.begin(), s.end()); });
  int added = 0;
  c.addOutputListener([&](std::span<const uint8_t>) {
    if (added++ == 0) c.addOutputListener([&](std::span<const uint8_t>) { ++added; });
  });
  c.emit("a");
  EXPECT_EQ(b, "");
  EXPECT_EQ(added, 1);  // a listener added during delivery starts with the next chunk
  c.emit("b");
  EXPECT_EQ(added, 3);
  EXPECT_EQ(c.listenerCount(), 3u);
}

// ---- The simulated host ---------------------------------------------------------------------------

class SimulatedConsoleTest : public ::testing::Test {
 protected:
  void make(bool on = false, SimulatedConsoleConfig config = {}, Millis resetTime = Millis(0)) {
    PowerConfig p;
    p.initiallyOn = on;
    p.resetTime = resetTime;
    p.cycleOffTime = Millis(1000);
    p.softShutdownTime = Millis(2000);
    host_ = std::make_unique<HostPowerSim>(queue_, p, 0);
    console_ = std::make_unique<SimulatedConsole>(queue_, *host_, std::move(config));
    console_->addOutputListener([this](std::span<const uint8_t> s) { out_.append(s.begin(), s.end()); });
  }
  void advance(std::chrono::nanoseconds d) {
    clock_.advance(d);
    queue_.runDue();
  }
  // Types `text` and lets the console handle it; returns what it printed meanwhile.
  std::string type(std::string_view text) {
    out_.clear();
    EXPECT_EQ(console_->write(bytesOf(text)), text.size());
    queue_.runDue();
    return out_;
  }
  void boot() {
    if (!host_->powerOn()) {
      ASSERT_EQ(host_->request(ChassisAction::powerUp, RestartCause::chassisControl), Cc::ok);
    }
    advance(seconds(3));
    ASSERT_EQ(console_->state(), SimulatedConsole::State::login);
  }
  void login(const std::string& user = "root") {
    boot();
    type(user + "\r");
    ASSERT_EQ(type("simbmc\r"), "\r\nLinux simhost 6.1.0-sim-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.0-sim x86_64\r\n\r\n"
                                "The programs included with the simulated Debian GNU/Linux system are simulated."
                                "\r\n\r\n" +
                                    (user == "root" ? std::string("root@simhost:~# ") : user + "@simhost:~$ "));
  }

  FakeClock clock_;
  TimerQueue queue_{clock_};
  std::unique_ptr<HostPowerSim> host_;
  std::unique_ptr<SimulatedConsole> console_;
  std::string out_;
};

TEST_F(SimulatedConsoleTest, SilentWhileOffThenBootLogInVirtualTime) {
  make(false);
  EXPECT_EQ(console_->state(), SimulatedConsole::State::off);
  EXPECT_EQ(console_->write(bytesOf("lost")), 4u);  // an unpowered UART: accepted and lost
  queue_.runDue();
  EXPECT_EQ(out_, "");
  ASSERT_EQ(host_->request(ChassisAction::powerUp, RestartCause::chassisControl), Cc::ok);
  EXPECT_EQ(console_->state(), SimulatedConsole::State::booting);
  EXPECT_NE(out_.find("simBIOS"), std::string::npos);
  EXPECT_EQ(out_.find("Booting from"), std::string::npos);
  advance(milliseconds(1000));
  EXPECT_NE(out_.find("Memory Test: 16384 MB OK"), std::string::npos);
  EXPECT_NE(out_.find("Booting from Hard Disk"), std::string::npos);
  EXPECT_EQ(out_.find("Linux version"), std::string::npos);
  advance(milliseconds(1000));
  EXPECT_NE(out_.find("Linux version 6.1.0-sim-amd64"), std::string::npos);
  EXPECT_NE(out_.find("Command line: " + SimulatedConsole::kernelCommandLine()), std::string::npos);
  EXPECT_EQ(out_.find("login:"), std::string::npos);
  advance(milliseconds(1000));
  EXPECT_TRUE(out_.ends_with("Debian GNU/Linux 12 simhost ttyS0\r\n\r\nsimhost login: ")) << out_;
  EXPECT_EQ(console_->state(), SimulatedConsole::State::login);
  EXPECT_EQ(console_->history(), out_);
  EXPECT_EQ(out_.find('\n', 0) != std::string::npos && out_.find("\r\n") != std::string::npos, true);
  // Every line break is CR LF.
  for (size_t i = out_.find('\n'); i != std::string::npos; i = out_.find('\n', i + 1)) ASSERT_EQ(out_[i - 1], '\r');
}

TEST_F(SimulatedConsoleTest, BootsAtOnceWhenCreatedWithTheHostOn) {
  make(true);
  EXPECT_EQ(console_->state(), SimulatedConsole::State::booting);
  EXPECT_NE(console_->history().find("simBIOS"), std::string::npos);
}

TEST_F(SimulatedConsoleTest, ZeroBootTimePrintsTheWholeLogAtOnce) {
  SimulatedConsoleConfig c;
  c.bootTime = Millis(0);
  c.hostname = "node7";
  make(true, c);
  EXPECT_EQ(console_->state(), SimulatedConsole::State::login);
  EXPECT_TRUE(console_->history().ends_with("node7 login: "));
}

TEST_F(SimulatedConsoleTest, LoginEchoesTheNameButNotThePassword) {
  make(false);
  boot();
  EXPECT_EQ(type("r"), "r");
  EXPECT_EQ(type("oot\r"), "oot\r\nPassword: ");
  EXPECT_EQ(type("simbm"), "");
  EXPECT_EQ(type("c\r"),
            "\r\nLinux simhost 6.1.0-sim-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.0-sim x86_64\r\n\r\n"
            "The programs included with the simulated Debian GNU/Linux system are simulated.\r\n\r\nroot@simhost:~# ");
  EXPECT_EQ(console_->state(), SimulatedConsole::State::shell);
}

TEST_F(SimulatedConsoleTest, WrongPasswordAndEmptyName) {
  make(false);
  boot();
  EXPECT_EQ(type("\r"), "\r\nsimhost login: ");
  type("root\r");
  EXPECT_EQ(type("nope\r"), "\r\n\r\nLogin incorrect\r\nsimhost login: ");
  EXPECT_EQ(console_->state(), SimulatedConsole::State::login);
}

TEST_F(SimulatedConsoleTest, EmptyConfiguredPasswordAcceptsAny) {
  SimulatedConsoleConfig c;
  c.loginPassword = "";
  make(false, c);
  boot();
  type("admin\r");
  EXPECT_TRUE(type("whatever\r").ends_with("admin@simhost:~$ "));
  EXPECT_EQ(type("whoami\r"), "whoami\r\nadmin\r\nadmin@simhost:~$ ");
}

TEST_F(SimulatedConsoleTest, ShellCommands) {
  make(false);
  login();
  EXPECT_EQ(type("echo hello   world\r"), "echo hello   world\r\nhello world\r\nroot@simhost:~# ");
  EXPECT_EQ(type("echo 'a  b' \"c\"\r"), "echo 'a  b' \"c\"\r\na  b c\r\nroot@simhost:~# ");
  EXPECT_EQ(type("hostname\r"), "hostname\r\nsimhost\r\nroot@simhost:~# ");
  EXPECT_EQ(type("uname -a\r"),
            "uname -a\r\nLinux simhost 6.1.0-sim-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.0-sim x86_64 GNU/Linux\r\n"
            "root@simhost:~# ");
  EXPECT_EQ(type("uname\r"), "uname\r\nLinux\r\nroot@simhost:~# ");
  EXPECT_EQ(type("cat /proc/cmdline\r"),
            "cat /proc/cmdline\r\n" + SimulatedConsole::kernelCommandLine() + "\r\nroot@simhost:~# ");
  EXPECT_EQ(type("cat /etc/shadow\r"), "cat /etc/shadow\r\ncat: /etc/shadow: No such file or directory\r\nroot@simhost:~# ");
  EXPECT_EQ(type("frobnicate --now\r"), "frobnicate --now\r\n-sh: frobnicate: command not found\r\nroot@simhost:~# ");
  EXPECT_EQ(type("\r"), "\r\nroot@simhost:~# ");
  EXPECT_NE(type("help\r").find("uname"), std::string::npos);
  // FakeClock's wall clock starts at 1'700'000'000 - 3600 + 3600 = Tue Nov 14 22:13:20 UTC 2023; 3 s of boot.
  EXPECT_EQ(type("date\r"), "date\r\nTue Nov 14 22:13:23 UTC 2023\r\nroot@simhost:~# ");
  advance(std::chrono::minutes(75));
  EXPECT_EQ(type("uptime\r"),
            "uptime\r\n 23:28:23 up  1:15,  1 user,  load average: 0.00, 0.01, 0.00\r\nroot@simhost:~# ");
}

TEST_F(SimulatedConsoleTest, LineEditing) {
  make(false);
  login();
  EXPECT_EQ(type("ecx\x7fho hi\r"), "ecx\b \bho hi\r\nhi\r\nroot@simhost:~# ");
  EXPECT_EQ(type("echo a\r\n"), "echo a\r\na\r\nroot@simhost:~# ");  // CR LF ends one line
  EXPECT_EQ(type("echo b\n"), "echo b\r\nb\r\nroot@simhost:~# ");     // LF alone too
  EXPECT_EQ(type("\r\r"), "\r\nroot@simhost:~# \r\nroot@simhost:~# ");
  EXPECT_EQ(type("echo x\x03"), "echo x^C\r\nroot@simhost:~# ");
  EXPECT_EQ(type("abc\x15"), "abc\b \b\b \b\b \b");
  EXPECT_EQ(type("\x1b[Aecho up\r"), "echo up\r\nup\r\nroot@simhost:~# ");  // arrow key ignored
  EXPECT_EQ(type(std::string(300, 'y')).size(), SimulatedConsole::kLineLimit);
  type("\x03");
  EXPECT_TRUE(type("\x04").ends_with("simhost login: "));  // ^D logs out
}

TEST_F(SimulatedConsoleTest, TypeAheadDuringBootIsHandledAtTheLoginPrompt) {
  make(false);
  ASSERT_EQ(host_->request(ChassisAction::powerUp, RestartCause::chassisControl), Cc::ok);
  out_.clear();
  EXPECT_EQ(console_->write(bytesOf("root\r")), 5u);
  queue_.runDue();
  EXPECT_EQ(out_.find("root"), std::string::npos);  // nobody reads the line yet
  advance(seconds(3));
  EXPECT_TRUE(out_.ends_with("simhost login: root\r\nPassword: ")) << out_;
}

TEST_F(SimulatedConsoleTest, InputIsBounded) {
  make(false);
  ASSERT_EQ(host_->request(ChassisAction::powerUp, RestartCause::chassisControl), Cc::ok);
  const std::string big(SimulatedConsole::kInputLimit + 100, 'a');
  EXPECT_EQ(console_->write(bytesOf(big)), SimulatedConsole::kInputLimit);
  EXPECT_EQ(console_->write(bytesOf("b")), 0u);
}

TEST_F(SimulatedConsoleTest, RebootPowerCyclesThroughHostControl) {
  make(false);
  login();
  const std::string r = type("reboot\r");
  EXPECT_NE(r.find("Rebooting..."), std::string::npos);
  EXPECT_TRUE(r.ends_with("reboot: Restarting system\r\n"));
  EXPECT_EQ(type("echo ignored\r"), "");  // the shell has stopped
  EXPECT_TRUE(host_->powerOn());
  advance(SimulatedConsole::kShutdownDelay);
  EXPECT_FALSE(host_->powerOn());  // the off phase of the cycle
  EXPECT_EQ(console_->state(), SimulatedConsole::State::off);
  out_.clear();
  advance(seconds(1));
  EXPECT_TRUE(host_->powerOn());
  EXPECT_EQ(host_->lastRestartCause(), RestartCause::softReset);
  EXPECT_NE(out_.find("simBIOS"), std::string::npos);
  advance(seconds(3));
  EXPECT_EQ(count(console_->history(), "simBIOS"), 2u);
  EXPECT_TRUE(console_->history().ends_with("simhost login: "));
}

TEST_F(SimulatedConsoleTest, PoweroffPowersDown) {
  make(false);
  login();
  EXPECT_TRUE(type("poweroff\r").ends_with("reboot: Power down\r\n"));
  advance(SimulatedConsole::kShutdownDelay);
  EXPECT_FALSE(host_->powerOn());
  EXPECT_EQ(type("root\r"), "");
}

TEST_F(SimulatedConsoleTest, ResetRestartsTheBootLogVisibly) {
  make(false);
  login();
  out_.clear();
  ASSERT_EQ(host_->request(ChassisAction::hardReset, RestartCause::chassisControl), Cc::ok);
  EXPECT_TRUE(out_.starts_with("\r\nsimBIOS")) << out_;
  EXPECT_EQ(console_->state(), SimulatedConsole::State::booting);
  advance(seconds(3));
  EXPECT_EQ(console_->state(), SimulatedConsole::State::login);
}

TEST_F(SimulatedConsoleTest, PowerOffStopsOutputMidBoot) {
  make(false);
  ASSERT_EQ(host_->request(ChassisAction::powerUp, RestartCause::chassisControl), Cc::ok);
  advance(milliseconds(500));
  ASSERT_EQ(host_->request(ChassisAction::powerDown, RestartCause::chassisControl), Cc::ok);
  out_.clear();
  advance(seconds(10));
  EXPECT_EQ(out_, "");
  EXPECT_EQ(console_->state(), SimulatedConsole::State::off);
}

TEST_F(SimulatedConsoleTest, SoftShutdownPrintsPowerDown) {
  make(false);
  login();
  out_.clear();
  ASSERT_EQ(host_->request(ChassisAction::softShutdown, RestartCause::chassisControl), Cc::ok);
  EXPECT_TRUE(out_.ends_with("reboot: Power down\r\n"));
  advance(seconds(2));
  EXPECT_FALSE(host_->powerOn());
}

TEST_F(SimulatedConsoleTest, DiagnosticInterruptPrintsTheNmiMessage) {
  make(false);
  login();
  out_.clear();
  advance(milliseconds(1500));
  ASSERT_EQ(host_->request(ChassisAction::diagnosticInterrupt, RestartCause::chassisControl), Cc::ok);
  EXPECT_EQ(out_,
            "\r\n[    4.500000] Uhhuh. NMI received for unknown reason 3d on CPU 0.\r\n"
            "[    4.500000] Dazed and confused, but trying to continue\r\n");
}

TEST_F(SimulatedConsoleTest, BreakThenKeyIsMagicSysRq) {
  make(false);
  login();
  console_->sendBreak();
  EXPECT_EQ(type("h"), "\r\n[    3.000000] sysrq: HELP : reboot(b) poweroff(o)\r\n");
  EXPECT_EQ(type("echo still here\r"), "echo still here\r\nstill here\r\nroot@simhost:~# ");
  console_->sendBreak();
  EXPECT_EQ(type("b"), "\r\n[    3.000000] sysrq: Resetting\r\n");
  out_.clear();
  advance(SimulatedConsole::kShutdownDelay);
  EXPECT_EQ(host_->lastRestartCause(), RestartCause::softReset);
  EXPECT_TRUE(out_.starts_with("\r\nsimBIOS")) << out_;
  EXPECT_TRUE(host_->powerOn());
}

TEST_F(SimulatedConsoleTest, RefusedRebootReturnsToTheShell) {
  make(false, {}, Millis(1000));
  login();
  type("reboot\r");
  // A reset in progress makes the host refuse the cycle (0xC0).
  ASSERT_EQ(host_->request(ChassisAction::hardReset, RestartCause::chassisControl), Cc::ok);
  out_.clear();
  advance(SimulatedConsole::kShutdownDelay);
  EXPECT_EQ(out_, "reboot: failed (the host is busy)\r\nroot@simhost:~# ");
  EXPECT_EQ(console_->state(), SimulatedConsole::State::shell);
}

TEST_F(SimulatedConsoleTest, HistoryRingWrapsAndKeepsTheTail) {
  SimulatedConsoleConfig c;
  c.historyBytes = 64;
  make(true, c);
  advance(seconds(3));
  const std::string h = console_->history();
  EXPECT_EQ(h.size(), 64u);
  EXPECT_TRUE(h.ends_with("simhost login: "));
  EXPECT_GT(console_->totalOutput(), 1000u);
}

TEST_F(SimulatedConsoleTest, DestroyedConsoleIgnoresPowerEvents) {
  make(false);
  console_.reset();
  ASSERT_EQ(host_->request(ChassisAction::powerUp, RestartCause::chassisControl), Cc::ok);
  advance(seconds(5));
  EXPECT_EQ(queue_.size(), 0u);
}

// ---- Descriptor-backed consoles -------------------------------------------------------------------

// These use real descriptors: the io_context runs in short real-time slices, bounded to ~3 s.
class FdConsoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::path(testing::TempDir()) / "simbmc_console_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (int fd : fds_) ::close(fd);
    fs::remove_all(dir_);
  }
  int keep(int fd) {
    if (fd >= 0) fds_.push_back(fd);
    return fd;
  }
  // Runs the io_context (and, with `step`, virtual time) until done() or the bound.
  // done() is called once per round and may have side effects (accept, read).
  template <typename Pred>
  bool pump(Pred done, std::chrono::nanoseconds step = {}) {
    for (int i = 0; i < 600; ++i) {
      if (done()) return true;
      io_.restart();
      if (io_.run_for(milliseconds(5)) == 0) std::this_thread::sleep_for(milliseconds(1));
      if (step.count() > 0) clock_.advance(step);
      queue_.runDue();
    }
    return done();
  }
  // Reads what is available on fd within the pump bound, until it contains `want`.
  std::string readUntil(int fd, const std::string& want) {
    std::string got;
    pump([&] {
      char buf[512];
      pollfd p{fd, POLLIN, 0};
      while (::poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        got.append(buf, static_cast<size_t>(n));
      }
      return got.find(want) != std::string::npos;
    });
    return got;
  }
  static void writeAll(int fd, std::string_view s) {
    ASSERT_EQ(::write(fd, s.data(), s.size()), static_cast<ssize_t>(s.size()));
  }
  std::string path(const char* name) const { return (dir_ / name).string(); }

  boost::asio::io_context io_;
  FakeClock clock_;
  TimerQueue queue_{clock_};
  fs::path dir_;
  std::vector<int> fds_;
};

TEST_F(FdConsoleTest, PtyRoundTripThroughTheSlave) {
  auto made = PtyConsole::open(io_, PtyConsoleConfig{path("console.pty"), 1024});
  ASSERT_TRUE(made.hasValue()) << made.error().message;
  auto& pty = **made;
  EXPECT_TRUE(pty.slavePath().starts_with("/dev/pts/"));
  EXPECT_EQ(pty.endpoint(), pty.slavePath());
  EXPECT_EQ(fs::read_symlink(path("console.pty")).string(), pty.slavePath());
  std::string seen;
  pty.addOutputListener([&](std::span<const uint8_t> s) { seen.append(s.begin(), s.end()); });

  // A program attaches to the slave and prints: that is console output, byte for byte (raw mode: no
  // LF -> CR LF translation).
  const int slave = keep(::open(pty.slavePath().c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK));
  ASSERT_GE(slave, 0);
  writeAll(slave, "hello from the host\n");
  ASSERT_TRUE(pump([&] { return pty.history().find("host\n") != std::string::npos; })) << pty.history();
  EXPECT_EQ(pty.history(), "hello from the host\n");
  EXPECT_EQ(seen, "hello from the host\n");

  // SOL input arrives on the program's side, unechoed.
  EXPECT_EQ(pty.write(bytesOf("typed\r")), 6u);
  EXPECT_EQ(readUntil(slave, "typed\r"), "typed\r");
  EXPECT_EQ(pty.history(), "hello from the host\n");

  // The program detaches and another attaches: the console keeps working.
  ::close(slave);
  fds_.pop_back();
  const int again = keep(::open(pty.slavePath().c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK));
  ASSERT_GE(again, 0);
  writeAll(again, "second");
  ASSERT_TRUE(pump([&] { return pty.history().ends_with("second"); }));
  pty.sendBreak();

  made->reset();
  EXPECT_FALSE(fs::exists(fs::symlink_status(path("console.pty"))));
}

TEST_F(FdConsoleTest, PtyLinkPathMustNotBeARegularFile) {
  std::ofstream(path("file")) << "x";
  auto made = PtyConsole::open(io_, PtyConsoleConfig{path("file"), 1024});
  ASSERT_FALSE(made.hasValue());
  EXPECT_NE(made.error().message.find("not a symlink"), std::string::npos);
}

TEST_F(FdConsoleTest, SocketConsoleOverASocketpair) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  keep(sv[1]);
  auto made = SocketConsole::adopt(io_, queue_, sv[0]);
  ASSERT_TRUE(made.hasValue()) << made.error().message;
  auto& c = **made;
  EXPECT_TRUE(c.connected());
  writeAll(sv[1], "QEMU guest output\r\n");
  ASSERT_TRUE(pump([&] { return c.history() == "QEMU guest output\r\n"; })) << c.history();
  EXPECT_EQ(c.write(bytesOf("ls\r")), 3u);
  EXPECT_EQ(readUntil(sv[1], "ls\r"), "ls\r");
  // A lot of input at once: all of it arrives, in order (bounded queue, 64 KiB).
  std::string big;
  for (int i = 0; i < 3000; ++i) big += std::to_string(i) + ",";
  EXPECT_EQ(c.write(bytesOf(big)), big.size());
  EXPECT_EQ(readUntil(sv[1], "2999,"), big);
  // The peer closes: disconnected; input is then accepted and dropped.
  ::close(sv[1]);
  fds_.pop_back();
  ASSERT_TRUE(pump([&] { return !c.connected(); }));
  EXPECT_EQ(c.write(bytesOf("x")), 1u);
  EXPECT_EQ(c.droppedInput(), 1u);
}

TEST_F(FdConsoleTest, SocketConsoleConnectsToAUnixListenerAndReconnects) {
  const std::string sock = path("vm.sock");
  SocketConsoleConfig config;
  config.path = sock;
  auto made = SocketConsole::create(io_, queue_, config);  // nothing listens yet
  ASSERT_TRUE(made.hasValue()) << made.error().message;
  auto& c = **made;
  ASSERT_TRUE(pump([&] { return queue_.size() == 1; }));  // a reconnect is scheduled
  EXPECT_FALSE(c.connected());

  const int listener = keep(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  int peer = -1;
  ASSERT_TRUE(pump([&] { return (peer = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC)) >= 0; },
                   milliseconds(50)));
  keep(peer);
  ASSERT_TRUE(pump([&] { return c.connected(); }));
  EXPECT_EQ(c.connections(), 1u);
  writeAll(peer, "serial0 says hi");
  ASSERT_TRUE(pump([&] { return c.history() == "serial0 says hi"; }));
  c.write(bytesOf("k"));
  EXPECT_EQ(readUntil(peer, "k"), "k");

  // The peer goes away (QEMU restarted): the console reconnects after the backoff.
  ::close(peer);
  fds_.erase(std::find(fds_.begin(), fds_.end(), peer));
  ASSERT_TRUE(pump([&] { return !c.connected(); }));
  int second = -1;
  ASSERT_TRUE(pump([&] { return (second = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC)) >= 0; },
                   milliseconds(50)));
  keep(second);
  ASSERT_TRUE(pump([&] { return c.connected(); }));
  EXPECT_EQ(c.connections(), 2u);
  writeAll(second, " again");
  ASSERT_TRUE(pump([&] { return c.history() == "serial0 says hi again"; }));
}

TEST_F(FdConsoleTest, SocketConsoleListensOnLoopbackTcpForOneClient) {
  SocketConsoleConfig config;
  config.host = "127.0.0.1";
  config.port = 0;
  config.listen = true;
  auto made = SocketConsole::create(io_, queue_, config);
  ASSERT_TRUE(made.hasValue()) << made.error().message;
  auto& c = **made;
  ASSERT_NE(c.localPort(), 0);
  EXPECT_EQ(c.endpoint(), "tcp:127.0.0.1:" + std::to_string(c.localPort()));

  auto dial = [&] {
    const int fd = keep(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(c.localPort());
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    return fd;
  };
  const int first = dial();
  ASSERT_TRUE(pump([&] { return c.connected(); }));
  writeAll(first, "guest");
  ASSERT_TRUE(pump([&] { return c.history() == "guest"; }));
  c.write(bytesOf("in"));
  EXPECT_EQ(readUntil(first, "in"), "in");

  // A second client is turned away while the first is connected: it reads EOF.
  const int second = dial();
  bool eof = false;
  pump([&] {
    char b;
    const ssize_t n = ::recv(second, &b, 1, MSG_DONTWAIT);
    eof = n == 0;
    return eof;
  });
  EXPECT_TRUE(eof);
  EXPECT_EQ(c.connections(), 1u);
}

TEST_F(FdConsoleTest, SocketConsoleRejectsBadConfigs) {
  SocketConsoleConfig both;
  both.path = path("x.sock");
  both.host = "127.0.0.1";
  both.port = 5;
  EXPECT_FALSE(SocketConsole::create(io_, queue_, both).hasValue());
  SocketConsoleConfig neither;
  EXPECT_FALSE(SocketConsole::create(io_, queue_, neither).hasValue());
  SocketConsoleConfig named;
  named.host = "qemu.example";
  named.port = 4555;
  EXPECT_FALSE(SocketConsole::create(io_, queue_, named).hasValue());
  SocketConsoleConfig file;
  file.path = path("plain");
  file.listen = true;
  std::ofstream(path("plain")) << "x";
  EXPECT_FALSE(SocketConsole::create(io_, queue_, file).hasValue());
}

TEST_F(FdConsoleTest, CommandConsoleRunsCat) {
  CommandConsoleConfig config;
  config.command = "cat";
  config.instance = "t1";
  auto made = CommandConsole::start(io_, queue_, config);
  ASSERT_TRUE(made.hasValue()) << made.error().message;
  auto& c = **made;
  EXPECT_GT(c.pid(), 0);
  EXPECT_EQ(c.write(bytesOf("ping\n")), 5u);
  ASSERT_TRUE(pump([&] { return c.history() == "ping\n"; })) << c.history();
  const pid_t pid = c.pid();
  made->reset();  // closes cat's stdin; cat ends and is reaped
  EXPECT_NE(::kill(pid, 0), 0);
}

TEST_F(FdConsoleTest, CommandConsoleCapturesStderrAndRestartsOnFailure) {
  CommandConsoleConfig config;
  config.command = "echo out; echo err >&2; echo \"$SIMBMC_INSTANCE\"; exit 3";
  config.instance = "node9";
  config.restart = RestartPolicy::onFailure;
  auto made = CommandConsole::start(io_, queue_, config);
  ASSERT_TRUE(made.hasValue());
  auto& c = **made;
  ASSERT_TRUE(pump([&] { return c.starts() == 2; }, milliseconds(100))) << c.history();
  EXPECT_TRUE(c.history().starts_with("out\nerr\nnode9\n")) << c.history();
  ASSERT_TRUE(c.lastStatus().has_value());
  EXPECT_TRUE(WIFEXITED(*c.lastStatus()));
  EXPECT_EQ(WEXITSTATUS(*c.lastStatus()), 3);
}

TEST_F(FdConsoleTest, CommandConsoleNeverRestartsWhenTold) {
  CommandConsoleConfig config;
  config.command = "echo once";
  config.restart = RestartPolicy::never;
  auto made = CommandConsole::start(io_, queue_, config);
  ASSERT_TRUE(made.hasValue());
  auto& c = **made;
  ASSERT_TRUE(pump([&] { return c.pid() == 0; }, milliseconds(100)));
  EXPECT_EQ(queue_.size(), 0u);  // no restart pending
  clock_.advance(seconds(10));
  queue_.runDue();
  EXPECT_EQ(c.starts(), 1u);
  EXPECT_EQ(c.history(), "once\n");
  EXPECT_EQ(c.write(bytesOf("x")), 1u);  // nothing runs: accepted and dropped
}

TEST_F(FdConsoleTest, CommandConsoleKillsALingeringChildAtShutdown) {
  CommandConsoleConfig config;
  config.command = "trap '' TERM; exec sleep 30";
  config.shutdownGrace = Millis(100);
  auto made = CommandConsole::start(io_, queue_, config);
  ASSERT_TRUE(made.hasValue());
  const pid_t pid = (*made)->pid();
  made->reset();
  EXPECT_NE(::kill(pid, 0), 0);
}

TEST_F(FdConsoleTest, ConsoleLogAppendsAndRotates) {
  TestConsole c;
  c.emit("01234");  // before the log: taken from the history
  auto log = ConsoleLog::open(c, path("console.log"), 10);
  ASSERT_TRUE(log.hasValue()) << log.error().message;
  c.emit("56789");
  c.emit("abc");
  auto read = [](const std::string& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  EXPECT_EQ(read(path("console.log")), "abc");
  EXPECT_EQ(read(path("console.log.1")), "0123456789");
  struct stat st {};
  ASSERT_EQ(::stat(path("console.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  log->reset();
  EXPECT_EQ(c.listenerCount(), 0u);
}

TEST_F(FdConsoleTest, FactoryBuildsEachKind) {
  PowerConfig p;
  p.initiallyOn = true;
  HostPowerSim host(queue_, p, 0);
  ConsoleConfig sim;
  sim.logFile = path("sim.log");
  auto a = makeConsole(io_, queue_, host, sim, "f1");
  ASSERT_TRUE(a.hasValue()) << a.error().message;
  EXPECT_EQ(a->console->endpoint(), "simulated");
  ASSERT_NE(a->log, nullptr);

  ConsoleConfig pty;
  pty.kind = ConsoleConfig::Kind::pty;
  auto b = makeConsole(io_, queue_, host, pty, "f1");
  ASSERT_TRUE(b.hasValue()) << b.error().message;
  EXPECT_TRUE(b->console->endpoint().starts_with("/dev/pts/"));

  ConsoleConfig cmd;
  cmd.kind = ConsoleConfig::Kind::command;
  EXPECT_FALSE(makeConsole(io_, queue_, host, cmd, "f1").hasValue());  // no command
  ConsoleConfig sock;
  sock.kind = ConsoleConfig::Kind::socket;
  sock.path = path("s.sock");
  sock.listen = true;
  auto d = makeConsole(io_, queue_, host, sock, "f1");
  ASSERT_TRUE(d.hasValue()) << d.error().message;
  EXPECT_EQ(d->console->endpoint(), "unix:" + path("s.sock"));
  d->console.reset();
  EXPECT_FALSE(fs::exists(path("s.sock")));
}

}  // namespace
}  // namespace simbmc::sim
