#!/usr/bin/python3
"""Sensors through real clients: ipmitool (`sensor list/get/thresh`, `sdr list/elist/type`, `sel list`),
FreeIPMI (`ipmi-sensors` with thresholds and event columns, `ipmi-sensors-config --checkout/--commit`,
`ipmi-sel`) against simbmcd: the embedded demo server's sensors, thresholds set by one client and seen
by every other and after a restart, a scenario that crosses its upper critical threshold and falls
back (exactly one assertion and one deassertion in the SEL), a discrete sensor's state change, an
hwmon source over a fake sysfs tree read by the worker thread, and a failing source.

FreeIPMI caches SDRs per host:port; every FreeIPMI call here uses the test daemon's own cache
directory so no cache outlives its daemon. Every wait is a bounded poll."""

import os
import re
import shutil
import tempfile

from harness import (ADMIN_PASSWORD, ADMIN_USER, Daemon, DaemonTestCase, fields, main, make_config, poll,
                     raw_bytes)

# The demo config's sensors, then the BMC's own Power Unit (80h) and watchdog (81h) sensors.
DEMO_SENSORS = ["CPU Temp", "System Temp", "Inlet Temp", "12V", "5V", "3.3V", "FAN1", "FAN2", "FAN3",
                "PSU1 Power", "PSU1 Status", "Intrusion", "Pwr Unit Status", "BMC Watchdog"]
NUMBER = r"-?\d+(?:\.\d+)?"


def sensor_rows(text):
    """`ipmitool sensor list` -> {name: [value, units, status, lnr, lcr, lnc, unc, ucr, unr]}."""
    rows = {}
    for line in text.splitlines():
        cols = [c.strip() for c in line.split("|")]
        if len(cols) == 10:
            rows[cols[0]] = cols[1:]
    return rows


def sdr_rows(text):
    """`ipmitool sdr list/elist/type` -> {name: [columns...]}."""
    rows = {}
    for line in text.splitlines():
        cols = [c.strip() for c in line.split("|")]
        if len(cols) >= 3:
            rows[cols[0]] = cols[1:]
    return rows


def table_rows(text):
    """FreeIPMI's `ID | Name | ...` tables -> list of dicts keyed by the header."""
    lines = [l for l in text.splitlines() if "|" in l]
    if not lines:
        return []
    header = [c.strip() for c in lines[0].split("|")]
    out = []
    for line in lines[1:]:
        cols = [c.strip() for c in line.split("|")]
        if len(cols) == len(header):
            out.append(dict(zip(header, cols)))
    return out


def sel_lines(text):
    return [l for l in text.splitlines() if l.count("|") >= 4]


class SensorClientMixin:
    """Client helpers bound to self.daemon (or a daemon passed in) with a private FreeIPMI SDR cache."""

    def cache_dir(self, d):
        caches = self.__dict__.setdefault("_sdr_caches", {})
        if id(d) not in caches:
            caches[id(d)] = tempfile.mkdtemp(prefix="simbmc-sdrcache-")
            self.addCleanup(shutil.rmtree, caches[id(d)], True)
        return caches[id(d)]

    def fi(self, tool, *args, d=None, **kw):
        """A FreeIPMI tool with this test's SDR cache for the daemon, recreated every time: a threshold
        change rewrites the sensor's record and moves the repository's addition timestamp."""
        d = d or self.daemon
        return d.freeipmi(tool, "--sdr-cache-directory", self.cache_dir(d), "--quiet-cache", "--sdr-cache-recreate",
                          *args, **kw)

    def ipmi(self, *args, d=None, **kw):
        return (d or self.daemon).ipmitool(*args, **kw)

    def no_errors(self, r):
        lines = [l for l in r.err.splitlines() if l.strip()]
        self.assertEqual(lines, [], "unexpected messages on stderr\n" + r.describe())


# ----------------------------------------------------------------------------------------------------------------
# The embedded demo server (no --config): what a user sees first.


