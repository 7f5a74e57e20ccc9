#!/usr/bin/python3
"""The SDR repository through real clients: ipmitool (`sdr info`, `sdr list/elist` and their record-type
filters, `sdr type`, `sdr dump`, the automatic rebuild of an empty repository from the device SDRs, raw
Add/Delete/Clear) and FreeIPMI (`ipmi-sensors --sdr-info`, the SDR cache with every record printed by
`-vv`, `ipmi-fru` finding FRU devices through their locator records), no -W workaround. Also: the
repository's MC locator agrees with Get Device ID, device SDRs equal an unmodified repository, records
added over IPMI survive a restart and kill -9, FreeIPMI's SDR cache stays valid across a restart, thresholds
and hysteresis set by ipmitool or ipmi-sensors-config and sensor types set by Set Sensor Type are in the
sensor's records at once (and its addition timestamp moves, so FreeIPMI's cache notices; so does the device
SDRs' change indicator), and 1,000 SDRs are walked by ipmitool and FreeIPMI with the daemon's RSS reported
before and after.

IPMI v2.0 §33 (repository commands), §35.2-35.4 (device SDRs), §43 (record formats). FreeIPMI caches
SDRs per host:port: every FreeIPMI call here uses its own cache directory. Loops are bounded."""

import os
import re
import shutil
import struct
import sys
import tempfile
import time

from harness import (ADMIN_PASSWORD, ADMIN_USER, Daemon, DaemonTestCase, RmcpClient, fields, main, make_config,
                     raw_bytes)

SYSTEM_NAME = "rack7-node42"
READER, READER_PASSWORD = "reader", "Reader-Pw-1234"
USERS = [dict(name=ADMIN_USER, password=ADMIN_PASSWORD, privilege="administrator"),
         dict(name=READER, password=READER_PASSWORD, privilege="user")]

EXTRA = """
[bmc.identity]
system_name = "{system_name}"

[[bmc.fru]]
id = 0
name = "Mainboard"
[bmc.fru.board]
manufacturer = "simbmc"
product = "SB-2000 Mainboard"
serial = "MB-SN-1"

[[bmc.fru]]
id = 4
name = "PSU 1"
[bmc.fru.product]
manufacturer = "simbmc"
name = "PSU 800W"
serial = "PSU-SN-4"

[[bmc.sensor]]
number = 1
name = "CPU Temp"
type = "temperature"
range = [0, 127]
thresholds = {{ unc = 85, uc = 95 }}
source = {{ kind = "static", value = 47 }}

[[bmc.sensor]]
number = 2
name = "Inlet Temp"
type = "temperature"
range = [0, 63]
source = {{ kind = "static", value = 22 }}

[[bmc.sensor]]
number = 16
name = "12V"
type = "voltage"
range = [0, 15]
thresholds = {{ lc = 10.8, uc = 13.2 }}
source = {{ kind = "static", value = 12.05 }}

[[bmc.sensor]]
number = 40
name = "PSU1 Presence"
type = "presence"
record = "compact"

[[bmc.sensor]]
number = 41
name = "OS Boot"
type = "os_boot"
record = "event-only"
"""
FRU_NAMES = ["Mainboard", "PSU 1"]
# The configured sensors, then the BMC's own Power Unit (sensor 80h, compact record), which every
# instance has unless [bmc.power] power_unit = false, and its watchdog's sensor (81h, compact record).
POWER_UNIT = "Pwr Unit Status"
WATCHDOG = "BMC Watchdog"
SENSOR_NAMES = ["CPU Temp", "Inlet Temp", "12V", "PSU1 Presence", "OS Boot", POWER_UNIT, WATCHDOG]
RECORD_COUNT = 1 + len(FRU_NAMES) + len(SENSOR_NAMES)


def config_text(d):
    return make_config(d.port, d.state_dir, users=USERS) + EXTRA.format(system_name=SYSTEM_NAME)


def sdr_rows(text):
    """`ipmitool sdr list/elist/type` -> list of column lists."""
    return [[c.strip() for c in line.split("|")] for line in text.splitlines() if line.count("|") >= 2]


def dump_records(path):
    """An `ipmitool sdr dump` file -> list of (record id, type, whole record)."""
    with open(path, "rb") as f:
        data = f.read()
    out, at = [], 0
    for _ in range(70000):
        if at >= len(data):
            break
        if at + 5 > len(data):
            raise AssertionError("truncated header at byte {}".format(at))
        length = data[at + 4]
        rec = data[at:at + 5 + length]
        if len(rec) != 5 + length:
            raise AssertionError("truncated record at byte {}".format(at))
        out.append((rec[0] | rec[1] << 8, rec[3], rec))
        at += 5 + length
    return out


def oem_record(body):
    """An OEM record (type C0h): manufacturer ID 0x001357 then the body bytes (§43.12)."""
    data = bytes([0x57, 0x13, 0x00]) + bytes(body)
    return bytes([0x00, 0x00, 0x51, 0xC0, len(data)]) + data


def rss_kib(pid):
    with open("/proc/{}/status".format(pid)) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


