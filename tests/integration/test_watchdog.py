#!/usr/bin/python3
"""The BMC watchdog timer (IPMI v2.0 §27) with ipmitool: `mc watchdog get / reset / off`, `raw 0x06 0x24` to
arm it, a timeout that hard-resets the host (restart cause "watchdog", the expiration flag, a Watchdog 2 SEL
entry, the boot log again on the host console), power down, the pre-timeout interrupt, 0x80 before a Set,
0xC7/0xCC for malformed requests and the privilege of each command; its sensor's event enables set with
FreeIPMI's ipmi-sensors-config survive restarts of simbmcd on the same state directory.

Timeouts are short (0.5-1.5 s) and waited for by polling with a bound; nothing asserts on elapsed time.
Only processes started here are signalled, by PID."""

import json
import os
import re
import shutil
import tempfile

from harness import (ADMIN_PASSWORD, ADMIN_USER, DaemonTestCase, fields, free_port, freeipmi_cmd, main, make_config,
                     poll, raw_bytes, run)

READER = dict(name="reader", password="Reader-Pw-77", privilege="user")
USERS = [dict(name=ADMIN_USER, password=ADMIN_PASSWORD, privilege="administrator"), READER]
POWER = dict(initially_on=True, on_delay_ms=0, off_delay_ms=0, cycle_off_ms=200, soft_shutdown_ms=200)


def watchdog_config(port, state_dir, console=None):
    """make_config() plus a [bmc.console] table (it belongs to the one [[bmc]] above it)."""
    text = make_config(port, state_dir, users=USERS, power=POWER)
    if console:
        text += "\n[bmc.console]\n" + "".join("{} = {}\n".format(k, json.dumps(v)) for k, v in console.items())
    return text


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def set_request(use=0x04, actions=0x00, pretimeout=0, clear=0x00, countdown=10):
    """`ipmitool raw` arguments of Set Watchdog Timer; countdown in 100 ms units."""
    return ["raw", "0x06", "0x24"] + ["0x{:02x}".format(b) for b in
                                      (use, actions, pretimeout, clear, countdown & 0xFF, countdown >> 8)]


