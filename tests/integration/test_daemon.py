#!/usr/bin/python3
"""simbmcd as a process: configuration errors, start-up failures, the generated admin password,
persistence across SIGTERM and kill -9 restarts, signals, session limits and lockout."""

import os
import re
import shutil
import signal
import sqlite3
import tempfile

from harness import (ADMIN_PASSWORD, ADMIN_USER, HOST, SIMBMCD, DaemonTestCase, RmcpClient, fields, free_port,
                     main, make_config, poll, run)


def user_row(text, uid):
    m = re.search(r"(?m)^{}\s+(\S*)\s+(true|false)\s+(true|false)\s+(true|false)\s+(.+?)\s*$".format(uid), text)
    return (m.group(1), m.group(5)) if m else None


class StartupErrors(DaemonTestCase):
    """Start-up failures: exit code 1 and one clear message, quickly."""

    class_daemon = False

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="simbmc-integ-daemon-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def start_fails(self, *args):
        r = run([SIMBMCD] + list(args), timeout=20)
        self.assertEqual(r.rc, 1, "expected exit code 1\n" + r.describe())
        return r

    def test_bad_config_lists_every_error(self):
        path = self.write("bad.toml", """
[[bmc]]
name = "bad"
bind = "127.0.0.1"
port = 99999
state_dir = "{}"
colour = "red"

[bmc.lan]
max_sessions = 0
""".format(os.path.join(self.tmp, "state")))
        r = self.start_fails("--config", path)
        self.assertIn("invalid configuration", r.err, r.describe())
        self.assertIn("bmc[0].port", r.err, r.describe())
        self.assertIn("bmc[0].lan.max_sessions", r.err, r.describe())
        self.assertIn("unknown key 'colour'", r.err, r.describe())
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "state")), "nothing may be created on a bad config")

    def test_toml_syntax_error(self):
        path = self.write("syntax.toml", "[[bmc]\nname = \"x\"\n")
        r = self.start_fails("--config", path)
        self.assertIn("syntax.toml:1", r.err, "the message must name the file and line\n" + r.describe())

    def test_missing_config_file(self):
        r = self.start_fails("--config", os.path.join(self.tmp, "nope.toml"))
        self.assertIn("nope.toml", r.err, r.describe())

    def test_bad_command_line_user(self):
        r = self.start_fails("--port", str(free_port()), "--state-dir", os.path.join(self.tmp, "s"),
                             "--user", "nocolon")
        self.assertIn("--user", r.err, r.describe())

    def test_bad_log_level(self):
        r = self.start_fails("--port", str(free_port()), "--state-dir", os.path.join(self.tmp, "s"),
                             "--log-level", "chatty")
        self.assertIn("--log-level", r.err, r.describe())

    def test_port_in_use(self):
        first = self.new_daemon(dict())
        r = self.start_fails("--config", self.write("second.toml", make_config(
            first.port, os.path.join(self.tmp, "second"))))
        self.assertIn("{}:{}".format(HOST, first.port), r.err, "the message must name the address\n" + r.describe())
        self.assertTrue(first.alive(), "the first daemon must be unaffected")
        self.assertOk(first.ipmitool("mc", "info"))

    def test_unwritable_state_dir(self):
        regular = self.write("a-file", "not a directory\n")
        state = os.path.join(regular, "state")
        r = self.start_fails("--config", self.write("c.toml", make_config(free_port(), state)))
        self.assertIn(state, r.err, "the message must name the state directory\n" + r.describe())

    def test_insecure_suite_needs_lab_mode(self):
        for lan, text in ((dict(cipher_suites=[0, 17]), "cipher suite 0"),
                          (dict(cipher_suites=[1, 17]), "cipher suite 1"),
                          (dict(cipher_suites=[17], auth_types=["md5", "none"]), "auth types"),
                          (dict(cipher_suites=[17], auth_types=["password"]), "auth types")):
            with self.subTest(lan=lan):
                path = self.write("insecure.toml", make_config(free_port(), os.path.join(self.tmp, "st"), lan=lan))
                r = self.start_fails("--config", path)
                self.assertIn(text, r.err, r.describe())
                self.assertIn("allow_insecure", r.err, r.describe())

    def test_corrupt_database(self):
        state = os.path.join(self.tmp, "state")
        d = self.new_daemon(dict(), state_dir=state)
        self.assertEqual(d.stop(), 0)
        with open(os.path.join(state, "state.db"), "r+b") as f:
            f.write(b"this is not an SQLite database at all" * 20)
        for name in os.listdir(state):
            if name.startswith("state.db-"):
                os.remove(os.path.join(state, name))  # WAL/SHM of the good database
        d.start(wait=False)
        try:
            d.proc.wait(timeout=10)
        except Exception:
            pass
        if d.proc.poll() is None:
            # Acceptable too: it moved the damaged file aside and said so loudly.
            d.wait_ready()
            self.assertRegex(d.log(), r"(?i)corrupt", d.log())
        else:
            self.assertEqual(d.proc.returncode, 1, d.log())
            self.assertRegex(d.log(), r"(?i)corrupt", d.log())
            self.assertIn("state.db", d.log())


