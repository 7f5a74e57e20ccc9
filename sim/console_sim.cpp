#include "sim/console_sim.hpp"

#include <ctime>

#include <fmt/core.h>

#include "common/log.hpp"

namespace simbmc::sim {
namespace {

using bmc::ChassisAction;
using bmc::PowerEvent;
using bmc::RestartCause;

constexpr const char* kKernelRelease = "6.1.0-sim-amd64";
constexpr const char* kKernelVersion = "#1 SMP PREEMPT_DYNAMIC Debian 6.1.0-sim";

// The boot log: when each piece appears (per mille of bootTime) and its text; "{host}" and
// "{cmdline}" are substituted. Every line ends in CR LF, as a serial console shows it.
struct BootLine {
  int permille;
  const char* text;
};
constexpr BootLine kBootLog[] = {
    {0, "\r\nsimBIOS 2.1.0 (simbmc simulated host firmware)\r\nCopyright (C) the simbmc authors\r\n\r\n"},
    {40, "CPU0: Simulated x86-64 Processor @ 2.40GHz, 8 cores\r\n"},
    {90, "Memory Test: 16384 MB OK\r\n"},
    {150, "Press <F2> to enter setup, <F12> for the boot menu\r\n\r\n"},
    {280, "Booting from Hard Disk 0...\r\n"},
    {330, "GRUB loading.\r\n"},
    {380, "Loading Linux 6.1.0-sim-amd64 ...\r\nLoading initial ramdisk ...\r\n"},
    {440, "[    0.000000] Linux version 6.1.0-sim-amd64 (simbmc@{host}) (gcc (Debian 12.2.0-14) 12.2.0) "
          "#1 SMP PREEMPT_DYNAMIC Debian 6.1.0-sim\r\n"
          "[    0.000000] Command line: {cmdline}\r\n"},
    {480, "[    0.412733] Serial: 8250/16550 driver, 4 ports, IRQ sharing enabled\r\n"
          "[    0.436019] 00:04: ttyS0 at I/O 0x3f8 (irq = 4, base_baud = 115200) is a 16550A\r\n"},
    {560, "[    1.052861] ipmi_si IPI0001:00: IPMI kcs interface initialized\r\n"},
    {640, "[    1.503214] EXT4-fs (sda1): mounted filesystem with ordered data mode. Quota mode: none.\r\n"},
    {720, "[    2.117690] systemd[1]: Detected architecture x86-64.\r\n"},
    {790, "[  OK  ] Started systemd-journald.service - Journal Service.\r\n"},
    {850, "[  OK  ] Reached target network.target - Network.\r\n"},
    {910, "[  OK  ] Started ssh.service - OpenBSD Secure Shell server.\r\n"},
    {960, "[  OK  ] Reached target multi-user.target - Multi-User System.\r\n"},
    {1000, "\r\nDebian GNU/Linux 12 {host} ttyS0\r\n\r\n"},
};

std::string substitute(std::string text, const std::string& host) {
  auto replaceAll = [&](const std::string& key, const std::string& value) {
    for (size_t pos = text.find(key); pos != std::string::npos; pos = text.find(key, pos + value.size()))
      text.replace(pos, key.size(), value);
  };
  replaceAll("{host}", host);
  replaceAll("{cmdline}", SimulatedConsole::kernelCommandLine());
  return text;
}

// Splits a command line into words, honouring '...' and "..." quoting (no expansions).
std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool inWord = false;
  char quote = 0;
  for (char c : line) {
    if (quote != 0) {
      if (c == quote) quote = 0;
      else cur.push_back(c);
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      inWord = true;
    } else if (c == ' ' || c == '\t') {
      if (inWord) out.push_back(std::move(cur));
      cur.clear();
      inWord = false;
    } else {
      cur.push_back(c);
      inWord = true;
    }
  }
  if (inWord) out.push_back(std::move(cur));
  return out;
}

}  // namespace

std::string SimulatedConsole::kernelCommandLine() {
  return fmt::format("BOOT_IMAGE=/boot/vmlinuz-{} root=/dev/sda1 ro console=tty0 console=ttyS0,115200n8",
                     kKernelRelease);
}

SimulatedConsole::SimulatedConsole(TimerQueue& timers, bmc::HostControl& host, SimulatedConsoleConfig config)
    : ConsoleBase(config.historyBytes), timers_(timers), host_(host), config_(std::move(config)) {
  std::weak_ptr<bool> alive = alive_;
  host_.addListener([this, alive](PowerEvent e) {
    if (alive.expired()) return;
    onPowerEvent(e);
  });
  if (host_.powerOn()) startBoot();
}