class SdrClients:
    """Client helpers for self.daemon (or a daemon passed in) with a private FreeIPMI SDR cache."""

    def cache_dir(self, d):
        caches = self.__dict__.setdefault("_sdr_caches", {})
        if id(d) not in caches:
            caches[id(d)] = tempfile.mkdtemp(prefix="simbmc-sdrcache-")
            self.addCleanup(shutil.rmtree, caches[id(d)], True)
        return caches[id(d)]

    def fi(self, tool, *args, d=None, recreate=True, **kw):
        d = d or self.daemon
        extra = ["--sdr-cache-recreate"] if recreate else []
        return d.freeipmi(tool, "--sdr-cache-directory", self.cache_dir(d), "--quiet-cache", *extra, *args, **kw)

    def ipmi(self, *args, d=None, **kw):
        return (d or self.daemon).ipmitool(*args, **kw)

    def no_errors(self, r):
        lines = [l for l in r.err.splitlines() if l.strip()]
        self.assertEqual(lines, [], "unexpected messages on stderr\n" + r.describe())
        return r

    def raw(self, netfn, cmd, data=b"", d=None):
        """One request over a fresh RMCP+ session: (completion code, data)."""
        with RmcpClient((d or self.daemon).port, timeout=2.0) as c:
            self.assertEqual(c.open_session(), 0)
            return c.command(netfn, cmd, bytes(data))

    def info(self, d=None):
        r = self.no_errors(self.assertOk(self.ipmi("sdr", "info", d=d)))
        return fields(r.out)

    def count(self, d=None):
        return int(self.info(d)["Record Count"])


# ----------------------------------------------------------------------------------------------------------------
# Reading a repository built from the config.


