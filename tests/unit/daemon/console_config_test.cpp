// [bmc.console] config tables: values parsed into sim::ConsoleConfig, defaults, and every mistake
// reported together with its location.
#include <gtest/gtest.h>

#include <string>

#include "bmc/daemon/config.hpp"

namespace simbmc::daemon {
namespace {

using Kind = sim::ConsoleConfig::Kind;

Result<DaemonConfig> parse(const std::string& console) {
  return parseConfig("[[bmc]]\nname = \"t\"\nport = 6230\n\n" + console, "test.toml");
}

sim::ConsoleConfig parsed(const std::string& text) {
  auto c = parse(text);
  EXPECT_TRUE(c.hasValue()) << (c ? "" : c.error().message);
  return c ? c->instances.at(0).console : sim::ConsoleConfig{};
}

std::string errors(const std::string& text) {
  auto c = parse(text);
  EXPECT_FALSE(c.hasValue());
  return c ? "" : c.error().message;
}

TEST(ConsoleConfigTest, DefaultIsTheSimulatedHost) {
  sim::ConsoleConfig c = parsed("");
  EXPECT_EQ(c.kind, Kind::simulated);
  EXPECT_EQ(c.historyBytes, 64u * 1024);
  EXPECT_EQ(c.loginPassword, "simbmc");
  EXPECT_EQ(c.hostname, "simhost");
  EXPECT_EQ(c.bootTime, Millis(3000));
  EXPECT_TRUE(c.logFile.empty());
}

TEST(ConsoleConfigTest, SimulatedOptions) {
  sim::ConsoleConfig c = parsed(R"(
[bmc.console]
kind = "simulated"
login_password = ""
hostname = "node7"
boot_ms = 0
history_bytes = 1024
log_file = "console.log"
log_max_bytes = 0
)");
  EXPECT_EQ(c.loginPassword, "");
  EXPECT_EQ(c.hostname, "node7");
  EXPECT_EQ(c.bootTime, Millis(0));
  EXPECT_EQ(c.historyBytes, 1024u);
  EXPECT_EQ(c.logFile, "console.log");
  EXPECT_EQ(c.logMaxBytes, 0u);
}

TEST(ConsoleConfigTest, PtySocketCommand) {
  sim::ConsoleConfig pty = parsed("[bmc.console]\nkind = \"pty\"\npath = \"ttyS0\"\n");
  EXPECT_EQ(pty.kind, Kind::pty);
  EXPECT_EQ(pty.path, "ttyS0");

  sim::ConsoleConfig unix = parsed("[bmc.console]\nkind = \"socket\"\npath = \"/tmp/vm.sock\"\nlisten = true\n");
  EXPECT_EQ(unix.kind, Kind::socket);
  EXPECT_EQ(unix.path, "/tmp/vm.sock");
  EXPECT_TRUE(unix.listen);

  sim::ConsoleConfig tcp = parsed("[bmc.console]\nkind = \"socket\"\nhost = \"127.0.0.1\"\nport = 4555\n");
  EXPECT_EQ(tcp.host, "127.0.0.1");
  EXPECT_EQ(tcp.port, 4555);
  EXPECT_FALSE(tcp.listen);

  sim::ConsoleConfig cmd =
      parsed("[bmc.console]\nkind = \"command\"\ncommand = \"cat\"\nrestart = \"always\"\nrestart_delay_ms = 250\n");
  EXPECT_EQ(cmd.kind, Kind::command);
  EXPECT_EQ(cmd.command, "cat");
  EXPECT_EQ(cmd.restart, sim::RestartPolicy::always);
  EXPECT_EQ(cmd.restartDelay, Millis(250));
  EXPECT_EQ(parsed("[bmc.console]\nkind = \"command\"\ncommand = \"x\"\n").restart, sim::RestartPolicy::onFailure);
  EXPECT_EQ(parsed("[bmc.console]\nkind = \"command\"\ncommand = \"x\"\nrestart = \"never\"\n").restart,
            sim::RestartPolicy::never);
}

TEST(ConsoleConfigTest, MistakesAreReportedTogether) {
  const std::string e = errors(R"(
[bmc.console]
kind = "serial"
colour = "red"
boot_ms = -5
restart = "sometimes"
)");
  EXPECT_NE(e.find("bmc[0].console.kind"), std::string::npos) << e;
  EXPECT_NE(e.find("bmc[0].console: unknown key 'colour'"), std::string::npos) << e;
  EXPECT_NE(e.find("bmc[0].console.boot_ms"), std::string::npos) << e;
  EXPECT_NE(e.find("bmc[0].console.restart"), std::string::npos) << e;
}

TEST(ConsoleConfigTest, KindSpecificRules) {
  EXPECT_NE(errors("[bmc.console]\nkind = \"socket\"\n").find("needs either path"), std::string::npos);
  EXPECT_NE(errors("[bmc.console]\nkind = \"socket\"\npath = \"/x\"\nport = 5\n").find("needs either path"),
            std::string::npos);
  EXPECT_NE(errors("[bmc.console]\nkind = \"socket\"\nhost = \"127.0.0.1\"\n").find("console.port: required"),
            std::string::npos);
  EXPECT_NE(errors("[bmc.console]\nkind = \"command\"\n").find("console.command: required"), std::string::npos);
  EXPECT_NE(errors("[bmc.console]\nkind = \"pty\"\ncommand = \"cat\"\n").find("console.command: applies to kind"),
            std::string::npos);
  EXPECT_NE(errors("[bmc.console]\nlisten = true\n").find("console.listen: applies to kind"), std::string::npos);
  EXPECT_NE(errors("[bmc.console]\nkind = \"pty\"\nlogin_password = \"x\"\n").find("login_password: applies"),
            std::string::npos);
  EXPECT_NE(errors("[bmc.console]\nhostname = \"\"\n").find("console.hostname"), std::string::npos);
  EXPECT_NE(errors("[bmc.console]\nkind = \"command\"\ncommand = \"x\"\nrestart_delay_ms = 5\n")
                .find("console.restart_delay_ms"),
            std::string::npos);
}

}  // namespace
}  // namespace simbmc::daemon