class GeneratedPassword(DaemonTestCase):

    class_daemon = False

    def test_generated_admin_password_printed_once(self):
        state = tempfile.mkdtemp(prefix="simbmc-state-")
        self.addCleanup(shutil.rmtree, state, True)
        d = self.new_daemon(None, state_dir=state)  # embedded default config, --port/--state-dir
        m = poll(lambda: re.search(r"generated password for user 'admin': (\S+)", d.stdout()), tries=20)
        self.assertIsNotNone(m, "no generated password on stdout\nstdout: {}\nstderr: {}".format(
            d.stdout(), d.log()))
        password = m.group(1)
        self.assertGreaterEqual(len(password), 12)
        self.assertEqual(d.stdout().count(password), 1, "printed once")
        self.assertNotIn(password, d.log(), "the password must not appear in the log")
        r = self.assertOk(d.ipmitool("mc", "info", password=password))
        self.assertEqual(fields(r.out).get("IPMI Version"), "2.0", r.describe())
        with open(os.path.join(state, "state.db"), "rb") as f:
            self.assertNotIn(password.encode(), f.read(), "password stored in plain text")
        for name in os.listdir(state):
            mode = os.stat(os.path.join(state, name)).st_mode & 0o777
            self.assertEqual(mode & 0o077, 0, "{} is mode {:o}".format(name, mode))
        self.assertEqual(os.stat(state).st_mode & 0o077, 0, "state directory readable by others")

        self.assertEqual(d.restart(), 0)
        self.assertNotIn("generated password", d.stdout(), "a restart must not print a new password")
        self.assertOk(d.ipmitool("mc", "info", password=password), "the same password must work after restart")
        self.assertFails(d.ipmitool("mc", "info", password="admin", timeout=30))

    def test_command_line_user(self):
        d = self.new_daemon(None, users=["admin:Cli-Admin-Pw-9:administrator", "oper:Cli-Oper-Pw-9:operator"])
        self.assertNotIn("generated password", d.stdout())
        self.assertOk(d.ipmitool("chassis", "power", "status", password="Cli-Admin-Pw-9"))
        r = self.assertOk(d.ipmitool("session", "info", "active", user="oper", password="Cli-Oper-Pw-9",
                                     priv="OPERATOR"))
        self.assertEqual(fields(r.out).get("privilege level"), "OPERATOR", r.describe())