class Repository(SdrClients, DaemonTestCase):

    @classmethod
    def make_daemon(cls):
        d = Daemon(label=cls.__name__)
        d.config = config_text(d)
        return d

    def test_ipmitool_sdr_info(self):
        f = self.info()
        self.assertEqual(f.get("SDR Version"), "0x51")
        self.assertEqual(f.get("Record Count"), str(RECORD_COUNT))
        self.assertEqual(f.get("Free Space"), "> 64Kb - 2 bytes")
        self.assertEqual(f.get("Most recent Erase"), "Unspecified", "nothing was ever erased")
        self.assertRegex(f.get("Most recent Addition", ""), r"^\d\d/\d\d/\d\d \d\d:\d\d:\d\d")
        self.assertEqual(f.get("SDR overflow"), "no")
        self.assertEqual(f.get("SDR Repository Update Support"), "modal and non-modal")
        for key in ("Delete SDR supported", "Partial Add SDR supported", "Reserve SDR repository supported",
                    "SDR Repository Alloc info supported"):
            self.assertEqual(f.get(key), "yes", key)

    def test_ipmitool_sdr_list_elist_and_type(self):
        r = self.no_errors(self.assertOk(self.ipmi("sdr", "list")))
        rows = {c[0]: c[1:] for c in sdr_rows(r.out)}
        # `sdr list`: full and compact sensor records.
        self.assertEqual(list(rows), ["CPU Temp", "Inlet Temp", "12V", "PSU1 Presence", POWER_UNIT, WATCHDOG],
                         r.describe())
        self.assertEqual(rows["CPU Temp"], ["47 degrees C", "ok"], r.describe())
        self.assertEqual(rows["12V"][1], "ok", r.describe())

        r = self.no_errors(self.assertOk(self.ipmi("sdr", "elist", "all")))
        rows = sdr_rows(r.out)
        self.assertEqual([c[0] for c in rows], [SYSTEM_NAME] + FRU_NAMES + SENSOR_NAMES,
                         "every record, in record ID order\n" + r.describe())
        self.assertEqual(rows[0][1:], ["00h", "ok", "6.1", "Static MC @ 20h"], r.describe())
        self.assertEqual(rows[1][1:], ["00h", "ns", "7.1", "Logical FRU @00h"], r.describe())
        self.assertEqual(rows[2][1:], ["00h", "ns", "7.5", "Logical FRU @04h"], r.describe())
        self.assertEqual(rows[3][1:], ["01h", "ok", "7.1", "47 degrees C"], r.describe())
        self.assertEqual(rows[6][1:], ["28h", "ok", "7.1", "Present"], r.describe())
        self.assertEqual(rows[7][1:], ["29h", "ns", "7.1", "Event-Only"], r.describe())
        self.assertEqual(rows[8][1:], ["80h", "ok", "19.1", ""], r.describe())
        self.assertEqual(rows[9][1:], ["81h", "ok", "6.1", ""], r.describe())

        r = self.no_errors(self.assertOk(self.ipmi("sdr", "elist", "mcloc")))
        self.assertEqual(sdr_rows(r.out), [[SYSTEM_NAME, "00h", "ok", "6.1", "Static MC @ 20h"]], r.describe())
        r = self.no_errors(self.assertOk(self.ipmi("sdr", "elist", "fru")))
        self.assertEqual([c[0] for c in sdr_rows(r.out)], FRU_NAMES, r.describe())
        r = self.no_errors(self.assertOk(self.ipmi("sdr", "elist", "compact")))
        self.assertEqual([c[0] for c in sdr_rows(r.out)], ["PSU1 Presence", POWER_UNIT, WATCHDOG], r.describe())
        r = self.no_errors(self.assertOk(self.ipmi("sdr", "elist", "event")))
        self.assertEqual([c[0] for c in sdr_rows(r.out)], ["OS Boot"], r.describe())

        r = self.no_errors(self.assertOk(self.ipmi("sdr", "type", "Temperature")))
        rows = sdr_rows(r.out)
        self.assertEqual([c[0] for c in rows], ["CPU Temp", "Inlet Temp"], r.describe())
        self.assertEqual(rows[1][-1], "22 degrees C", r.describe())

    def test_ipmitool_sdr_dump(self):
        path = os.path.join(self.daemon.workdir, "sdr.bin")
        r = self.no_errors(self.assertOk(self.ipmi("sdr", "dump", path)))
        records = dump_records(path)
        self.assertEqual(len(records), RECORD_COUNT, r.describe())
        self.assertEqual([rid for rid, _, _ in records], list(range(1, RECORD_COUNT + 1)))
        self.assertEqual([t for _, t, _ in records], [0x12, 0x11, 0x11, 0x01, 0x01, 0x01, 0x02, 0x03, 0x02, 0x02])
        for _, _, rec in records:
            self.assertEqual(rec[2], 0x51, "SDR version")
        mc = records[0][2]
        name_len = mc[15] & 0x1F
        self.assertEqual(mc[15] & 0xC0, 0xC0, "8-bit ASCII + Latin 1 ID string")
        self.assertEqual(mc[16:16 + name_len].decode(), SYSTEM_NAME)
        self.assertEqual(len(mc), 16 + name_len)
        self.assertEqual(mc[5], 0x20, "the BMC's slave address")
        fru = records[2][2]
        self.assertEqual((fru[6], fru[7] & 0x80, fru[10], fru[11]), (0x04, 0x80, 0x10, 0x00),
                         "logical FRU device 4, FRU inventory device behind the MC")

    def test_ipmi15_clients(self):
        # Whole records must fit an IPMI 1.5 message (one length byte) as well.
        r = self.no_errors(self.assertOk(self.ipmi("sdr", "elist", "all", iface="lan")))
        self.assertEqual([c[0] for c in sdr_rows(r.out)], [SYSTEM_NAME] + FRU_NAMES + SENSOR_NAMES, r.describe())
        r = self.no_errors(self.assertOk(self.fi("ipmi-sensors", "-vv", driver="LAN")))
        self.assertEqual(len(re.findall(r"^Record ID: \d+$", r.out, re.M)), RECORD_COUNT, r.describe())

    def test_mc_locator_agrees_with_get_device_id(self):
        r = self.no_errors(self.assertOk(self.ipmi("mc", "info")))
        supported = set()
        lines = r.out.splitlines()
        for i, line in enumerate(lines):
            if line.startswith("Additional Device Support"):
                for follow in lines[i + 1:]:
                    if not follow.startswith("    "):
                        break
                    supported.add(follow.strip())
        self.assertEqual(fields(r.out).get("Provides Device SDRs"), "yes", r.describe())
        self.assertIn("SDR Repository Device", supported, r.describe())

        r = self.assertOk(self.ipmi("-v", "sdr", "list", "mcloc"))  # -v also prints ipmitool's debug on stderr
        f = fields(r.out)
        self.assertEqual(f.get("Device ID"), SYSTEM_NAME, r.describe())
        names = {"Chassis Device": "Chassis Device", "Bridge": "Bridge", "IPMB Event Generator": "IPMB Event Generator",
                 "IPMB Event Receiver": "IPMB Event Receiver", "FRU Inventory Device": "FRU Inventory Device",
                 "SEL Device": "SEL Device", "SDR Repository": "SDR Repository Device",
                 "Sensor Device": "Sensor Device"}
        for key, mc_info_name in names.items():
            self.assertEqual(f.get(key) == "Yes", mc_info_name in supported,
                             "{}: MC locator says {}, Get Device ID lists {}\n{}".format(key, f.get(key), supported,
                                                                                      r.describe()))

    def test_freeipmi_sdr_info(self):
        r = self.no_errors(self.assertOk(self.fi("ipmi-sensors", "--sdr-info")))
        f = fields(r.out)
        self.assertEqual(f.get("SDR version"), "1.5", r.describe())
        self.assertEqual(f.get("SDR record count"), str(RECORD_COUNT), r.describe())
        self.assertEqual(f.get("Free space remaining"), "65534 bytes", r.describe())
        self.assertEqual(f.get("Partial Add SDR Command"), "supported", r.describe())
        self.assertEqual(f.get("Modal/non-modal SDR Repository Update operation"), "both supported", r.describe())
        self.assertEqual(f.get("Allocation unit size"), "16 bytes", r.describe())
        self.assertEqual(f.get("Maximum record size"), "17 allocation units", r.describe())

    def test_freeipmi_reads_every_record(self):
        r = self.no_errors(self.assertOk(self.fi("ipmi-sensors", "-vv")))
        ids = re.findall(r"^Record ID: (\d+)$", r.out, re.M)
        self.assertEqual(ids, [str(i) for i in range(1, RECORD_COUNT + 1)], r.describe())
        types = re.findall(r"^Record Type: (.*)$", r.out, re.M)
        self.assertEqual(types[0], "Management Controller Device Locator Record (12h)", r.describe())
        self.assertEqual(types[1:3], ["FRU Device Locator Record (11h)"] * 2, r.describe())
        self.assertIn("Device ID String: {}".format(SYSTEM_NAME), r.out)
        self.assertIn("Device ID String: PSU 1", r.out)
        self.assertIn("FRU Entity ID: system board (7)", r.out)
        # The default output: the sensors with readings, nothing on stderr.
        r = self.no_errors(self.assertOk(self.fi("ipmi-sensors", recreate=False)))
        self.assertIn("CPU Temp", r.out)
        self.assertRegex(r.out, r"CPU Temp\s*\|\s*Temperature\s*\|\s*47\.00")

    def test_ipmi_fru_finds_devices_through_locator_records(self):
        r = self.no_errors(self.assertOk(self.fi("ipmi-fru")))
        devices = re.findall(r"^FRU Inventory Device: (.*) \(ID (\w+)h\)$", r.out, re.M)
        self.assertIn(("PSU 1", "04"), devices, r.describe())
        self.assertIn("PSU 800W", r.out, r.describe())

    def test_device_sdrs_equal_the_unmodified_repository(self):
        with RmcpClient(self.daemon.port, timeout=2.0) as c:
            self.assertEqual(c.open_session(), 0)
            cc, data = c.command(0x04, 0x20, b"\x01")  # Get Device SDR Info: SDR count
            self.assertEqual((cc, data[0], len(data)), (0, RECORD_COUNT, 6))
            cc, data = c.command(0x04, 0x20)  # sensor count (LUN 0)
            self.assertEqual((cc, data[1] & 0x01), (0, 0x01))

            def chain(netfn, cmd):
                out, rid = [], 0
                for _ in range(RECORD_COUNT + 2):
                    cc, d = c.command(netfn, cmd, struct.pack("<HHBB", 0, rid, 0, 0xFF))
                    self.assertEqual(cc, 0, "record {:#06x}".format(rid))
                    out.append(bytes(d[2:]))
                    rid = d[0] | d[1] << 8
                    if rid == 0xFFFF:
                        break
                return out

            device, repo = chain(0x04, 0x21), chain(0x0A, 0x23)
            self.assertEqual(len(device), RECORD_COUNT)
            self.assertEqual(device, repo)

    def test_raw_completion_codes(self):
        with RmcpClient(self.daemon.port, timeout=2.0) as c:
            self.assertEqual(c.open_session(), 0)
            cc, res = c.command(0x0A, 0x22)
            self.assertEqual((cc, len(res)), (0, 2))
            get = lambda *a: c.command(0x0A, 0x23, bytes(res) + struct.pack("<HBB", *a))[0]
            self.assertEqual(get(1, 0, 5), 0)
            self.assertEqual(c.command(0x0A, 0x23, bytes(res) + b"\x01\x00\x00")[0], 0xC7, "one byte short")
            self.assertEqual(c.command(0x0A, 0x23, bytes(res) + b"\x01\x00\x00\x05\x00")[0], 0xC7, "one byte long")
            self.assertEqual(get(0x0100, 0, 5), 0xCB, "no such record")
            self.assertEqual(get(1, 200, 1), 0xC9, "offset past the end")
            cc, _ = c.command(0x0A, 0x22)  # a new reservation cancels the first one
            self.assertEqual(get(1, 5, 4), 0xC5, "continuing read with a cancelled reservation")
            self.assertEqual(get(1, 0, 0xFF), 0, "offset 0 needs no reservation")
            self.assertEqual(c.command(0x0A, 0x27, bytes(res) + b"CLX\xaa")[0], 0xCC, "not 'CLR'")
            self.assertEqual(c.command(0x0A, 0x24, b"\x00\x00\x51\xC0")[0], 0xC7, "shorter than a header")
            self.assertEqual(c.command(0x0A, 0x24, oem_record(b"\x01\x02") + b"\x00")[0], 0x80, "length mismatch")
        self.assertEqual(self.count(), RECORD_COUNT, "nothing changed")

    def test_user_privilege_reads_but_does_not_write(self):
        r = self.no_errors(self.assertOk(self.daemon.ipmitool("sdr", "elist", "all", user=READER,
                                                              password=READER_PASSWORD, priv="USER")))
        self.assertEqual(len(sdr_rows(r.out)), RECORD_COUNT, r.describe())
        r = self.daemon.ipmitool("raw", "0x0a", "0x24", *["0x{:02x}".format(b) for b in oem_record(b"\x01")],
                                 user=READER, password=READER_PASSWORD, priv="USER")
        self.assertNotEqual(r.rc, 0, r.describe())
        self.assertIn("rsp=0xd4", r.err, r.describe())