class DemoSensors(SensorClientMixin, DaemonTestCase):

    @classmethod
    def make_daemon(cls):
        return Daemon(config=None, users=["{}:{}:administrator".format(ADMIN_USER, ADMIN_PASSWORD)],
                      label=cls.__name__)

    def test_ipmitool_sensor_list(self):
        r = self.assertOk(self.ipmi("sensor", "list"))
        self.no_errors(r)
        rows = sensor_rows(r.out)
        self.assertEqual(sorted(rows), sorted(DEMO_SENSORS), r.describe())
        units = {"CPU Temp": "degrees C", "System Temp": "degrees C", "Inlet Temp": "degrees C", "12V": "Volts",
                 "5V": "Volts", "3.3V": "Volts", "FAN1": "RPM", "FAN2": "RPM", "FAN3": "RPM",
                 "PSU1 Power": "Watts", "PSU1 Status": "discrete", "Intrusion": "discrete"}
        for name, unit in units.items():
            self.assertEqual(rows[name][1], unit, r.describe())
            if unit != "discrete":
                self.assertRegex(rows[name][0], "^" + NUMBER + "$", r.describe())
                self.assertEqual(rows[name][2], "ok", r.describe())
        # Static sources read exactly; thresholds in the config's units.
        self.assertEqual(rows["3.3V"][0], "3.300", r.describe())
        self.assertEqual(rows["5V"][0], "5.050", r.describe())
        self.assertEqual(rows["FAN3"][0], "5200.000", r.describe())
        self.assertEqual(rows["Inlet Temp"][0], "23.000", r.describe())
        self.assertEqual(rows["CPU Temp"][3:], ["na", "na", "na", "85.000", "95.000", "105.000"], r.describe())
        self.assertEqual(rows["3.3V"][3:], ["na", "2.980", "3.140", "3.460", "3.620", "na"], r.describe())
        self.assertEqual(rows["FAN1"][3:], ["na", "400.000", "600.000", "na", "na", "na"], r.describe())
        # Discrete: presence detected (state 0) and no intrusion.
        self.assertEqual(rows["PSU1 Status"][2], "0x0180", r.describe())
        self.assertEqual(rows["Intrusion"][2], "0x0080", r.describe())

    def test_ipmitool_sensor_get(self):
        r = self.assertOk(self.ipmi("sensor", "get", "CPU Temp"))
        self.no_errors(r)
        f = fields(r.out)
        self.assertRegex(f.get("Sensor Reading", ""), r"^\d+ \(\+/- 0\) degrees C$", r.describe())
        self.assertEqual(f.get("Status"), "ok", r.describe())
        self.assertEqual(f.get("Sensor Type (Threshold)"), "Temperature", r.describe())
        self.assertEqual(f.get("Entity ID"), "3.1", r.describe())
        self.assertEqual(f.get("Upper Non-Critical"), "85.000", r.describe())
        self.assertEqual(f.get("Upper Critical"), "95.000", r.describe())
        self.assertEqual(f.get("Upper Non-Recoverable"), "105.000", r.describe())
        self.assertEqual(f.get("Lower Critical"), "na", r.describe())
        self.assertEqual(f.get("Positive Hysteresis"), "2.000", r.describe())
        self.assertEqual(f.get("Negative Hysteresis"), "2.000", r.describe())
        self.assertEqual(f.get("Assertions Enabled"), "unc+ ucr+ unr+", r.describe())
        self.assertEqual(f.get("Deassertions Enabled"), "unc+ ucr+ unr+", r.describe())

        r = self.assertOk(self.ipmi("sensor", "get", "12V"))
        f = fields(r.out)
        self.assertRegex(f.get("Sensor Reading", ""), r"^\d+(\.\d+)? \(\+/- 0\) Volts$", r.describe())
        self.assertEqual(f.get("Lower Critical"), "10.800", r.describe())
        self.assertEqual(f.get("Upper Critical"), "13.200", r.describe())

    def test_ipmitool_sdr(self):
        r = self.assertOk(self.ipmi("sdr", "list"))
        self.no_errors(r)
        rows = sdr_rows(r.out)
        for name in DEMO_SENSORS:
            self.assertIn(name, rows, r.describe())
            self.assertEqual(rows[name][-1], "ok", r.describe())
        self.assertEqual(rows["3.3V"][0], "3.30 Volts", r.describe())
        self.assertEqual(rows["FAN3"][0], "5200 RPM", r.describe())
        self.assertEqual(rows["Inlet Temp"][0], "23 degrees C", r.describe())

        r = self.assertOk(self.ipmi("sdr", "elist"))
        rows = sdr_rows(r.out)
        self.assertEqual(rows["CPU Temp"][:3], ["01h", "ok", "3.1"], r.describe())
        self.assertEqual(rows["PSU1 Status"][3], "Presence detected", r.describe())
        self.assertEqual(rows["Inlet Temp"][2], "64.1", r.describe())  # air inlet

        r = self.assertOk(self.ipmi("sdr", "type", "Temperature"))
        self.assertEqual(sorted(sdr_rows(r.out)), ["CPU Temp", "Inlet Temp", "System Temp"], r.describe())

        # One watchdog sensor: the BMC's own, with a compact record (no configured stand-in for it).
        r = self.assertOk(self.ipmi("sdr", "elist", "all"))
        rows = sdr_rows(r.out)
        self.assertEqual(rows["BMC Watchdog"][:3], ["81h", "ok", "6.1"], r.describe())
        self.assertEqual([l for l in r.out.splitlines() if "| 81h |" in l or "Watchdog" in l],
                         [l for l in r.out.splitlines() if l.startswith("BMC Watchdog")], r.describe())
        self.assertNotIn("Event-Only", r.out, r.describe())
        r = self.assertOk(self.ipmi("sdr", "type", "Watchdog2"))
        self.assertEqual(list(sdr_rows(r.out)), ["BMC Watchdog"], r.describe())

    def test_freeipmi_sensors(self):
        r = self.assertOk(self.fi("ipmi-sensors", "--output-sensor-thresholds", "--output-event-bitmask"))
        self.no_errors(r)
        rows = {row["Name"]: row for row in table_rows(r.out)}
        self.assertEqual(sorted(rows), sorted(DEMO_SENSORS), r.describe())
        cpu = rows["CPU Temp"]
        self.assertEqual(cpu["Type"], "Temperature", r.describe())
        self.assertEqual(cpu["Units"], "C", r.describe())
        self.assertRegex(cpu["Reading"], "^" + NUMBER + "$", r.describe())
        self.assertEqual([cpu["Lower NR"], cpu["Lower C"], cpu["Lower NC"], cpu["Upper NC"], cpu["Upper C"],
                          cpu["Upper NR"]], ["N/A", "N/A", "N/A", "85.00", "95.00", "105.00"], r.describe())
        self.assertEqual(rows["3.3V"]["Reading"], "3.30", r.describe())
        self.assertEqual(rows["3.3V"]["Units"], "V", r.describe())
        self.assertEqual(rows["FAN3"]["Units"], "RPM", r.describe())
        self.assertEqual(rows["PSU1 Power"]["Units"], "W", r.describe())
        self.assertEqual(rows["PSU1 Status"]["Event"], "0001h", r.describe())

        r = self.assertOk(self.fi("ipmi-sensors"))
        self.no_errors(r)
        rows = {row["Name"]: row for row in table_rows(r.out)}
        for name in DEMO_SENSORS:
            self.assertIn(name, rows, r.describe())
        for name in ("CPU Temp", "12V", "FAN1", "PSU1 Power", "Intrusion"):
            self.assertEqual(rows[name]["Event"], "'OK'", r.describe())
        self.assertEqual(rows["PSU1 Status"]["Event"], "'Presence detected'", r.describe())
        self.assertEqual([n for n, row in rows.items() if row["Type"] == "Watchdog 2"], ["BMC Watchdog"], r.describe())

        # Verbose output carries the linearization FreeIPMI computed from the SDR.
        r = self.assertOk(self.fi("ipmi-sensors", "-v", "--record-ids", rows["3.3V"]["ID"]))
        f = fields(r.out)
        self.assertEqual(f.get("Upper Critical Threshold"), "3.620000 V", r.describe())
        self.assertEqual(f.get("Nominal Reading"), "3.300000 V", r.describe())

    def test_freeipmi_sensors_config_checkout(self):
        r = self.assertOk(self.fi("ipmi-sensors-config", "--checkout"))
        self.no_errors(r)
        sections = re.findall(r"^Section (\S+)$", r.out, re.M)
        cpu = [s for s in sections if s.endswith("_CPU_Temp")]
        self.assertEqual(len(cpu), 1, r.describe())
        body = r.out.split("Section " + cpu[0])[1].split("EndSection")[0]
        values = {m.group(1): m.group(2) for m in re.finditer(r"^\s+(\w+)\s+(\S+)\s*$", body, re.M)}
        self.assertEqual(values.get("Upper_Critical_Threshold"), "95.000000", body)
        self.assertEqual(values.get("Upper_Non_Critical_Threshold"), "85.000000", body)
        self.assertEqual(values.get("Positive_Going_Threshold_Hysteresis"), "2.000000", body)
        self.assertEqual(values.get("Enable_All_Event_Messages"), "Yes", body)
        self.assertEqual(values.get("Enable_Assertion_Event_Upper_Critical_Going_High"), "Yes", body)

    def test_pyghmi_sensor_data(self):
        # What OpenStack Ironic's IPMI sensor collection calls.
        r, out = self.daemon.pyghmi("""
            out["sensors"] = {s.name: [s.value, s.units, s.health, s.states, s.type] for s in cmd.get_sensor_data()}
            out["health"] = cmd.get_health()
        """)
        self.assertIsNotNone(out, r.describe())
        self.assertNotIn("error", out, r.describe())
        sensors = out["sensors"]
        self.assertEqual(sorted(sensors), sorted(DEMO_SENSORS), r.describe())
        self.assertEqual(sensors["3.3V"][:3], [3.3, "V", 0], r.describe())
        self.assertEqual(sensors["FAN3"][:3], [5200.0, "RPM", 0], r.describe())
        self.assertEqual(sensors["CPU Temp"][1], "\u00b0C", r.describe())
        self.assertEqual(sensors["PSU1 Power"][1], "W", r.describe())
        self.assertEqual(sensors["PSU1 Status"][3], ["Present"], r.describe())
        self.assertEqual(sensors["Intrusion"][2:4], [0, []], r.describe())
        self.assertEqual(out["health"], {"badreadings": [], "health": 0}, r.describe())

    def test_raw_lengths_fields_and_unknown_sensors(self):
        def raw_cc(*data):
            r = self.ipmi("raw", "0x04", *data)
            m = re.search(r"rsp=0x([0-9a-f]{2})", r.err)
            return (r.rc, int(m.group(1), 16) if m else None, r)

        r = self.assertOk(self.ipmi("raw", "0x04", "0x2d", "0x01"))
        self.assertEqual(len(raw_bytes(r.out)), 3, r.describe())  # reading, flags, threshold status
        for data, cc in [(("0x2d",), 0xC7), (("0x2d", "0x01", "0x00"), 0xC7), (("0x2d", "0x99"), 0xCB),
                         (("0x27", "0x99"), 0xCB), (("0x27", "0x40"), 0xCD),
                         (("0x26", "0x01", "0xc0", "0", "0", "0", "0", "0", "0"), 0xCC),
                         (("0x26", "0x01", "0x01", "0", "0", "0", "0", "0", "0"), 0xCC),
                         (("0x26", "0x01", "0x10", "0", "0", "0", "0", "0"), 0xC7),
                         (("0x28", "0x01", "0xf0"), 0xCC), (("0x2e", "0x01", "0x01", "0x6f"), 0xCC)]:
            rc, got, r = raw_cc(*data)
            self.assertNotEqual(rc, 0, r.describe())
            self.assertEqual(got, cc, r.describe())

    def test_event_receiver(self):
        r = self.assertOk(self.ipmi("raw", "0x04", "0x01"))
        self.assertEqual(raw_bytes(r.out), [0x20, 0x00], r.describe())