SimulatedConsole::~SimulatedConsole() { cancelAll(); }

size_t SimulatedConsole::write(std::span<const uint8_t> bytes) {
  // An unpowered host's UART drops what arrives; the characters are "sent", not refused.
  if (state_ == State::off || state_ == State::shuttingDown) return bytes.size();
  const size_t room = kInputLimit > inbox_.size() ? kInputLimit - inbox_.size() : 0;
  const size_t n = std::min(room, bytes.size());
  inbox_.append(reinterpret_cast<const char*>(bytes.data()), n);
  scheduleInput();
  return n;
}

void SimulatedConsole::sendBreak() {
  if (state_ == State::login || state_ == State::password || state_ == State::shell) sysrq_ = true;
}

std::string SimulatedConsole::kernelStamp() const {
  // Kernel-style timestamps: time since power on.
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(timers_.clock().now() - bootStart_).count();
  return fmt::format("[{:5d}.{:06d}]", us / 1'000'000, us % 1'000'000);
}

void SimulatedConsole::onPowerEvent(PowerEvent event) {
  switch (event) {
    case PowerEvent::poweredOn:
    case PowerEvent::reset:
      startBoot();
      break;
    case PowerEvent::poweredOff:
      cancelAll();
      state_ = State::off;
      inbox_.clear();
      line_.clear();
      break;
    case PowerEvent::softShutdownRequested:
      if (state_ == State::off) break;
      cancelAll();
      inbox_.clear();
      line_.clear();
      state_ = State::shuttingDown;
      emit(std::string_view("\r\n[  OK  ] Stopped target multi-user.target - Multi-User System.\r\n"
                            "[  OK  ] Reached target poweroff.target - System Power Off.\r\n"
                            "reboot: Power down\r\n"));
      break;
    case PowerEvent::diagnosticInterrupt: {
      if (state_ == State::off) break;
      const std::string stamp = kernelStamp();
      emit(fmt::format("\r\n{} Uhhuh. NMI received for unknown reason 3d on CPU 0.\r\n"
                       "{} Dazed and confused, but trying to continue\r\n",
                       stamp, stamp));
      break;
    }
  }
}

void SimulatedConsole::startBoot() {
  cancelAll();
  inbox_.clear();
  line_.clear();
  user_.clear();
  lastWasCr_ = false;
  escape_ = 0;
  sysrq_ = false;
  state_ = State::booting;
  bootStart_ = timers_.clock().now();
  bootStep(0);
}

void SimulatedConsole::bootStep(size_t index) {
  bootTimer_ = 0;
  constexpr size_t count = std::size(kBootLog);
  // Everything due by now is printed in one burst (a zero bootTime prints the whole log at once).
  while (index < count) {
    const SteadyTime due = bootStart_ + config_.bootTime * kBootLog[index].permille / 1000;
    if (due > timers_.clock().now()) {
      bootTimer_ = timers_.scheduleAt(due, [this, index] { bootStep(index); });
      return;
    }
    emit(substitute(kBootLog[index].text, config_.hostname));
    ++index;
  }
  state_ = State::login;
  loginReady_ = timers_.clock().now();
  emit(loginPrompt());
  if (!inbox_.empty()) processInput();  // type-ahead (we are in a timer callback, not in write())
}

void SimulatedConsole::cancelAll() {
  for (TimerQueue::Id* id : {&bootTimer_, &inputTimer_, &actionTimer_}) {
    if (*id != 0) timers_.cancel(*id);
    *id = 0;
  }
}

void SimulatedConsole::scheduleInput() {
  if (inputTimer_ != 0 || inbox_.empty()) return;
  if (state_ != State::login && state_ != State::password && state_ != State::shell) return;
  inputTimer_ = timers_.scheduleAfter(Millis{0}, [this] {
    inputTimer_ = 0;
    processInput();
  });
}

void SimulatedConsole::processInput() {
  std::string out;
  size_t used = 0;
  while (used < inbox_.size() &&
         (state_ == State::login || state_ == State::password || state_ == State::shell)) {
    handleByte(static_cast<uint8_t>(inbox_[used++]), out);
  }
  // A reboot/poweroff stops the shell: what was typed after it is never read.
  if (state_ == State::shuttingDown || state_ == State::off) inbox_.clear();
  else inbox_.erase(0, used);
  emit(out);
}

