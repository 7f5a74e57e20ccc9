#!/usr/bin/python3
"""The host console kinds of [bmc.console] in a running simbmcd, observed through the console log file
(SOL sessions on top of them are tested with the SOL clients): the pty (its path printed and written to
<state>/console.pty; bytes written to the slave become console output; SOL input arrives on the slave is
covered by the unit tests), the simulated host (boot log, power cycle visible as a second boot), a command,
a UNIX socket the daemon listens on (as QEMU's `-chardev socket` client would connect), and config errors.

Every wait is a bounded poll; only processes started here are signalled, by PID."""

import json
import os
import shutil
import socket
import tempfile

from harness import SIMBMCD, DaemonTestCase, free_port, main, make_config, poll, run

POWER = dict(initially_on=True, on_delay_ms=0, off_delay_ms=0, cycle_off_ms=200, soft_shutdown_ms=200)


def console_config(port, state_dir, console):
    text = make_config(port, state_dir, power=POWER)
    return text + "\n[bmc.console]\n" + "".join("{} = {}\n".format(k, json.dumps(v)) for k, v in console.items())


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


class Console(DaemonTestCase):
    class_daemon = False

    def start_daemon(self, console):
        state = tempfile.mkdtemp(prefix="simbmc-integ-console-")
        self.addCleanup(shutil.rmtree, state, True)
        port = free_port()
        self.d = self.new_daemon(config=console_config(port, state, console), port=port, state_dir=state)
        return self.d

    def console_log(self):
        return read(os.path.join(self.d.state_dir, "console.log"))

    def wait_log(self, predicate, what, tries=80):
        self.assertTrue(poll(lambda: predicate(self.console_log()), tries=tries, interval=0.1),
                        "timed out waiting for {}\n--- console.log ---\n{}\n--- daemon ---\n{}".format(
                            what, self.console_log(), self.d.log()[-3000:]))

    def test_pty_output_reaches_the_console(self):
        d = self.start_daemon(dict(kind="pty", path="ttyS0", log_file="console.log"))
        pty_file = os.path.join(d.state_dir, "console.pty")
        self.assertTrue(poll(lambda: os.path.exists(pty_file)), d.log())
        slave = read(pty_file).strip()
        self.assertRegex(slave, r"^/dev/pts/\d+$")
        self.assertIn("host console pty " + slave, d.stdout())
        self.assertIn("kind=pty endpoint=" + slave, d.log())
        self.assertEqual(os.readlink(os.path.join(d.state_dir, "ttyS0")), slave)

        fd = os.open(slave, os.O_RDWR | os.O_NOCTTY)
        try:
            os.write(fd, b"hello from the host\r\n")
            self.wait_log(lambda text: "hello from the host\r\n" in text, "the pty output")
            # Detach and attach again: still the same console.
            os.close(fd)
            fd = os.open(slave, os.O_RDWR | os.O_NOCTTY)
            os.write(fd, b"second program\r\n")
            self.wait_log(lambda text: text.endswith("second program\r\n"), "the second program's output")
        finally:
            os.close(fd)
        self.assertOk(d.ipmitool("mc", "info"))
        self.assertEqual(d.stop(), 0)
        self.assertFalse(os.path.lexists(os.path.join(d.state_dir, "ttyS0")), "the symlink is removed at exit")

    def test_simulated_host_boots_and_power_cycle_is_visible(self):
        d = self.start_daemon(dict(kind="simulated", boot_ms=200, hostname="rack1-node3", log_file="console.log"))
        self.wait_log(lambda text: text.endswith("rack1-node3 login: "), "the first boot")
        log = self.console_log()
        self.assertIn("simBIOS", log)
        self.assertIn("Linux version", log)
        self.assertOk(d.ipmitool("chassis", "power", "cycle"))
        self.wait_log(lambda text: text.count("simBIOS") == 2 and text.endswith("rack1-node3 login: "),
                      "the boot after the power cycle")
        self.assertOk(d.ipmitool("chassis", "power", "soft"))
        self.wait_log(lambda text: text.endswith("reboot: Power down\r\n"), "the soft shutdown")

    def test_command_console(self):
        d = self.start_daemon(dict(kind="command", command="echo console-from-a-command; exec cat",
                                   log_file="console.log"))
        self.wait_log(lambda text: "console-from-a-command\n" in text, "the command's output")
        self.assertIn("console command started", d.log())
        self.assertNotIn("exec cat", d.log(), "the command text is never logged")

    def test_socket_console_listens_for_qemu(self):
        sock_dir = tempfile.mkdtemp(prefix="simbmc-integ-sock-")
        self.addCleanup(shutil.rmtree, sock_dir, True)
        path = os.path.join(sock_dir, "vm.sock")
        d = self.start_daemon(dict(kind="socket", path=path, listen=True, log_file="console.log"))
        self.assertTrue(poll(lambda: os.path.exists(path)), d.log())
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.settimeout(10)
            s.connect(path)
            s.sendall(b"SeaBIOS (version 1.16.2-debian-1.16.2-1)\r\n")
            self.wait_log(lambda text: "SeaBIOS" in text, "the guest's output")
        finally:
            s.close()
        self.assertEqual(d.stop(), 0)
        self.assertFalse(os.path.exists(path), "the socket file is removed at exit")

    def test_bad_console_configs_exit_with_a_message(self):
        state = tempfile.mkdtemp(prefix="simbmc-integ-console-")
        self.addCleanup(shutil.rmtree, state, True)
        cases = [
            (dict(kind="serial"), "console.kind"),
            (dict(kind="socket"), "needs either path"),
            (dict(kind="command"), "console.command: required"),
            (dict(kind="pty", command="cat"), "console.command: applies to kind"),
            (dict(kind="simulated", boot_ms=-1), "console.boot_ms"),
        ]
        for console, want in cases:
            cfg = os.path.join(state, "bad.toml")
            with open(cfg, "w") as f:
                f.write(console_config(free_port(), os.path.join(state, "s"), console))
            r = run([SIMBMCD, "--config", cfg], timeout=20)
            self.assertEqual(r.rc, 1, r.describe())
            self.assertIn(want, r.err, r.describe())


if __name__ == "__main__":
    main()