# ----------------------------------------------------------------------------------------------------------------
# Thresholds set over IPMI: every client sees them, and they survive a restart.


class ThresholdPersistence(SensorClientMixin, DaemonTestCase):

    class_daemon = False

    def demo(self):
        return self.new_daemon(config=None, users=["{}:{}:administrator".format(ADMIN_USER, ADMIN_PASSWORD)])

    def thresholds_everywhere(self, d, ucr):
        r = self.assertOk(self.ipmi("sensor", "get", "CPU Temp", d=d))
        self.assertEqual(fields(r.out).get("Upper Critical"), "{:.3f}".format(ucr), r.describe())
        r = self.assertOk(self.ipmi("sensor", "list", d=d))
        self.assertEqual(sensor_rows(r.out)["CPU Temp"][7], "{:.3f}".format(ucr), r.describe())
        r = self.assertOk(self.fi("ipmi-sensors", "--output-sensor-thresholds", d=d))
        row = {x["Name"]: x for x in table_rows(r.out)}["CPU Temp"]
        self.assertEqual(row["Upper C"], "{:.2f}".format(ucr), r.describe())
        r = self.assertOk(self.ipmi("raw", "0x04", "0x27", "0x01", d=d))
        self.assertEqual(raw_bytes(r.out), [0x38, 0, 0, 0, 85, int(ucr), 105], r.describe())

    def test_ipmitool_thresh_is_seen_by_every_client_and_survives_restart(self):
        d = self.demo()
        self.thresholds_everywhere(d, 95)
        r = self.assertOk(self.ipmi("sensor", "thresh", "CPU Temp", "ucr", "97", d=d))
        self.assertIn("Setting sensor \"CPU Temp\" Upper Critical threshold to 97.000", r.out, r.describe())
        self.thresholds_everywhere(d, 97)
        d.restart()
        self.thresholds_everywhere(d, 97)
        d.kill9()
        d.start()
        self.thresholds_everywhere(d, 97)

    def test_freeipmi_sensors_config_commit(self):
        d = self.demo()
        r = self.assertOk(self.fi("ipmi-sensors-config", "--checkout", d=d))
        section = [s for s in re.findall(r"^Section (\S+)$", r.out, re.M) if s.endswith("_CPU_Temp")][0]
        r = self.assertOk(self.fi("ipmi-sensors-config", "--commit",
                                  "-e", section + ":Upper_Critical_Threshold=93", d=d))
        self.no_errors(r)
        self.thresholds_everywhere(d, 93)
        r = self.assertOk(self.fi("ipmi-sensors-config", "--diff", "-e",
                                  section + ":Upper_Critical_Threshold=93.000000", d=d))
        self.assertEqual(r.out.strip(), "", r.describe())
        d.restart()
        self.thresholds_everywhere(d, 93)

    def test_operator_may_set_user_may_not(self):
        d = self.demo()
        r = self.ipmi("raw", "0x04", "0x26", "0x01", "0x10", "0", "0", "0", "0", "90", "0", d=d, priv="USER")
        self.assertNotEqual(r.rc, 0, r.describe())
        self.assertIn("rsp=0xd4", r.err, r.describe())
        self.thresholds_everywhere(d, 95)