class Persistence(DaemonTestCase):
    """Users and chassis settings survive SIGTERM and kill -9."""

    class_daemon = False

    def configure(self, d, policy, bootdev, user_id, name, password):
        self.assertOk(d.ipmitool("chassis", "policy", policy))
        self.assertOk(d.ipmitool("chassis", "bootdev", bootdev, "options=persistent"))
        self.assertOk(d.ipmitool("user", "set", "name", str(user_id), name))
        self.assertOk(d.ipmitool("user", "set", "password", str(user_id), password))
        self.assertOk(d.ipmitool("user", "enable", str(user_id)))
        self.assertOk(d.ipmitool("channel", "setaccess", "1", str(user_id), "ipmi=on", "link=on", "privilege=3"))

    def check(self, d, policy, device_text, user_id, name, password):
        r = self.assertOk(d.ipmitool("chassis", "status"))
        self.assertEqual(fields(r.out).get("Power Restore Policy"), policy, r.describe())
        r = self.assertOk(d.ipmitool("chassis", "bootparam", "get", "5"))
        self.assertIn("Boot Device Selector : " + device_text, r.out, r.describe())
        self.assertIn("Options apply to all future boots", r.out, r.describe())
        r = self.assertOk(d.ipmitool("user", "list", "1"))
        self.assertEqual(user_row(r.out, user_id), (name, "OPERATOR"), r.describe())
        r = self.assertOk(d.ipmitool("chassis", "power", "status", user=name, password=password, priv="OPERATOR"))
        return r

    def test_sigterm_restart(self):
        d = self.new_daemon(dict())
        self.configure(d, "always-on", "pxe", 4, "carol", "Carol-Pw-444")
        self.assertOk(d.ipmitool("chassis", "power", "off"))
        self.assertEqual(d.restart(signal.SIGTERM), 0, "SIGTERM must exit 0")
        self.check(d, "always-on", "Force PXE", 4, "carol", "Carol-Pw-444")
        r = self.assertOk(d.ipmitool("chassis", "power", "status"))
        self.assertIn("Chassis Power is on", r.out, "restore policy always-on: on after restart\n" + r.describe())

    def test_kill9_restart(self):
        d = self.new_daemon(dict())
        self.configure(d, "always-off", "disk", 5, "dave", "Dave-Pw-555")
        self.assertOk(d.ipmitool("chassis", "power", "on"))
        d.kill9()
        self.assertEqual(d.returncode, -signal.SIGKILL)
        d.start()
        self.check(d, "always-off", "Force Boot from default Hard-Drive", 5, "dave", "Dave-Pw-555")
        r = self.assertOk(d.ipmitool("chassis", "power", "status"))
        self.assertIn("Chassis Power is off", r.out, "restore policy always-off: off after restart\n" + r.describe())

    def test_previous_policy_restart(self):
        d = self.new_daemon(dict())
        self.assertOk(d.ipmitool("chassis", "policy", "previous"))
        for state in ("off", "on"):
            self.assertOk(d.ipmitool("chassis", "power", state))
            d.kill9()
            d.start()
            r = self.assertOk(d.ipmitool("chassis", "power", "status"))
            self.assertIn("Chassis Power is " + state, r.out, "policy previous\n" + r.describe())

    def test_password_changed_over_ipmi_wins_over_config(self):
        d = self.new_daemon(dict())
        self.assertOk(d.ipmitool("user", "set", "password", "2", "Changed-Admin-Pw-1"))
        d.kill9()
        d.start()
        self.assertOk(d.ipmitool("mc", "info", password="Changed-Admin-Pw-1"))
        self.assertFails(d.ipmitool("mc", "info", timeout=30))  # the config's password no longer works

    def test_lan_and_system_info_survive_restart(self):
        d = self.new_daemon(dict())
        self.assertOk(d.ipmitool("lan", "set", "1", "snmp", "persisted"))
        self.assertOk(d.ipmitool("mc", "setsysinfo", "system_name", "persist-host"))
        d.kill9()
        d.start()
        r = self.assertOk(d.ipmitool("lan", "print", "1"))
        self.assertEqual(fields(r.out).get("SNMP Community String"), "persisted", r.describe())
        r = self.assertOk(d.ipmitool("mc", "getsysinfo", "system_name"))
        self.assertEqual(r.out.strip(), "persist-host", r.describe())

    def test_guid_is_stable(self):
        d = self.new_daemon(dict())
        before = fields(self.assertOk(d.ipmitool("mc", "guid")).out).get("System GUID")
        d.restart()
        after = fields(self.assertOk(d.ipmitool("mc", "guid")).out).get("System GUID")
        self.assertEqual(before, after)


