#!/usr/bin/python3
"""Host power changes in the SEL, as a server BMC logs them: the BMC's Power Unit sensor (sensor type 09h,
sensor-specific offsets, IPMI v2.0 Table 42-3; compact SDR named "Pwr Unit Status", number 80h) asserts
"Power off/down" when the host goes off (chassis power off, soft-off, a cycle's off phase) and deasserts it when
power returns; a power cycle also asserts "Power cycle". Checked with ipmitool (`sel list / elist`,
`sensor get`, `sdr get`, raw Sensor/Event commands with bad lengths) and FreeIPMI (`ipmi-sel`, `ipmi-sensors`)
without warnings on stderr; restarts that find the host as it was log nothing; [bmc.power] power_unit = false
removes the sensor; a power_unit_sensor number that a configured sensor has stops the daemon with a clear
message.

Power transitions are short (cycle 200 ms, soft-off 200 ms) and waited for by bounded polls. Only processes
started here are signalled, by PID."""

import os
import re
import shutil
import tempfile

from harness import ADMIN_PASSWORD, ADMIN_USER, DaemonTestCase, Daemon, fields, main, make_config, poll, raw_bytes

NAME = "Pwr Unit Status"
NUMBER = 0x80
# Dates and times print in the client's local time zone; pin it.
ENV = dict(os.environ, TZ="UTC", LC_ALL="C")


def elist_events(text):
    """`ipmitool sel elist` lines -> [(sensor, event, direction)] (the sensor column as printed)."""
    out = []
    for line in text.splitlines():
        cols = [c.strip() for c in line.split("|")]
        if len(cols) >= 6:
            out.append((cols[3], cols[4], cols[5]))
    return out


def ipmi_sel_rows(text):
    """`ipmi-sel -v` table -> [dict] keyed by the header."""
    lines = [l for l in text.splitlines() if "|" in l]
    if not lines:
        return []
    header = [c.strip() for c in lines[0].split("|")]
    return [dict(zip(header, [c.strip() for c in l.split("|")])) for l in lines[1:]]


class PowerClients:
    """Client helpers for self.daemon (or a daemon passed in)."""

    def ipmi(self, *args, d=None, **kw):
        return (d or self.daemon).ipmitool(*args, **kw)

    def no_errors(self, r):
        lines = [l for l in r.err.splitlines() if l.strip()]
        self.assertEqual(lines, [], "unexpected messages on stderr\n" + r.describe())
        return r

    def power(self, action, d=None):
        self.assertOk(self.ipmi("chassis", "power", action, d=d))

    def wait_power(self, on, d=None):
        want = "is on" if on else "is off"
        self.assertTrue(poll(lambda: want in self.ipmi("chassis", "power", "status", d=d).out, tries=100),
                        "power did not turn " + ("on" if on else "off"))

    def elist(self, d=None):
        r = self.assertOk(self.ipmi("sel", "elist", d=d))
        if r.err.strip() == "SEL has no entries" and not r.out.strip():
            return []
        return elist_events(self.no_errors(r).out)

    def power_unit_events(self, d=None):
        return [(e, dirn) for s, e, dirn in self.elist(d) if s == "Power Unit " + NAME]

    def wait_events(self, expected, d=None):
        """Polls `sel elist` until the Power Unit lines are `expected`; returns them."""
        got = poll(lambda: (lambda ev: ev if ev == expected else None)(self.power_unit_events(d)), tries=60)
        got = got or self.power_unit_events(d)
        self.assertEqual(got, expected, self.ipmi("sel", "elist", d=d).out)
        return got

    def ipmi_sel(self, *args, d=None):
        d = d or self.daemon
        cache = tempfile.mkdtemp(prefix="simbmc-sdrcache-")
        self.addCleanup(shutil.rmtree, cache, True)
        r = d.freeipmi("ipmi-sel", "--sdr-cache-directory", cache, "--quiet-cache", *args)
        return self.no_errors(self.assertOk(r))