# ----------------------------------------------------------------------------------------------------------------
# A scenario crossing a threshold, a discrete state change, real I/O sources.


SCENARIO_SENSORS = """
[[bmc.sensor]]
number = 0x30
name = "Hot Temp"
type = "temperature"
thresholds = {{ uc = 95 }}
hysteresis = 2
poll_ms = 100
# 97 crosses uc; 94 stays inside the hysteresis band (no deassertion); 40 falls below 95 - 2.
source = {{ kind = "scenario", steps = [
  {{ at_ms = 0, value = 40 }}, {{ at_ms = 2000, value = 97 }}, {{ at_ms = 3000, value = 94 }},
  {{ at_ms = 3500, value = 96 }}, {{ at_ms = 4000, value = 40 }} ] }}

[[bmc.sensor]]
number = 0x40
name = "Lid"
type = "chassis_intrusion"
poll_ms = 100
source = {{ kind = "scenario", steps = [
  {{ at_ms = 0, states = [] }}, {{ at_ms = 2500, states = [0] }}, {{ at_ms = 4500, states = [] }} ] }}

[[bmc.sensor]]
number = 0x50
name = "Board Temp"
type = "temperature"
thresholds = {{ uc = 90 }}
range = [0, 127.5]
poll_ms = 100
source = {{ kind = "hwmon", root = "{hwmon}", chip = "fakechip", input = "temp1" }}

[[bmc.sensor]]
number = 0x51
name = "Gone"
type = "voltage"
range = [0, 15]
poll_ms = 100
source = {{ kind = "file", path = "{missing}" }}
"""