class ChannelAndMc(DaemonTestCase):

    class_daemon = False

    def test_channel_privilege_limit_caps_sessions(self):
        d = self.new_daemon(dict())
        r = self.assertOk(d.freeipmi("ipmi-config", "--commit", "-e",
                                     "Lan_Channel:Volatile_Channel_Privilege_Limit=Operator"))
        r = self.assertFails(d.ipmitool("mc", "info", timeout=30))
        self.assertLess(r.elapsed, 8.0, r.describe())
        r = self.assertOk(d.ipmitool("session", "info", "active", priv="OPERATOR"))
        self.assertEqual(fields(r.out).get("privilege level"), "OPERATOR", r.describe())
        r = self.assertFails(d.ipmitool("mc", "info", iface="lan", timeout=30))
        self.assertIn("Requested privilege level exceeds limit", r.err, r.describe())
        self.assertOk(d.ipmitool("mc", "info", iface="lan", priv="OPERATOR"))

    def test_a_stored_disabled_channel_refuses_at_once_and_says_how_to_undo_it(self):
        """`ipmitool lan set 1 access off` sets the volatile and the non-volatile access mode to disabled (IPMI
        v2.0 §22.22). New sessions are refused at once (Open Session status 01h), not left to time out, also
        after a restart, where the log names the way back: the stored setting deleted from state.db."""
        d = self.new_daemon(dict())
        self.assertOk(d.ipmitool("lan", "set", "1", "access", "off"))
        r = self.assertFails(d.ipmitool("mc", "info", timeout=30))
        self.assertIn("insufficient resources for session", r.err, "refused, not timed out\n" + r.describe())
        r = self.assertFails(d.ipmitool("mc", "info", iface="lan", timeout=30))
        self.assertIn("Get Session Challenge command failed: Command not supported in present state", r.err,
                      "IPMI 1.5: refused, not timed out\n" + r.describe())
        self.assertEqual(d.restart(), 0)
        self.assertIn("lan channel 1 starts disabled", d.log() + d.stdout())
        self.assertIn("DELETE FROM settings WHERE key='channel.access'", d.log() + d.stdout())
        r = self.assertFails(d.ipmitool("mc", "info", timeout=30))
        self.assertIn("insufficient resources for session", r.err, r.describe())
        d.stop()
        db = sqlite3.connect(os.path.join(d.state_dir, "state.db"))
        with db:
            db.execute("DELETE FROM settings WHERE key='channel.access'")
        db.close()
        d.start()
        self.assertOk(d.ipmitool("mc", "info"))
        r = self.assertOk(d.ipmitool("channel", "info", "1"))
        self.assertEqual(re.findall(r"Access Mode\s*:\s*(.+?)\s*$", r.out, re.M), ["always available"] * 2, r.describe())

    def test_mc_reset(self):
        d = self.new_daemon(dict())
        for kind in ("warm", "cold"):
            r = self.assertOk(d.ipmitool("mc", "reset", kind))
            self.assertIn("Sent {} reset command to MC".format(kind), r.out, r.describe())
            r = self.assertOk(d.ipmitool("mc", "info"))
            self.assertEqual(fields(r.out).get("Device ID"), "32", r.describe())
        self.assertTrue(d.alive())


class Signals(DaemonTestCase):

    class_daemon = False

    def test_sigterm_exits_zero(self):
        d = self.new_daemon(dict())
        self.assertOk(d.ipmitool("mc", "info"))
        self.assertEqual(d.stop(signal.SIGTERM, timeout=5), 0, d.log())

    def test_sigint_exits_zero(self):
        d = self.new_daemon(dict())
        self.assertEqual(d.stop(signal.SIGINT, timeout=5), 0, d.log())

    def test_sigterm_with_open_session(self):
        d = self.new_daemon(dict())
        c = RmcpClient(d.port)
        self.addCleanup(c.close)
        self.assertEqual(c.open_session(), 0)
        self.assertEqual(d.stop(signal.SIGTERM, timeout=5), 0, d.log())


class TwoInstances(DaemonTestCase):

    class_daemon = False

    def test_two_bmcs_in_one_process(self):
        tmp = tempfile.mkdtemp(prefix="simbmc-integ-two-")
        self.addCleanup(shutil.rmtree, tmp, True)
        p1, p2 = free_port(), free_port()
        text = make_config(p1, os.path.join(tmp, "one"), name="one") + "\n" + make_config(
            p2, os.path.join(tmp, "two"), name="two",
            users=[dict(name="other", password="Other-Pw-222", privilege="administrator")]).replace(
                'log_level = "debug"\n', "")
        d = self.new_daemon(text, port=p1)
        d2_port = p2
        self.assertOk(d.ipmitool("mc", "info"))
        r = self.assertOk(run(["ipmitool", "-I", "lanplus", "-H", HOST, "-p", d2_port, "-U", "other", "-P",
                               "Other-Pw-222", "chassis", "power", "off"], timeout=60))
        r = self.assertOk(d.ipmitool("chassis", "power", "status"))
        self.assertIn("Chassis Power is on", r.out, "instances must be independent\n" + r.describe())
        self.assertFails(run(["ipmitool", "-I", "lanplus", "-H", HOST, "-p", d2_port, "-U", ADMIN_USER, "-P",
                              ADMIN_PASSWORD, "mc", "info"], timeout=30))