void SimulatedConsole::handleByte(uint8_t c, std::string& out) {
  if (sysrq_) {
    sysrq_ = false;
    return handleSysRq(c, out);
  }
  if (escape_ == 1) {
    escape_ = c == '[' ? 2 : 0;
    return;
  }
  if (escape_ == 2) {
    if (c >= 0x40 && c <= 0x7E) escape_ = 0;  // the final byte of a CSI sequence
    return;
  }
  const bool wasCr = lastWasCr_;
  lastWasCr_ = false;
  const bool echo = state_ != State::password;
  switch (c) {
    case '\r':
      lastWasCr_ = true;
      endLine(out);
      return;
    case '\n':
      if (!wasCr) endLine(out);
      return;
    case 0x08:
    case 0x7F:
      if (!line_.empty()) {
        line_.pop_back();
        if (echo) out += "\b \b";
      }
      return;
    case 0x03:  // ^C
      out += "^C\r\n";
      line_.clear();
      if (state_ == State::password) state_ = State::login;
      out += state_ == State::shell ? prompt() : loginPrompt();
      return;
    case 0x15:  // ^U
      if (echo)
        for (size_t i = 0; i < line_.size(); ++i) out += "\b \b";
      line_.clear();
      return;
    case 0x04:  // ^D
      if (state_ == State::shell && line_.empty()) {
        out += "logout\r\n";
        state_ = State::login;
        user_.clear();
        out += substitute(kBootLog[std::size(kBootLog) - 1].text, config_.hostname) + loginPrompt();
      }
      return;
    case 0x1B:
      escape_ = 1;
      return;
    default:
      break;
  }
  if (c < 0x20) return;  // other control characters: ignored
  if (line_.size() >= kLineLimit) return;
  line_.push_back(static_cast<char>(c));
  if (echo) out.push_back(static_cast<char>(c));
}

void SimulatedConsole::handleSysRq(uint8_t c, std::string& out) {
  const std::string stamp = kernelStamp();
  if (c == 'b') {
    out += "\r\n" + stamp + " sysrq: Resetting\r\n";
    afterShutdownLines(ChassisAction::hardReset);
    return;
  }
  if (c == 'o') {
    out += "\r\n" + stamp + " sysrq: Power Off\r\n";
    afterShutdownLines(ChassisAction::powerDown);
    return;
  }
  out += "\r\n" + stamp + " sysrq: HELP : reboot(b) poweroff(o)\r\n";
}

void SimulatedConsole::endLine(std::string& out) {
  std::string line;
  line.swap(line_);
  out += "\r\n";
  switch (state_) {
    case State::login: {
      auto w = words(line);
      if (w.empty()) {
        out += loginPrompt();
        return;
      }
      user_ = w[0];
      state_ = State::password;
      out += "Password: ";
      return;
    }
    case State::password:
      if (config_.loginPassword.empty() || line == config_.loginPassword) {
        state_ = State::shell;
        out += fmt::format("Linux {} {} {} x86_64\r\n\r\n", config_.hostname, kKernelRelease, kKernelVersion);
        out += "The programs included with the simulated Debian GNU/Linux system are simulated.\r\n\r\n";
        out += prompt();
      } else {
        state_ = State::login;
        user_.clear();
        out += "\r\nLogin incorrect\r\n" + loginPrompt();
      }
      return;
    case State::shell:
      runCommand(line, out);
      return;
    default:
      return;
  }
}