class ScenarioEvents(SensorClientMixin, DaemonTestCase):

    class_daemon = False

    def scenario_daemon(self):
        hwmon = tempfile.mkdtemp(prefix="simbmc-hwmon-")
        self.addCleanup(shutil.rmtree, hwmon, True)
        os.makedirs(os.path.join(hwmon, "hwmon0"))
        os.makedirs(os.path.join(hwmon, "hwmon3"))
        with open(os.path.join(hwmon, "hwmon0", "name"), "w") as f:
            f.write("otherchip\n")
        with open(os.path.join(hwmon, "hwmon3", "name"), "w") as f:
            f.write("fakechip\n")
        self.temp_input = os.path.join(hwmon, "hwmon3", "temp1_input")
        with open(self.temp_input, "w") as f:
            f.write("41500\n")
        d = self.new_daemon(config={}, start=False)
        d.config = make_config(d.port, d.state_dir) + SCENARIO_SENSORS.format(
            hwmon=hwmon, missing=os.path.join(hwmon, "no-such-file"))
        d.start()
        return d

    def test_scenario_crossing_logs_exactly_one_assertion_and_one_deassertion(self):
        d = self.scenario_daemon()

        def entries():
            r = self.assertOk(self.ipmi("sel", "list", d=d))
            return sel_lines(r.out)

        got = poll(lambda: len(entries()) >= 4, tries=60, interval=0.25)
        self.assertTrue(got, "the scenario's 4 events did not reach the SEL (bounded poll)\n" + d.log())
        # The scenario is over at 4.5 s; give it time to (wrongly) add more, then look.
        poll(lambda: False, tries=8, interval=0.25)
        lines = entries()
        temp = [l for l in lines if "Temperature" in l]
        lid = [l for l in lines if "Physical Security" in l]
        self.assertEqual(len(lines), 4, "\n".join(lines))
        self.assertEqual(len(temp), 2, "\n".join(lines))
        self.assertRegex(temp[0], r"Upper Critical going high \| Asserted$")
        self.assertRegex(temp[1], r"Upper Critical going high \| Deasserted$")
        self.assertEqual(len(lid), 2, "\n".join(lines))
        self.assertRegex(lid[0], r"General Chassis intrusion \| Asserted$")
        self.assertRegex(lid[1], r"General Chassis intrusion \| Deasserted$")

        # Names come from the SDRs; the trigger reading and threshold are in the event data.
        r = self.assertOk(self.ipmi("sel", "elist", d=d))
        self.assertEqual(len([l for l in r.out.splitlines() if "Hot Temp" in l]), 2, r.describe())
        self.assertIn("Reading 97 > Threshold 95 degrees C", r.out, r.describe())
        r = self.assertOk(self.fi("ipmi-sel", d=d))
        self.no_errors(r)
        hot = [row for row in table_rows(r.out) if row.get("Name") == "Hot Temp"]
        self.assertEqual([row["Event"] for row in hot],
                         ["Upper Critical - going high ; Sensor Reading = 97.00 C ; Threshold = 95.00 C",
                          "Upper Critical - going high ; Sensor Reading = 40.00 C ; Threshold = 95.00 C"], r.describe())
        lid = [row for row in table_rows(r.out) if row.get("Name") == "Lid"]
        self.assertEqual([row["Event"] for row in lid], ["General Chassis Intrusion"] * 2, r.describe())
        r = self.assertOk(self.ipmi("sensor", "get", "Hot Temp", d=d))
        self.assertEqual(fields(r.out).get("Status"), "ok", r.describe())

    def test_hwmon_source_follows_the_file_and_a_failing_source_reads_na(self):
        d = self.scenario_daemon()
        r = self.assertOk(self.ipmi("sensor", "get", "Board Temp", d=d))
        self.assertEqual(fields(r.out).get("Sensor Reading"), "41.500 (+/- 0) degrees C", r.describe())
        with open(self.temp_input, "w") as f:
            f.write("92000\n")

        def board():
            r = self.assertOk(self.ipmi("sensor", "get", "Board Temp", d=d))
            return fields(r.out)

        f = poll(lambda: (lambda x: x if x.get("Sensor Reading", "").startswith("92 ") else None)(board()),
                 tries=40, interval=0.25)
        self.assertTrue(f, "the hwmon reading did not follow the file (bounded poll)")
        self.assertEqual(f.get("Status"), "Upper Critical", f)

        r = self.assertOk(self.ipmi("sensor", "list", d=d))
        self.assertEqual(sensor_rows(r.out)["Gone"][:3], ["na", "Volts", "na"], r.describe())
        r = self.assertOk(self.fi("ipmi-sensors", d=d))
        gone = {x["Name"]: x for x in table_rows(r.out)}["Gone"]
        self.assertEqual(gone["Reading"], "N/A", r.describe())
        self.assertTrue(d.alive())
        self.assertIn('sensor unavailable number=81 name="Gone"', d.log())