# ----------------------------------------------------------------------------------------------------------------
# Writes: each test has its own daemon and state directory.


class Writes(SdrClients, DaemonTestCase):

    class_daemon = False

    def start(self):
        d = self.new_daemon(start=False)
        d.config = config_text(d)
        d.start()
        self.daemon = d
        return d

    def add(self, record, d=None):
        r = self.assertOk(self.ipmi("raw", "0x0a", "0x24", *["0x{:02x}".format(b) for b in record], d=d))
        b = raw_bytes(r.out)
        self.assertEqual(len(b), 2, r.describe())
        return b[0] | b[1] << 8

    def get(self, rid, d=None):
        r = self.ipmi("raw", "0x0a", "0x23", "0", "0", str(rid & 0xFF), str(rid >> 8), "0", "0xff", d=d)
        return raw_bytes(r.out) if r.rc == 0 else None

    def reserve(self, d=None):
        r = self.assertOk(self.ipmi("raw", "0x0a", "0x22", d=d))
        return raw_bytes(r.out)

    def test_added_sdr_survives_restart_and_kill9(self):
        d = self.start()
        record = oem_record(b"persist-me")
        rid = self.add(record)
        self.assertEqual(rid, RECORD_COUNT + 1)
        expected = [0xFF, 0xFF, rid & 0xFF, rid >> 8] + list(record[2:])
        self.assertEqual(self.get(rid), expected)
        self.assertEqual(self.count(), RECORD_COUNT + 1)
        d.restart()
        self.assertEqual(self.get(rid), expected, "after SIGTERM and restart")
        rid2 = self.add(oem_record(b"acknowledged"))
        d.kill9()
        d.start()
        self.assertEqual(self.get(rid2)[4:], list(oem_record(b"acknowledged")[2:]), "after kill -9")
        self.assertEqual(self.count(), RECORD_COUNT + 2)
        r = self.no_errors(self.assertOk(self.ipmi("sdr", "elist", "all")))
        self.assertEqual(len(sdr_rows(r.out)), RECORD_COUNT, "ipmitool skips OEM records it does not know\n" +
                         r.describe())

    def test_freeipmi_cache_stays_valid_across_a_restart_and_notices_changes(self):
        d = self.start()
        self.no_errors(self.assertOk(self.fi("ipmi-sensors")))
        d.restart()
        r = self.no_errors(self.assertOk(self.fi("ipmi-sensors", recreate=False)))
        self.assertIn("CPU Temp", r.out, "the unchanged repository keeps its timestamps: the cache is still good")
        self.add(oem_record(b"new"))
        r = self.fi("ipmi-sensors", recreate=False)
        self.assertNotEqual(r.rc, 0, r.describe())
        self.assertIn("out of date", r.err, r.describe())
        self.no_errors(self.assertOk(self.fi("ipmi-sensors")))

    def test_delete_clear_and_ipmitool_rebuild_from_device_sdrs(self):
        d = self.start()
        res = self.reserve()
        r = self.assertOk(self.ipmi("raw", "0x0a", "0x26", *map(str, res), "4", "0"))
        self.assertEqual(raw_bytes(r.out), [4, 0])
        self.assertIsNone(self.get(4))
        f = self.info()
        self.assertEqual(f["Record Count"], str(RECORD_COUNT - 1))
        self.assertNotEqual(f["Most recent Erase"], "Unspecified")
        r = self.ipmi("raw", "0x0a", "0x26", *map(str, res), "5", "0")
        self.assertNotEqual(r.rc, 0, "the delete cancelled the reservation\n" + r.describe())
        self.assertIn("rsp=0xc5", r.err, r.describe())

        res = self.reserve()
        r = self.assertOk(self.ipmi("raw", "0x0a", "0x27", *map(str, res), "0x43", "0x4c", "0x52", "0xaa"))
        self.assertEqual(raw_bytes(r.out), [0x01], "erase completed")
        r = self.assertOk(self.ipmi("raw", "0x0a", "0x27", *map(str, res), "0x43", "0x4c", "0x52", "0"))
        self.assertEqual(raw_bytes(r.out), [0x01], "status poll with the clearing reservation")
        self.assertEqual(self.count(), 0)
        d.restart()
        self.assertEqual(self.count(), 0, "a cleared repository stays cleared (same config)")

        # An empty repository makes ipmitool rebuild it from the device SDRs with Partial Add SDR.
        r = self.no_errors(self.assertOk(self.ipmi("sdr", "list")))
        self.assertIn("SDRR successfully erased", r.out, r.describe())
        self.assertEqual(self.count(), RECORD_COUNT)
        r = self.no_errors(self.assertOk(self.ipmi("sdr", "elist", "all")))
        self.assertEqual([c[0] for c in sdr_rows(r.out)], [SYSTEM_NAME] + FRU_NAMES + SENSOR_NAMES, r.describe())
        path = os.path.join(d.workdir, "rebuilt.bin")
        self.no_errors(self.assertOk(self.ipmi("sdr", "dump", path)))
        ids = [rid for rid, _, _ in dump_records(path)]
        self.assertEqual(ids, list(range(RECORD_COUNT + 1, 2 * RECORD_COUNT + 1)),
                         "records added after a clear get IDs above the generated range")

    def test_corrupt_database_is_refused_with_a_clear_message(self):
        d = self.start()
        d.stop()
        path = os.path.join(d.state_dir, "sdr.db")
        for suffix in ("-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        with open(path, "r+b") as f:
            f.write(b"this is not an SQLite database" * 8)
        with self.assertRaises(Exception):
            d.start()
        self.assertNotEqual(d.proc.wait(timeout=10), 0)
        log = d.log() + d.stdout()
        self.assertIn(path, log)
        self.assertIn("aside", log)


# ----------------------------------------------------------------------------------------------------------------
# Thresholds and hysteresis set by clients are in the sensor's SDR at once (and after a restart).


def full_record(records, number):
    """The full sensor record (type 01h) of sensor `number` owned by the BMC, from dump_records()."""
    for _, rtype, rec in records:
        if rtype == 0x01 and rec[5] == 0x20 and rec[7] == number:
            return rec
    raise AssertionError("no full record for sensor {}".format(number))


def sensor_record(records, rtype, number):
    """The sensor record of `rtype` (01h full, 02h compact, 03h event-only) of sensor `number` owned by the BMC,
    from dump_records(): (record id, record)."""
    for rid, t, rec in records:
        if t == rtype and rec[5] == 0x20 and rec[7] == number:
            return rid, rec
    raise AssertionError("no record of type {:#04x} for sensor {}".format(rtype, number))


class ChangedRecords(SdrClients):
    """A daemon of its own per test (records change), and the repository as `ipmitool sdr dump` writes it."""

    class_daemon = False

    def start(self):
        d = self.new_daemon(start=False)
        d.config = config_text(d)
        d.start()
        self.daemon = d
        return d

    def dump(self, name):
        path = os.path.join(self.daemon.workdir, name)
        self.no_errors(self.assertOk(self.ipmi("sdr", "dump", path)))
        return dump_records(path)


class ThresholdsInRecords(ChangedRecords, DaemonTestCase):
    """IPMI v2.0 §35.6/§35.8 set, Table 43-1 bytes 37-44 carry the values, §33.9 addition timestamp moves."""

    def thresholds_raw(self):
        """Get Sensor Thresholds of CPU Temp: (readable mask, lnc, lc, lnr, unc, uc, unr) raw."""
        return raw_bytes(self.assertOk(self.ipmi("raw", "0x04", "0x27", "0x01")).out)

    def sdr_get(self):
        r = self.no_errors(self.assertOk(self.ipmi("sdr", "get", "CPU Temp")))
        return fields(r.out), r

    def reserve(self):
        return raw_bytes(self.assertOk(self.ipmi("raw", "0x0a", "0x22")).out)

    def test_ipmitool_thresh_is_in_the_sdr_at_once_and_after_a_restart(self):
        d = self.start()
        f, r = self.sdr_get()
        self.assertEqual(f.get("Upper critical"), "95.000", r.describe())
        self.no_errors(self.assertOk(self.fi("ipmi-sensors")))  # a FreeIPMI SDR cache made before the change
        addition = self.info()["Most recent Addition"]  # in seconds; a change within the same one still moves it

        r = self.assertOk(self.ipmi("sensor", "thresh", "CPU Temp", "ucr", "90"))
        self.assertIn("Upper Critical threshold to 90.000", r.out, r.describe())
        # ipmitool's `sdr get` prints the thresholds from the full sensor record.
        f, r = self.sdr_get()
        self.assertEqual(f.get("Upper critical"), "90.000", r.describe())
        self.assertEqual(f.get("Upper non-critical"), "85.000", r.describe())
        # Byte for byte: record byte 38 (upper critical) is what Get Sensor Thresholds returns.
        before = full_record(self.dump("before.bin"), 1)
        self.assertEqual(before[37], self.thresholds_raw()[5])
        self.assertEqual(before[38], self.thresholds_raw()[4], "upper non-critical untouched")
        # The repository changed: its addition timestamp moved, so FreeIPMI's cache is out of date...
        self.assertNotEqual(self.info()["Most recent Addition"], addition)
        r = self.fi("ipmi-sensors", recreate=False)
        self.assertNotEqual(r.rc, 0, r.describe())
        self.assertIn("out of date", r.err, r.describe())
        # ... and rebuilt, it has the new value (ipmi-sensors reads the thresholds like ipmitool sensor list).
        r = self.no_errors(self.assertOk(self.fi("ipmi-sensors", "--output-sensor-thresholds")))
        row = [l for l in r.out.splitlines() if "| CPU Temp " in l]
        self.assertEqual(len(row), 1, r.describe())
        self.assertEqual([c.strip() for c in row[0].split("|")][9], "90.00", r.describe())

        # Hysteresis (Set Sensor Hysteresis, §35.6): bytes 43-44.
        self.assertOk(self.ipmi("raw", "0x04", "0x24", "0x01", "0xff", "0x06", "0x04"))
        rec = full_record(self.dump("hyst.bin"), 1)
        self.assertEqual((rec[42], rec[43]), (6, 4))
        f, r = self.sdr_get()
        self.assertNotEqual(f.get("Positive Hysteresis"), "2.000", r.describe())

        # The device SDRs (Get Device SDR, §35.3) say the same.
        rid = rec[0] | rec[1] << 8
        with RmcpClient(d.port, timeout=2.0) as c:
            self.assertEqual(c.open_session(), 0)
            cc, data = c.command(0x04, 0x21, struct.pack("<HHBB", 0, rid, 0, 0xFF))
            self.assertEqual(cc, 0)
            self.assertEqual(bytes(data[2:]), bytes(rec))

        # A restart keeps the record as it is and leaves the repository's timestamps alone: a cache
        # FreeIPMI builds now stays valid.
        self.no_errors(self.assertOk(self.fi("ipmi-sensors")))
        info = self.info()
        d.restart()
        self.assertEqual(full_record(self.dump("after.bin"), 1), rec)
        self.assertEqual(self.info(), info)
        self.no_errors(self.assertOk(self.fi("ipmi-sensors", recreate=False)))
        f, r = self.sdr_get()
        self.assertEqual(f.get("Upper critical"), "90.000", r.describe())
        # Back to the configured value: the record follows again.
        self.assertOk(self.ipmi("sensor", "thresh", "CPU Temp", "ucr", "95"))
        f, r = self.sdr_get()
        self.assertEqual(f.get("Upper critical"), "95.000", r.describe())

    def test_freeipmi_config_commit_and_a_rebuilt_repository(self):
        """ipmi-sensors-config sets thresholds too; a repository a client rebuilt from the device SDRs (its own
        copies of the records) is kept in step as well."""
        d = self.start()
        res = self.reserve()
        self.assertOk(self.ipmi("raw", "0x0a", "0x27", *map(str, res), "0x43", "0x4c", "0x52", "0xaa"))
        r = self.no_errors(self.assertOk(self.ipmi("sdr", "list")))  # ipmitool rebuilds the empty repository
        self.assertIn("SDRR successfully erased", r.out, r.describe())
        r = self.assertOk(self.fi("ipmi-sensors-config", "--checkout"))
        section = [s for s in re.findall(r"^Section (\S+)$", r.out, re.M) if s.endswith("_CPU_Temp")][0]
        self.no_errors(self.assertOk(self.fi("ipmi-sensors-config", "--commit",
                                             "-e", section + ":Upper_Critical_Threshold=92")))
        f, r = self.sdr_get()
        self.assertEqual(f.get("Upper critical"), "92.000", r.describe())
        records = self.dump("rebuilt.bin")
        self.assertGreater(records[0][0], RECORD_COUNT, "the records are the client's copies")
        self.assertEqual(full_record(records, 1)[37], self.thresholds_raw()[5])


class SensorTypeInRecords(ChangedRecords, DaemonTestCase):
    """IPMI v2.0 §35.15 Set Sensor Type: Tables 43-1/43-2 bytes 13-14 (43-3 bytes 11-12) carry the new type at
    once, §33.9 addition timestamp and §35.2 device SDR change indicator move, a restart keeps it all."""

    def sdr_get(self, name):
        r = self.no_errors(self.assertOk(self.ipmi("sdr", "get", name)))
        return fields(r.out), r

    def sensor_type(self, number):
        """Get Sensor Type (§35.16): [sensor type, event/reading type code]."""
        return raw_bytes(self.assertOk(self.ipmi("raw", "0x04", "0x2f", str(number))).out)

    def set_type(self, number, stype, reading):
        r = self.assertOk(self.ipmi("raw", "0x04", "0x2e", str(number), hex(stype), hex(reading)))
        self.assertEqual(r.out.strip(), "", r.describe())

    def device_info(self):
        """Get Device SDR Info (§35.2): (flags, sensor population change indicator)."""
        cc, data = self.raw(0x04, 0x20)
        self.assertEqual((cc, len(data)), (0, 6))
        return data[1], struct.unpack("<I", bytes(data[2:6]))[0]

    def device_record(self, rid):
        cc, data = self.raw(0x04, 0x21, struct.pack("<HHBB", 0, rid, 0, 0xFF))
        self.assertEqual(cc, 0)
        return bytes(data[2:])

    def sensors_row(self, r, name):
        rows = [[c.strip() for c in l.split("|")] for l in r.out.splitlines() if "| {} ".format(name) in l]
        self.assertEqual(len(rows), 1, r.describe())
        return rows[0]

    def test_set_sensor_type_is_in_the_sdr_at_once_and_after_a_restart(self):
        d = self.start()
        f, r = self.sdr_get("CPU Temp")
        self.assertEqual(f.get("Sensor Type (Threshold)"), "Temperature (0x01)", r.describe())
        self.no_errors(self.assertOk(self.fi("ipmi-sensors")))  # a FreeIPMI SDR cache made before the change
        addition = self.info()["Most recent Addition"]
        flags, indicator = self.device_info()
        self.assertEqual(flags, 0x81, "dynamic sensor population, sensors on LUN 0")

        # Requests one byte short or long, bad fields and an unknown sensor change nothing.
        for data, cc in [(b"\x01\x02", 0xC7), (b"\x01\x02\x01\x00", 0xC7), (b"\x01\x02\x6f", 0xCC),
                         (b"\x63\x02\x01", 0xCB)]:
            self.assertEqual(self.raw(0x04, 0x2E, data)[0], cc, data.hex())
        self.assertEqual(self.sensor_type(1), [0x01, 0x01])
        self.assertEqual(self.info()["Most recent Addition"], addition)
        self.assertEqual(self.device_info(), (flags, indicator))

        # Temperature -> voltage (a threshold sensor stays one).
        self.set_type(1, 0x02, 0x01)
        self.assertEqual(self.sensor_type(1), [0x02, 0x01])
        f, r = self.sdr_get("CPU Temp")
        self.assertEqual(f.get("Sensor Type (Threshold)"), "Voltage (0x02)", r.describe())
        self.assertEqual(f.get("Upper critical"), "95.000", "only the type changed\n" + r.describe())
        r = self.no_errors(self.assertOk(self.ipmi("sdr", "type", "Voltage")))
        self.assertEqual([c[0] for c in sdr_rows(r.out)], ["CPU Temp", "12V"], r.describe())
        r = self.no_errors(self.assertOk(self.ipmi("sdr", "type", "Temperature")))
        self.assertEqual([c[0] for c in sdr_rows(r.out)], ["Inlet Temp"], r.describe())
        r = self.no_errors(self.assertOk(self.ipmi("sdr", "elist")))
        self.assertEqual({c[0]: c[1:] for c in sdr_rows(r.out)}["CPU Temp"], ["01h", "ok", "7.1", "47 degrees C"],
                         r.describe())
        # Byte for byte: record bytes 13-14 are what Get Sensor Type returns; the device SDR says the same.
        rid, rec = sensor_record(self.dump("voltage.bin"), 0x01, 1)
        self.assertEqual(list(rec[12:14]), self.sensor_type(1))
        self.assertEqual(self.device_record(rid), bytes(rec))
        # The repository changed: its addition timestamp moved, so FreeIPMI's cache is out of date; the device
        # SDRs changed: their change indicator moved on.
        self.assertNotEqual(self.info()["Most recent Addition"], addition)
        flags2, indicator2 = self.device_info()
        self.assertEqual(flags2, 0x81)
        self.assertGreater(indicator2, indicator)
        r = self.fi("ipmi-sensors", recreate=False)
        self.assertNotEqual(r.rc, 0, r.describe())
        self.assertIn("out of date", r.err, r.describe())
        r = self.no_errors(self.assertOk(self.fi("ipmi-sensors")))
        self.assertEqual(self.sensors_row(r, "CPU Temp")[2], "Voltage", r.describe())
        self.assertEqual(self.sensors_row(r, "Inlet Temp")[2], "Temperature", r.describe())

        # A discrete sensor (compact record): entity presence -> power supply, its states stay sensor-specific.
        self.set_type(40, 0x08, 0x6F)
        self.assertEqual(self.sensor_type(40), [0x08, 0x6F])
        f, r = self.sdr_get("PSU1 Presence")
        self.assertEqual(f.get("Sensor Type (Discrete)"), "Power Supply (0x08)", r.describe())
        r = self.no_errors(self.assertOk(self.ipmi("sdr", "type", "Power Supply")))
        self.assertEqual([c[0] for c in sdr_rows(r.out)], ["PSU1 Presence"], r.describe())
        # An event-only record: OS boot -> system event.
        self.set_type(41, 0x12, 0x6F)
        f, r = self.sdr_get("OS Boot")
        self.assertEqual(f.get("Sensor Type"), "System Event (0x12)", r.describe())
        records = self.dump("discrete.bin")
        presence_id, presence = sensor_record(records, 0x02, 40)
        boot_id, boot = sensor_record(records, 0x03, 41)
        self.assertEqual((presence[12], presence[13]), (0x08, 0x6F))
        self.assertEqual((boot[10], boot[11]), (0x12, 0x6F))
        self.assertEqual(self.device_record(presence_id), bytes(presence))
        self.assertEqual(self.device_record(boot_id), bytes(boot))
        r = self.no_errors(self.assertOk(self.fi("ipmi-sensors")))
        self.assertEqual(self.sensors_row(r, "PSU1 Presence")[2], "Power Supply", r.describe())
        r = self.no_errors(self.assertOk(self.fi("ipmi-sensors", "-vv", "-r", "{},{}".format(rid, boot_id),
                                                 recreate=False)))
        self.assertEqual(re.findall(r"^Sensor Type: (.*)$", r.out, re.M), ["Voltage (2h)", "System Event (12h)"],
                         r.describe())
        self.assertGreater(self.device_info()[1], indicator2)

        # A restart keeps the records as they are and leaves the repository's timestamps and the device SDRs'
        # change indicator alone: a FreeIPMI cache built now stays valid.
        self.no_errors(self.assertOk(self.fi("ipmi-sensors")))
        info, device = self.info(), self.device_info()
        d.restart()
        self.assertEqual(self.dump("after.bin"), records)
        self.assertEqual(self.info(), info)
        self.assertEqual(self.device_info(), device)
        r = self.no_errors(self.assertOk(self.fi("ipmi-sensors", recreate=False)))
        self.assertEqual(self.sensors_row(r, "CPU Temp")[2], "Voltage", r.describe())
        self.assertEqual(self.sensor_type(1), [0x02, 0x01])
        self.assertEqual(self.sensor_type(40), [0x08, 0x6F])
        # Back to the configured type: the record follows again.
        self.set_type(1, 0x01, 0x01)
        f, r = self.sdr_get("CPU Temp")
        self.assertEqual(f.get("Sensor Type (Threshold)"), "Temperature (0x01)", r.describe())
        self.assertGreater(self.device_info()[1], device[1])

    def test_a_rebuilt_repository_follows_too(self):
        """A repository a client rebuilt from the device SDRs (its own copies of the records) is kept in step as
        well, over IPMI 1.5 (`-I lan`) as over RMCP+."""
        self.start()
        res = raw_bytes(self.assertOk(self.ipmi("raw", "0x0a", "0x22")).out)
        self.assertOk(self.ipmi("raw", "0x0a", "0x27", *map(str, res), "0x43", "0x4c", "0x52", "0xaa"))
        r = self.no_errors(self.assertOk(self.ipmi("sdr", "list")))  # ipmitool rebuilds the empty repository
        self.assertIn("SDRR successfully erased", r.out, r.describe())
        self.assertOk(self.ipmi("raw", "0x04", "0x2e", "0x01", "0x02", "0x01", iface="lan"))
        rid, rec = sensor_record(self.dump("rebuilt.bin"), 0x01, 1)
        self.assertGreater(rid, RECORD_COUNT, "the client's copy")
        self.assertEqual((rec[12], rec[13]), (0x02, 0x01))
        r = self.no_errors(self.assertOk(self.ipmi("sdr", "get", "CPU Temp", iface="lan")))
        self.assertEqual(fields(r.out).get("Sensor Type (Threshold)"), "Voltage (0x02)", r.describe())
        r = self.no_errors(self.assertOk(self.fi("ipmi-sensors")))
        self.assertEqual(self.sensors_row(r, "CPU Temp")[2], "Voltage", r.describe())


# ----------------------------------------------------------------------------------------------------------------
# 1,000 SDRs: every client walks them; memory stays flat (records live on disk).


class ThousandSdrs(SdrClients, DaemonTestCase):

    TOTAL = 1000

    @classmethod
    def make_daemon(cls):
        d = Daemon(label=cls.__name__)
        d.config = config_text(d)
        return d

    def test_walk_1000_sdrs(self):
        d = self.daemon
        rss_before = rss_kib(d.pid)
        added = self.TOTAL - RECORD_COUNT
        t0 = time.monotonic()
        with RmcpClient(d.port, timeout=2.0) as c:
            self.assertEqual(c.open_session(), 0)
            for i in range(added):
                body = struct.pack("<H", i) + bytes((i + k) & 0xFF for k in range(38))  # 48-byte records
                cc, data = c.command(0x0A, 0x24, oem_record(body))
                self.assertEqual((cc, data[0] | data[1] << 8), (0, RECORD_COUNT + 1 + i))
        t_add = time.monotonic() - t0
        self.assertEqual(self.count(), self.TOTAL)
        rss_added = rss_kib(d.pid)

        path = os.path.join(d.workdir, "sdr1000.bin")
        t0 = time.monotonic()
        r = self.no_errors(self.assertOk(self.ipmi("sdr", "dump", path, timeout=600)))
        t_dump = time.monotonic() - t0
        records = dump_records(path)
        self.assertEqual(len(records), self.TOTAL, r.describe())
        self.assertEqual([rid for rid, _, _ in records], list(range(1, self.TOTAL + 1)))
        self.assertEqual(records[-1][2][5:], oem_record(struct.pack("<H", added - 1) +
                                                        bytes((added - 1 + k) & 0xFF for k in range(38)))[5:])

        t0 = time.monotonic()
        r = self.no_errors(self.assertOk(self.fi("ipmi-sensors", "--sdr-info", timeout=600)))
        r = self.no_errors(self.assertOk(self.fi("ipmi-sensors", timeout=600)))
        t_fi = time.monotonic() - t0
        self.assertIn("CPU Temp", r.out)
        rss_after = rss_kib(d.pid)

        sys.stderr.write("\n[sdr] 1,000 SDRs: {} Add SDR in {:.2f} s; ipmitool sdr dump {:.2f} s; FreeIPMI cache "
                         "create + ipmi-sensors {:.2f} s; VmRSS {} kB at start, {} kB after adding, {} kB after the "
                         "walks\n".format(added, t_add, t_dump, t_fi, rss_before, rss_added, rss_after))
        # The records are on disk: adding and walking 1,000 of them (~48 KB) must not grow the daemon by
        # more than SQLite's page cache and allocator slack.
        self.assertLess(rss_after - rss_before, 8 * 1024,
                        "VmRSS grew from {} to {} kB".format(rss_before, rss_after))


if __name__ == "__main__":
    main()