class Sessions(DaemonTestCase):

    class_daemon = False

    def test_max_sessions(self):
        d = self.new_daemon(dict(lan=dict(cipher_suites=[17, 3], max_sessions=2)))
        clients = [RmcpClient(d.port) for _ in range(3)]
        for c in clients:
            self.addCleanup(c.close)
        self.assertEqual(clients[0].open_session(), 0)
        self.assertEqual(clients[1].open_session(suite=3), 0)
        cc, data = clients[0].command(0x06, 0x3D, b"\x00")  # Get Session Info, this session
        self.assertEqual(cc, 0)
        self.assertEqual((data[1] & 0x3F, data[2] & 0x3F), (2, 2), "slots / active: " + data.hex())
        third = clients[2].open_session()
        self.assertNotEqual(third, 0, "a third session was accepted with max_sessions = 2")
        self.assertEqual(third[1], 0x01, "expected status 0x01 (insufficient resources), got {}".format(third))
        r = self.assertFails(d.ipmitool("mc", "info", timeout=30))
        self.assertLess(r.elapsed, 8.0, r.describe())
        # The two sessions are unaffected, and closing one frees a slot.
        self.assertEqual(clients[1].command(0x06, 0x01)[0], 0)
        self.assertEqual(clients[0].close_session()[0], 0)
        self.assertOk(d.ipmitool("mc", "info"))
        self.assertEqual(clients[1].command(0x06, 0x01)[0], 0)

    def test_sessions_survive_open_session_flood(self):
        d = self.new_daemon(dict(lan=dict(cipher_suites=[17, 3], max_sessions=4)))
        c = RmcpClient(d.port)
        self.addCleanup(c.close)
        self.assertEqual(c.open_session(), 0)
        flood = RmcpClient(d.port)
        self.addCleanup(flood.close)
        from harness import open_session_request
        for i in range(200):
            flood.send(open_session_request(0x1000 + i, 17))
        flood.drain(0.5)
        cc, data = c.command(0x06, 0x01)
        self.assertEqual((cc, len(data)), (0, 15), "an established session must survive a flood of new ones")
        self.assertTrue(d.alive())

    def test_lockout(self):
        d = self.new_daemon(dict(
            lockout=dict(threshold=3, reset_interval=60, lockout_interval=60),
            users=[dict(name=ADMIN_USER, password=ADMIN_PASSWORD, privilege="administrator"),
                   dict(name="locky", password="Locky-Pw-321", privilege="administrator")]))
        with RmcpClient(d.port) as c:
            self.assertEqual(c.open_session(user="locky", password="Locky-Pw-321"), 0)
            c.close_session()
        for _ in range(3):
            with RmcpClient(d.port) as c:
                self.assertNotEqual(c.open_session(user="locky", password="wrong-password"), 0)
        with RmcpClient(d.port) as c:
            self.assertNotEqual(c.open_session(user="locky", password="Locky-Pw-321"), 0,
                                "the user must be locked out after 3 bad passwords")
        r = self.assertFails(d.ipmitool("mc", "info", user="locky", password="Locky-Pw-321", timeout=30))
        self.assertLess(r.elapsed, 8.0, r.describe())
        self.assertOk(d.ipmitool("mc", "info"), "other users are not locked out")
        # Failed IPMI 1.5 activations count too, and the lock applies to RMCP+ logins.
        from harness import Rmcp15Client
        for _ in range(3):
            with Rmcp15Client(d.port) as c:
                self.assertNotEqual(c.open_session15(user=ADMIN_USER, password="wrong-password"), 0)
        with RmcpClient(d.port) as c:
            self.assertNotEqual(c.open_session(), 0, "admin must be locked out after 3 bad IPMI 1.5 logins")
        self.assertNotIn("wrong-password", d.log(), "no log line may contain a password")
        self.assertNotIn("Locky-Pw-321", d.log(), "no log line may contain a password")


if __name__ == "__main__":
    main()