class PlatformEvents(SensorClientMixin, DaemonTestCase):
    """Platform Event Message (Sensor/Event NetFn 02h) from ipmitool over RMCP+ and IPMI 1.5 lands in the
    SEL with the requester as generator."""

    config = {}  # no sensors: the SEL starts empty

    def test_ipmitool_event_lands_in_the_sel(self):
        r = self.assertOk(self.ipmi("event", "1"))
        self.assertIn("Sending SAMPLE event: Temperature - Upper Critical - Going High", r.out, r.describe())
        self.assertOk(self.ipmi("event", "2", iface="lan"))
        self.assertOk(self.ipmi("event", "3"))
        r = self.assertOk(self.ipmi("sel", "list"))
        lines = sel_lines(r.out)
        self.assertEqual(len(lines), 3, r.describe())
        self.assertRegex(lines[0], r"Temperature #0x30 \| Upper Critical going high \| Asserted$")
        self.assertRegex(lines[1], r"Voltage #0x60 \| Lower Critical going low\s+\| Asserted$")
        self.assertRegex(lines[2], r"Memory #0x53 \| Correctable ECC \| Asserted$")
        r = self.assertOk(self.ipmi("sel", "get", lines[0].split("|")[0].strip()))
        # Table 32-1: software ID 40h (ID type bit set), channel 1 in byte 2 bits 7:4.
        self.assertEqual(fields(r.out).get("Generator ID"), "1081", r.describe())
        r = self.assertOk(self.fi("ipmi-sel"))
        self.no_errors(r)
        self.assertEqual([row["Type"] for row in table_rows(r.out)], ["Temperature", "Voltage", "Memory"],
                         r.describe())


class ConfigErrors(DaemonTestCase):

    class_daemon = False

    def test_invalid_sensors_are_all_reported(self):
        d = self.new_daemon(config={}, start=False)
        d.config = make_config(d.port, d.state_dir) + """
[[bmc.sensor]]
number = 1
name = "A name that is far too long"
type = "temperature"

[[bmc.sensor]]
number = 2
name = "Bad Order"
type = "temperature"
thresholds = { unc = 90, uc = 80 }

[[bmc.sensor]]
number = 2
name = "Dup"
type = "nonsense"
source = { kind = "scenario" }
"""
        with self.assertRaises(Exception):
            d.start()
        log = d.log() + d.stdout()
        self.assertIn("bmc[0].sensor[0].name", log)
        self.assertIn("threshold uc (80) is below unc (90)", log)
        self.assertIn("bmc[0].sensor[2].type: expected one of", log)
        self.assertIn("bmc[0].sensor[2].source.steps: required", log)


if __name__ == "__main__":
    main()
