// SimulatedConsole: the serial console of the simulated host, so SOL has something real to talk to.
//
// Follows the host's power (bmc::HostControl listener):
// - power on or reset: a firmware/boot log (firmware banner, memory test, "Booting from ...", boot
//   loader, kernel lines, services) spread over `bootTime` of TimerQueue time, ending with
//   "<hostname> login: ". A reset starts the log again from the banner, visibly.
// - power off (including the off phase of a cycle): output stops, nothing more is printed, typed
//   characters are lost (the host's UART is unpowered; write() reports them accepted). The same
//   while the host shuts down after reboot/poweroff.
// - soft shutdown request (ACPI power button): the shutdown lines ending "reboot: Power down".
// - diagnostic interrupt: the kernel's NMI message.
// If the host is already on when the console is created, the boot log starts at once.
//
// The shell is line oriented, like a getty + login + sh on a serial line: characters are echoed
// (CR or LF ends a line and echoes CR LF; a CR LF pair counts once), backspace/DEL erase, ^C
// abandons the line, ^U erases it, ^D on an empty line logs out, escape sequences (arrow keys) are
// ignored. Login: any user name, then "Password: " without echo; the password must equal
// `loginPassword` (any password when it is empty). The prompt is "root@<hostname>:~# " for root and
// "<user>@<hostname>:~$ " for anyone else. Commands: echo, uname [-a|-r|-n|-s|-m], hostname, uptime,
// date, whoami, cat /proc/cmdline, help, exit/logout, reboot (prints "Rebooting..." and asks the
// HostControl for a power cycle, cause "soft reset"), poweroff (prints "reboot: Power down" and asks
// for a power down). Anything else: "-sh: <word>: command not found".
//
// A serial break followed by a character is a Linux magic SysRq request, as on a real serial console
// (ipmitool's "~B" then the key): b = reset (through HostControl, hard reset), o = power off, any
// other key prints the SysRq help. The character after a break is not otherwise processed.
//
// Input is processed from a TimerQueue callback (never inside write(), so a caller never sees its
// own echo re-enter it); characters typed while the host boots are kept (up to 4 KiB) and handled
// when the login prompt appears, like a tty's type-ahead. write() accepts nothing beyond that bound.
//
// Single-threaded. `timers` (and its Clock) and `host` must outlive this object; the destructor
// cancels its timers and detaches its host listener.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bmc/host_control.hpp"
#include "common/timer_queue.hpp"
#include "sim/console_base.hpp"

namespace simbmc::sim {

struct SimulatedConsoleConfig {
  std::string hostname = "simhost";
  std::string loginPassword = "simbmc";  // empty: any password is accepted
  Millis bootTime{3000};
  size_t historyBytes = kDefaultHistoryBytes;
};

class SimulatedConsole final : public ConsoleBase {
 public:
  enum class State { off, booting, login, password, shell, shuttingDown };

  SimulatedConsole(TimerQueue& timers, bmc::HostControl& host, SimulatedConsoleConfig config = {});
  ~SimulatedConsole() override;

  size_t write(std::span<const uint8_t> bytes) override;
  void sendBreak() override;
  std::string endpoint() const override { return "simulated"; }

  State state() const { return state_; }
  // The kernel command line the shell reports (cat /proc/cmdline) and the boot log prints.
  static std::string kernelCommandLine();

  static constexpr size_t kInputLimit = 4096;
  static constexpr size_t kLineLimit = 256;
  // Between the last line of "reboot"/"poweroff" and the power request.
  static constexpr Millis kShutdownDelay{200};

 private:
  void onPowerEvent(bmc::PowerEvent event);
  void startBoot();
  void bootStep(size_t index);
  void cancelAll();
  void scheduleInput();
  void processInput();
  void handleByte(uint8_t c, std::string& out);
  void handleSysRq(uint8_t c, std::string& out);
  std::string kernelStamp() const;
  void endLine(std::string& out);
  void runCommand(const std::string& line, std::string& out);
  void afterShutdownLines(bmc::ChassisAction action);
  std::string prompt() const;
  std::string loginPrompt() const { return config_.hostname + " login: "; }
  std::string uptimeText() const;

  TimerQueue& timers_;
  bmc::HostControl& host_;
  SimulatedConsoleConfig config_;
  State state_ = State::off;
  SteadyTime bootStart_{};
  SteadyTime loginReady_{};
  std::string inbox_;  // typed, not yet processed
  std::string line_;   // the line being edited
  std::string user_;
  bool lastWasCr_ = false;
  int escape_ = 0;  // 0 none, 1 after ESC, 2 inside a CSI sequence
  bool sysrq_ = false;  // a break arrived: the next character is a SysRq key
  TimerQueue::Id bootTimer_ = 0;
  TimerQueue::Id inputTimer_ = 0;
  TimerQueue::Id actionTimer_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace simbmc::sim