class PowerEvents(PowerClients, DaemonTestCase):
    """One daemon (harness config: host on, cycle 200 ms, soft-off 200 ms); each test starts with the host on
    and an empty SEL."""

    def setUp(self):
        if "is off" in self.ipmi("chassis", "power", "status").out:
            self.power("on")
            self.wait_power(True)
        self.assertOk(self.ipmi("sel", "clear"))
        self.assertTrue(poll(lambda: "Entries          : 0" in self.ipmi("sel", "info").out, tries=20))

    def test_power_off_then_on_in_ipmitool_and_ipmi_sel(self):
        self.power("off")
        self.wait_events([("Power off/down", "Asserted")])
        self.power("on")
        self.wait_events([("Power off/down", "Asserted"), ("Power off/down", "Deasserted")])
        # `sel list` (no SDR lookup) names the sensor type and number.
        r = self.no_errors(self.assertOk(self.ipmi("sel", "list")))
        self.assertRegex(r.out, r"Power Unit #0x80 \| Power off/down \| Asserted", r.describe())
        self.assertRegex(r.out, r"Power Unit #0x80 \| Power off/down \| Deasserted", r.describe())
        # FreeIPMI: the sensor's name from its SDR, the type and the event, assertion and deassertion.
        rows = ipmi_sel_rows(self.ipmi_sel("-v").out)
        self.assertEqual([(x["Name"], x["Type"], x["Event Direction"], x["Event"]) for x in rows],
                         [(NAME, "Power Unit", "Assertion Event", "Power Off/Power Down"),
                          (NAME, "Power Unit", "Deassertion Event", "Power Off/Power Down")],
                         "\n".join(str(x) for x in rows))
        # Over IPMI 1.5 too.
        r = self.no_errors(self.assertOk(self.ipmi("sel", "elist", iface="lan")))
        self.assertEqual(len(re.findall(r"Pwr Unit Status \| Power off/down", r.out)), 2, r.describe())

    def test_power_cycle_logs_the_cycle(self):
        self.power("cycle")
        self.wait_power(True)
        self.wait_events([("Power off/down", "Asserted"), ("Power cycle", "Asserted"),
                          ("Power off/down", "Deasserted")])
        rows = ipmi_sel_rows(self.ipmi_sel("-v").out)
        self.assertEqual([x["Event"] for x in rows], ["Power Off/Power Down", "Power Cycle", "Power Off/Power Down"],
                         "\n".join(str(x) for x in rows))

    def test_soft_off_logs_when_the_host_is_off(self):
        self.power("soft")
        self.wait_power(False)
        self.wait_events([("Power off/down", "Asserted")])

    def test_reset_is_not_a_power_change(self):
        self.power("reset")
        self.assertEqual(self.power_unit_events(), [])

    def test_sensor_reads_like_any_discrete_sensor(self):
        r = self.no_errors(self.assertOk(self.ipmi("sdr", "get", NAME)))
        f = fields(r.out)
        self.assertEqual(f.get("Sensor ID"), "{} (0x80)".format(NAME), r.describe())
        self.assertEqual(f.get("Sensor Type (Discrete)"), "Power Unit (0x09)", r.describe())
        self.assertIn("[Power off/down]", r.out, r.describe())
        # Get Sensor Reading (§35.14): events and scanning on, no state while on.
        r = self.assertOk(self.ipmi("raw", "0x04", "0x2d", "0x80"))
        self.assertEqual(raw_bytes(r.out), [0x00, 0xC0, 0x00, 0x80], r.describe())
        self.power("off")
        self.wait_power(False)
        r = self.assertOk(self.ipmi("raw", "0x04", "0x2d", "0x80"))
        self.assertEqual(raw_bytes(r.out), [0x00, 0xC0, 0x01, 0x80], r.describe())
        # Get Sensor Event Status (§35.13): power off asserted.
        r = self.assertOk(self.ipmi("raw", "0x04", "0x2b", "0x80"))
        self.assertEqual(raw_bytes(r.out), [0xC0, 0x01, 0x00, 0x00, 0x00], r.describe())
        cache = tempfile.mkdtemp(prefix="simbmc-sdrcache-")
        self.addCleanup(shutil.rmtree, cache, True)
        r = self.no_errors(self.assertOk(self.daemon.freeipmi("ipmi-sensors", "--sdr-cache-directory", cache,
                                                              "--quiet-cache", "-t", "Power_Unit")))
        self.assertRegex(r.out, r"Pwr Unit Status \| Power Unit +\| N/A +\| N/A +\| 'Power Off/Power Down'",
                         r.describe())
        # Bad lengths and fields get completion codes.
        r = self.assertFails(self.ipmi("raw", "0x04", "0x2d"))
        self.assertIn("rsp=0xc7", r.err, r.describe())
        r = self.assertFails(self.ipmi("raw", "0x04", "0x2d", "0x80", "0x00"))
        self.assertIn("rsp=0xc7", r.err, r.describe())
        r = self.assertFails(self.ipmi("raw", "0x04", "0x28", "0x80", "0x30"))
        self.assertIn("rsp=0xcc", r.err, r.describe())
        r = self.assertFails(self.ipmi("raw", "0x04", "0x27", "0x80"))
        self.assertIn("rsp=0xcd", r.err, r.describe())

    def test_disabled_assertion_is_not_logged(self):
        # Set Sensor Event Enable (§35.10): disable the "power off" assertion only.
        self.assertOk(self.ipmi("raw", "0x04", "0x28", "0x80", "0xe0", "0x01", "0x00"))
        self.addCleanup(lambda: self.ipmi("raw", "0x04", "0x28", "0x80", "0xd0", "0x03", "0x00", "0x01", "0x00"))
        r = self.assertOk(self.ipmi("raw", "0x04", "0x29", "0x80"))
        self.assertEqual(raw_bytes(r.out), [0xC0, 0x02, 0x00, 0x01, 0x00], r.describe())
        self.power("off")
        self.wait_power(False)
        self.power("on")
        self.wait_events([("Power off/down", "Deasserted")])