void SimulatedConsole::runCommand(const std::string& line, std::string& out) {
  const std::vector<std::string> w = words(line);
  auto done = [&](const std::string& text) {
    out += text;
    out += prompt();
  };
  if (w.empty()) return done("");
  const std::string& cmd = w[0];
  if (cmd == "echo") {
    std::string text;
    for (size_t i = 1; i < w.size(); ++i) text += (i > 1 ? " " : "") + w[i];
    return done(text + "\r\n");
  }
  if (cmd == "uname") {
    const std::string opt = w.size() > 1 ? w[1] : "-s";
    if (opt == "-a")
      return done(fmt::format("Linux {} {} {} x86_64 GNU/Linux\r\n", config_.hostname, kKernelRelease, kKernelVersion));
    if (opt == "-s") return done("Linux\r\n");
    if (opt == "-r") return done(std::string(kKernelRelease) + "\r\n");
    if (opt == "-n") return done(config_.hostname + "\r\n");
    if (opt == "-m") return done("x86_64\r\n");
    return done("uname: invalid option -- '" + opt + "'\r\n");
  }
  if (cmd == "hostname") return done(config_.hostname + "\r\n");
  if (cmd == "whoami") return done(user_ + "\r\n");
  if (cmd == "uptime") return done(uptimeText() + "\r\n");
  if (cmd == "date") {
    const time_t t = static_cast<time_t>(timers_.clock().unixSeconds());
    struct tm tm {};
    gmtime_r(&t, &tm);
    char buf[64];
    const size_t n = strftime(buf, sizeof buf, "%a %b %e %H:%M:%S UTC %Y", &tm);
    return done(std::string(buf, n) + "\r\n");
  }
  if (cmd == "cat") {
    std::string text;
    for (size_t i = 1; i < w.size(); ++i) {
      if (w[i] == "/proc/cmdline") text += kernelCommandLine() + "\r\n";
      else if (w[i] == "/etc/hostname") text += config_.hostname + "\r\n";
      else text += "cat: " + w[i] + ": No such file or directory\r\n";
    }
    return done(text);
  }
  if (cmd == "help") {
    return done("simhost shell commands: echo, uname [-a|-r|-n|-s|-m], hostname, whoami, uptime, date,\r\n"
                "cat /proc/cmdline, exit, reboot, poweroff, help\r\n");
  }
  if (cmd == "exit" || cmd == "logout") {
    state_ = State::login;
    user_.clear();
    out += "logout\r\n" + substitute(kBootLog[std::size(kBootLog) - 1].text, config_.hostname) + loginPrompt();
    return;
  }
  if (cmd == "reboot") {
    out += "Rebooting...\r\n"
           "[  OK  ] Stopped target multi-user.target - Multi-User System.\r\n"
           "[  OK  ] Reached target reboot.target - System Reboot.\r\n"
           "reboot: Restarting system\r\n";
    afterShutdownLines(ChassisAction::powerCycle);
    return;
  }
  if (cmd == "poweroff" || cmd == "shutdown" || cmd == "halt") {
    out += "[  OK  ] Stopped target multi-user.target - Multi-User System.\r\n"
           "[  OK  ] Reached target poweroff.target - System Power Off.\r\n"
           "reboot: Power down\r\n";
    afterShutdownLines(ChassisAction::powerDown);
    return;
  }
  done("-sh: " + cmd + ": command not found\r\n");
}

void SimulatedConsole::afterShutdownLines(ChassisAction action) {
  const State before = state_ == State::shell ? State::shell : State::login;
  state_ = State::shuttingDown;
  // Later, from the TimerQueue: the request completes synchronously with zero delays and its power
  // events re-enter this console; the shutdown lines must be out first.
  actionTimer_ = timers_.scheduleAfter(kShutdownDelay, [this, action, before] {
    actionTimer_ = 0;
    const Cc cc = host_.request(action, RestartCause::softReset);
    if (cc != Cc::ok) {
      const char* what = action == ChassisAction::powerDown ? "poweroff" : "reboot";
      log::warn("simulated host: {} from the console refused cc=0x{:02x}", what, toByte(cc));
      if (state_ == State::shuttingDown) {
        state_ = before;
        if (before == State::login) user_.clear();
        emit(fmt::format("{}: failed (the host is busy)\r\n{}", what, before == State::shell ? prompt() : loginPrompt()));
      }
    }
  });
}

std::string SimulatedConsole::prompt() const {
  if (user_ == "root") return "root@" + config_.hostname + ":~# ";
  return user_ + "@" + config_.hostname + ":~$ ";
}

std::string SimulatedConsole::uptimeText() const {
  const time_t t = static_cast<time_t>(timers_.clock().unixSeconds());
  struct tm tm {};
  gmtime_r(&t, &tm);
  const auto up = std::chrono::duration_cast<std::chrono::minutes>(timers_.clock().now() - bootStart_).count();
  const int64_t days = up / (24 * 60);
  const int64_t hours = (up / 60) % 24;
  const int64_t minutes = up % 60;
  std::string upText;
  if (days > 0) upText = fmt::format("{} day{}, ", days, days == 1 ? "" : "s");
  if (up < 60) upText += fmt::format("{} min", minutes);
  else upText += fmt::format("{:2d}:{:02d}", hours, minutes);
  return fmt::format(" {:02d}:{:02d}:{:02d} up {},  1 user,  load average: 0.00, 0.01, 0.00", tm.tm_hour,
                     tm.tm_min, tm.tm_sec, upText);
}

}  // namespace simbmc::sim