class Watchdog(DaemonTestCase):
    """One daemon per test: watchdog state is volatile and each test starts from a BMC that just booted."""

    class_daemon = False

    def start_daemon(self, console=None):
        state = tempfile.mkdtemp(prefix="simbmc-integ-wdt-")
        self.addCleanup(shutil.rmtree, state, True)
        port = free_port()
        self.d = self.new_daemon(config=watchdog_config(port, state, console), port=port, state_dir=state)
        return self.d

    def get(self):
        r = self.assertOk(self.d.ipmitool("mc", "watchdog", "get"))
        return r.out, fields(r.out)

    def raw(self, *args, **kw):
        return self.d.ipmitool(*args, **kw)

    def wait_for(self, predicate, what, tries=80):
        self.assertTrue(poll(predicate, tries=tries, interval=0.1), "timed out waiting for " + what + "\n" +
                        self.d.log()[-3000:])

    # -- get / set / reset / off

    def test_get_after_start_is_stopped_and_empty(self):
        self.start_daemon()
        out, f = self.get()
        self.assertEqual(f["Watchdog Timer Use"], "Reserved (0x00)", out)
        self.assertEqual(f["Watchdog Timer Is"], "Stopped", out)
        self.assertEqual(f["Watchdog Timer Logging"], "On", out)
        self.assertEqual(f["Watchdog Timer Action"], "No action (0x00)", out)
        self.assertEqual(f["Timer Expiration Flags"], "None (0x00)", out)
        self.assertEqual(f["Initial Countdown"], "0.0 sec", out)
        self.assertEqual(f["Present Countdown"], "0.0 sec", out)
        r = self.assertOk(self.raw("raw", "0x06", "0x25"))
        self.assertEqual(raw_bytes(r.out), [0] * 8, r.describe())

    def test_reset_before_set_is_uninitialized(self):
        self.start_daemon()
        r = self.assertFails(self.raw("mc", "watchdog", "reset"))
        self.assertIn("Attempt to reset uninitialized watchdog", r.err, r.describe())

    def test_set_reset_get_off(self):
        self.start_daemon()
        # SMS/OS, no action, NMI pre-timeout 10 s, 300 s countdown.
        self.assertOk(self.raw(*set_request(use=0x04, actions=0x20, pretimeout=10, countdown=3000)))
        out, f = self.get()
        self.assertEqual(f["Watchdog Timer Use"], "SMS/OS (0x04)", out)
        self.assertEqual(f["Watchdog Timer Is"], "Stopped", out)
        self.assertEqual(f["Pre-timeout interrupt"], "NMI/Diagnostic", out)
        self.assertEqual(f["Pre-timeout interval"], "10 seconds", out)
        self.assertEqual(f["Initial Countdown"], "300.0 sec", out)
        self.assertEqual(f["Present Countdown"], "300.0 sec", out)

        r = self.assertOk(self.raw("mc", "watchdog", "reset"))
        self.assertIn("countdown restarted", r.out, r.describe())
        out, f = self.get()
        self.assertEqual(f["Watchdog Timer Use"], "SMS/OS (0x44)", out)
        self.assertEqual(f["Watchdog Timer Is"], "Started/Running", out)
        present = float(f["Present Countdown"].split()[0])
        self.assertTrue(0 < present <= 300.0, out)
        # The raw reply: running bit, actions, interval, flags, initial and present countdown LE16.
        data = raw_bytes(self.assertOk(self.raw("raw", "0x06", "0x25")).out)
        self.assertEqual(data[:6], [0x44, 0x20, 10, 0, 0xB8, 0x0B], data)
        self.assertLessEqual(data[6] | data[7] << 8, 3000)

        r = self.assertOk(self.raw("mc", "watchdog", "off"))
        self.assertIn("Watchdog Timer Shutoff successful", r.out, r.describe())
        out, f = self.get()
        self.assertEqual(f["Watchdog Timer Is"], "Stopped", out)
        self.assertEqual(f["Watchdog Timer Action"], "No action (0x00)", out)

    def test_set_with_dont_stop_keeps_it_running(self):
        self.start_daemon()
        self.assertOk(self.raw(*set_request(use=0x04, countdown=3000)))
        self.assertOk(self.raw("mc", "watchdog", "reset"))
        self.assertOk(self.raw(*set_request(use=0x44, countdown=6000)))
        out, f = self.get()
        self.assertEqual(f["Watchdog Timer Is"], "Started/Running", out)
        self.assertEqual(f["Initial Countdown"], "600.0 sec", out)
        self.assertOk(self.raw(*set_request(use=0x04, countdown=6000)))  # without the bit: stops
        out, f = self.get()
        self.assertEqual(f["Watchdog Timer Is"], "Stopped", out)

    # -- expiry

    def test_hard_reset_timeout(self):
        d = self.start_daemon(console=dict(kind="simulated", boot_ms=100, log_file="console.log"))
        log_path = os.path.join(d.state_dir, "console.log")
        self.wait_for(lambda: "login:" in read(log_path), "the first boot")
        # SMS/OS, hard reset, clear the SMS/OS flag, 1.5 s.
        self.assertOk(self.raw(*set_request(use=0x04, actions=0x01, clear=0x10, countdown=15)))
        self.assertOk(self.raw("mc", "watchdog", "reset"))

        def expired():
            out, f = self.get()
            return f.get("Timer Expiration Flags") == "(0x10)" and out
        self.wait_for(expired, "the watchdog to expire")
        out, f = self.get()
        self.assertIn("* SMS/OS", out)
        self.assertEqual(f["Watchdog Timer Is"], "Stopped", out)
        self.assertEqual(f["Present Countdown"], "0.0 sec", out)

        r = self.assertOk(self.raw("chassis", "restart_cause"))
        self.assertIn("watchdog", r.out, r.describe())
        r = self.assertOk(self.raw("sel", "list"))
        self.assertRegex(r.out, r"Watchdog2 #0x[0-9a-f]+ \| Hard reset \| Asserted", r.describe())
        # The host was reset: the boot log ran again, and the OS would have to Set the timer anew.
        self.wait_for(lambda: read(log_path).count("simBIOS") >= 2, "the boot log after the reset")
        r = self.assertFails(self.raw("mc", "watchdog", "reset"))
        self.assertIn("uninitialized", r.err, r.describe())
        # `mc watchdog off` clears the SMS/OS flag.
        self.assertOk(self.raw("mc", "watchdog", "off"))
        out, f = self.get()
        self.assertEqual(f["Timer Expiration Flags"], "None (0x00)", out)
        self.assertIn("watchdog expired use=4 action=hard-reset", d.log())

    def test_the_watchdog_sensor_is_named_and_read_by_every_client(self):
        """The "Watchdog 2" sensor (Table 42-3) has a compact SDR owned by the BMC: ipmitool and FreeIPMI
        name it in sensor and SEL listings, and its reading is the last watchdog action."""
        d = self.start_daemon(console=dict(kind="simulated", boot_ms=100))
        cache = tempfile.mkdtemp(prefix="simbmc-integ-wdt-sdr-")
        self.addCleanup(shutil.rmtree, cache, True)
        env = dict(os.environ, TZ="UTC", LC_ALL="C")

        def freeipmi(tool, *args):
            return run(freeipmi_cmd(tool, d.port, "--sdr-cache-directory", cache, "--quiet-cache",
                                    "--sdr-cache-recreate", *args), timeout=60, env=env)

        r = self.assertOk(self.raw("sdr", "elist"))
        row = [l for l in r.out.splitlines() if l.startswith("BMC Watchdog")]
        self.assertEqual(len(row), 1, r.describe())
        self.assertRegex(row[0], r"^BMC Watchdog\s*\| 81h \| ok\s*\|\s*6\.1 \|", r.describe())
        # Nothing happened yet: no state.
        self.assertEqual(raw_bytes(self.assertOk(self.raw("raw", "0x04", "0x2d", "0x81")).out), [0x00, 0xC0, 0x00, 0x80])

        # SMS/OS, hard reset, 1 s.
        self.assertOk(self.raw(*set_request(use=0x04, actions=0x01, countdown=10)))
        self.assertOk(self.raw("mc", "watchdog", "reset"))
        self.wait_for(lambda: "Hard reset" in self.raw("sel", "list").out, "the watchdog event")

        r = self.assertOk(self.raw("sel", "elist"))
        self.assertRegex(r.out, r"\| Watchdog2 BMC Watchdog \| Hard reset \| Asserted", r.describe())
        r = self.assertOk(self.raw("sdr", "elist"))
        self.assertRegex(r.out, r"BMC Watchdog\s*\| 81h \| ok\s*\|\s*6\.1 \| Hard reset", r.describe())
        # Get Sensor Reading: state 01h (hard reset) asserted.
        self.assertEqual(raw_bytes(self.assertOk(self.raw("raw", "0x04", "0x2d", "0x81")).out), [0x00, 0xC0, 0x02, 0x80])

        r = self.assertOk(freeipmi("ipmi-sel"))
        self.assertEqual(r.err.strip(), "", r.describe())
        rows = [[p.strip() for p in l.split("|")] for l in r.out.splitlines()]
        wdt = [x for x in rows if len(x) >= 6 and x[3] == "BMC Watchdog"]
        self.assertEqual(len(wdt), 1, r.describe())
        self.assertEqual(wdt[0][4], "Watchdog 2", r.describe())
        self.assertIn("Hard Reset", wdt[0][5], r.describe())
        r = self.assertOk(freeipmi("ipmi-sensors"))
        self.assertEqual(r.err.strip(), "", r.describe())
        line = [l for l in r.out.splitlines() if "BMC Watchdog" in l]
        self.assertEqual(len(line), 1, r.describe())
        self.assertIn("Watchdog 2", line[0])
        self.assertIn("Hard Reset", line[0])

        # Event messages off on the sensor: the next expiry changes the state but logs nothing.
        before = self.raw("sel", "list").out.count("Watchdog2")
        self.assertOk(self.raw("raw", "0x04", "0x28", "0x81", "0x40"))
        self.assertOk(self.raw(*set_request(use=0x04, actions=0x00, countdown=3)))
        self.assertOk(self.raw("mc", "watchdog", "reset"))
        self.wait_for(lambda: self.get()[1].get("Watchdog Timer Is") == "Stopped", "the second expiry")
        self.assertEqual(self.raw("sel", "list").out.count("Watchdog2"), before)
        self.assertEqual(raw_bytes(self.assertOk(self.raw("raw", "0x04", "0x2d", "0x81")).out), [0x00, 0x40, 0x01, 0x80])
        # Bad requests on it get completion codes.
        self.assertIn("rsp=0xc7", self.raw("raw", "0x04", "0x2d", "0x81", "0x00").err)
        self.assertIn("rsp=0xcd", self.raw("raw", "0x04", "0x27", "0x81").err)

    def test_sensor_event_enables_survive_a_restart(self):
        """Set Sensor Event Enable (§35.10) on the watchdog's sensor is a setting, like a configured sensor's:
        after simbmcd restarts on the same state directory (SIGTERM, then kill -9) ipmi-sensors-config and Get
        Sensor Event Enable (§35.11) read back what was set, and it still keeps the watchdog out of the SEL."""
        d = self.start_daemon()
        cache = tempfile.mkdtemp(prefix="simbmc-integ-wdt-cfg-")
        self.addCleanup(shutil.rmtree, cache, True)

        def config(*args):
            return self.assertOk(run(freeipmi_cmd("ipmi-sensors-config", d.port, "--sdr-cache-directory", cache,
                                                  "--quiet-cache", "--sdr-cache-recreate", *args), timeout=60))

        def checkout():
            """-> (section name, {key: value}) of the watchdog's sensor in `ipmi-sensors-config --checkout`."""
            r = config("--checkout")
            m = re.search(r"^Section (\S+_BMC_Watchdog)\n(.*?)^EndSection", r.out, re.M | re.S)
            self.assertIsNotNone(m, r.describe())
            return m.group(1), dict(re.findall(r"^\s+(\w+)\s+(\S+)\s*$", m.group(2), re.M))

        def enables():
            return raw_bytes(self.assertOk(self.raw("raw", "0x04", "0x29", "0x81")).out)

        section, values = checkout()
        self.assertEqual(values, {"Enable_All_Event_Messages": "Yes", "Enable_Scanning_On_This_Sensor": "Yes"})
        config("--commit", "-e", section + ":Enable_All_Event_Messages=No")
        self.assertEqual(enables(), [0x40, 0x0F, 0x01, 0x00, 0x00])

        d.restart()
        self.assertEqual(checkout()[1]["Enable_All_Event_Messages"], "No")
        self.assertEqual(enables(), [0x40, 0x0F, 0x01, 0x00, 0x00])
        # Still in force: an expiry changes the sensor's state and logs nothing.
        self.assertOk(self.raw(*set_request(use=0x04, actions=0x00, countdown=3)))
        self.assertOk(self.raw("mc", "watchdog", "reset"))
        self.wait_for(lambda: self.get()[1].get("Timer Expiration Flags") == "(0x10)", "the expiry")
        self.assertEqual(raw_bytes(self.assertOk(self.raw("raw", "0x04", "0x2d", "0x81")).out), [0x00, 0x40, 0x01, 0x80])
        self.assertNotIn("Watchdog2", self.raw("sel", "list").out)

        # Back on with ipmitool; acknowledged means on disk, kill -9 included.
        self.assertOk(self.raw("raw", "0x04", "0x28", "0x81", "0xc0"))
        d.kill9()
        d.start()
        self.assertEqual(enables(), [0xC0, 0x0F, 0x01, 0x00, 0x00])
        self.assertEqual(checkout()[1]["Enable_All_Event_Messages"], "Yes")
        # The timer itself is volatile: the restarted BMC's is stopped with no expiration flags.
        out, f = self.get()
        self.assertEqual(f["Watchdog Timer Is"], "Stopped", out)
        self.assertEqual(f["Timer Expiration Flags"], "None (0x00)", out)

    def test_power_down_timeout(self):
        self.start_daemon()
        self.assertOk(self.raw(*set_request(use=0x03, actions=0x02, countdown=5)))  # OS Load, power down, 0.5 s
        self.assertOk(self.raw("mc", "watchdog", "reset"))
        self.wait_for(lambda: "is off" in self.raw("chassis", "power", "status").out, "power off")
        r = self.assertOk(self.raw("sel", "list"))
        self.assertIn("Power down", r.out, r.describe())
        out, f = self.get()
        self.assertEqual(f["Timer Expiration Flags"], "(0x08)", out)

    def test_pre_timeout_and_no_action(self):
        self.start_daemon()
        # BIOS/POST, messaging pre-timeout 1 s before a 1 s countdown (fires at the start), no action.
        self.assertOk(self.raw(*set_request(use=0x02, actions=0x30, pretimeout=1, countdown=10)))
        self.assertOk(self.raw("mc", "watchdog", "reset"))
        self.wait_for(lambda: "Timer expired" in self.raw("sel", "list").out, "the expiry event")
        r = self.assertOk(self.raw("sel", "list"))
        self.assertIn("Timer interrupt", r.out, r.describe())
        self.assertLess(r.out.index("Timer interrupt"), r.out.index("Timer expired"), r.out)
        self.assertIn("is on", self.raw("chassis", "power", "status").out)
        # The watchdog pre-timeout flag of Get Message Flags (App 0x31, bit 3).
        flags = raw_bytes(self.assertOk(self.raw("raw", "0x06", "0x31")).out)
        self.assertEqual(flags[0] & 0x08, 0x08, flags)

    def test_dont_log_bit(self):
        self.start_daemon()
        self.assertOk(self.raw(*set_request(use=0x85, actions=0x00, countdown=3)))  # don't log, OEM
        self.assertOk(self.raw("mc", "watchdog", "reset"))
        self.wait_for(lambda: self.get()[1].get("Timer Expiration Flags") == "(0x20)", "the expiry")
        out, f = self.get()
        self.assertEqual(f["Watchdog Timer Logging"], "Off", out)
        self.assertNotIn("Watchdog2", self.raw("sel", "list").out)

    # -- malformed requests and privileges

    def test_bad_lengths_and_fields(self):
        self.start_daemon()
        cases = [
            (["raw", "0x06", "0x24", "0x04", "0x01", "0x00", "0x00", "0x0a"], "rsp=0xc7"),
            (["raw", "0x06", "0x24", "0x04", "0x01", "0x00", "0x00", "0x0a", "0x00", "0x00"], "rsp=0xc7"),
            (["raw", "0x06", "0x25", "0x00"], "rsp=0xc7"),
            (["raw", "0x06", "0x22", "0x00"], "rsp=0xc7"),
            (set_request(use=0x06), "rsp=0xcc"),
            (set_request(use=0x0C), "rsp=0xcc"),
            (set_request(actions=0x04), "rsp=0xcc"),
            (set_request(actions=0x40), "rsp=0xcc"),
        ]
        for args, want in cases:
            r = self.assertFails(self.raw(*args))
            self.assertIn(want, r.err, r.describe())
        self.assertEqual(self.get()[1]["Watchdog Timer Use"], "Reserved (0x00)")
        self.assertDaemonAliveOf(self.d)

    def test_privileges(self):
        self.start_daemon()
        r = self.assertOk(self.raw("mc", "watchdog", "get", user=READER["name"], password=READER["password"],
                                   priv="USER"))
        self.assertIn("Watchdog Timer Use", r.out)
        for args in (["mc", "watchdog", "off"], ["raw", "0x06", "0x22"]):
            r = self.assertFails(self.raw(*args, user=READER["name"], password=READER["password"], priv="USER"))
            self.assertRegex(r.err, r"(?i)insufficient privilege", r.describe())

    def assertDaemonAliveOf(self, d):
        self.assertTrue(d.alive(), "simbmcd died\n" + d.log())


if __name__ == "__main__":
    main()