class Restarts(PowerClients, DaemonTestCase):
    """Each test has its own daemon and state directory."""

    class_daemon = False

    def start(self, **power):
        state = tempfile.mkdtemp(prefix="simbmc-integ-pu-")
        self.addCleanup(shutil.rmtree, state, True)
        d = self.new_daemon(start=False, state_dir=state)
        d.config = make_config(d.port, d.state_dir, power=power)
        d.start()
        return d

    def test_a_restart_that_finds_the_host_as_it_was_logs_nothing(self):
        d = self.start()
        d.restart()
        d.kill9()
        d.start()
        self.assertEqual(self.power_unit_events(d), [])
        self.power("off", d)
        self.wait_events([("Power off/down", "Asserted")], d)
        d.restart()  # restore policy "always on": off before, on now
        self.wait_events([("Power off/down", "Asserted"), ("Power off/down", "Deasserted")], d)

    def test_power_unit_can_be_switched_off_or_renumbered(self):
        d = self.start(power_unit=False)
        r = self.no_errors(self.assertOk(self.ipmi("sdr", "elist", "all", d=d)))
        self.assertNotIn(NAME, r.out, r.describe())
        self.power("cycle", d)
        self.wait_power(True, d)
        self.assertEqual(self.elist(d), [])

        d = self.start(power_unit_sensor=0x20, power_unit_name="Power Unit")
        self.power("off", d)
        self.assertTrue(poll(lambda: "Power Unit #0x20 | Power off/down | Asserted" in
                             self.ipmi("sel", "list", d=d).out, tries=40), self.ipmi("sel", "list", d=d).out)
        r = self.no_errors(self.assertOk(self.ipmi("sel", "elist", d=d)))
        self.assertIn("Power Unit Power Unit | Power off/down | Asserted", r.out, r.describe())

    def test_a_number_taken_by_a_configured_sensor_is_refused(self):
        state = tempfile.mkdtemp(prefix="simbmc-integ-pu-")
        self.addCleanup(shutil.rmtree, state, True)
        d = self.new_daemon(start=False, state_dir=state)
        d.config = make_config(d.port, d.state_dir, power=dict(power_unit_sensor=7)) + (
            '\n[[bmc.sensor]]\nnumber = 7\nname = "Seven"\ntype = "temperature"\n'
            'source = { kind = "static", value = 20 }\n')
        d.start(wait=False)
        try:
            d.proc.wait(timeout=20)
        except Exception:
            pass
        self.assertIsNotNone(d.proc.poll(), "simbmcd must refuse the config\n" + d.log())
        self.assertNotEqual(d.proc.returncode, 0, d.log())
        self.assertIn("'Seven'", d.log() + d.stdout())
        self.assertIn("power_unit_sensor", d.log() + d.stdout())


if __name__ == "__main__":
    main()
