#!/usr/bin/python3
"""The System Event Log with real clients: ipmitool (`sel info / list / elist / add / clear / delete / time`,
-I lanplus and -I lan), FreeIPMI `ipmi-sel` (LAN_2_0 and LAN, `--clear`, `--delete`), raw requests with bad
lengths and fields, the capacity policies from [bmc.sel], Get SEL Info's addition/erase timestamps moving on
every change (two within one second, and across a restart), persistence, a corrupt sel.db at start-up, and
kill -9 at random (seeded) moments during concurrent adds: no acknowledged entry lost, none duplicated, and
Get SEL Info agrees with what iterating Get SEL Entry returns.

Every loop is bounded in count and time; clients run with hard timeouts; only processes started here are
signalled, by PID."""

import collections
import datetime
import os
import random
import re
import shutil
import signal
import struct
import tempfile
import threading
import time

from harness import (ADMIN_PASSWORD, ADMIN_USER, DaemonTestCase, Daemon, RmcpClient, fields, freeipmi_cmd,
                     ipmitool_cmd, main, make_config, raw_bytes, run)

# Dates and times print in the client's local time zone; pin it.
ENV = dict(os.environ, TZ="UTC", LC_ALL="C")

READER = dict(name="reader", password="Reader-Pw-77", privilege="user")
USERS = [dict(name=ADMIN_USER, password=ADMIN_PASSWORD, privilege="administrator"), READER]

DEFAULT_CAPACITY = 3639

# ipmitool's names for the completion codes these tests expect.
CC_TEXT = {0xC4: "Out of space", 0xC5: "Reservation cancelled or invalid", 0xC7: "Request data length invalid",
           0xCB: "Requested sensor, data, or record not found", 0xCC: "Invalid data field in request",
           0xD4: "Insufficient privilege level"}


def sel_config(port, state_dir, capacity=None, policy=None, users=None):
    """make_config() plus a [bmc.sel] table (it belongs to the one [[bmc]] defined above it)."""
    text = make_config(port, state_dir, users=users or USERS)
    keys = []
    if capacity is not None:
        keys.append("capacity = {}".format(capacity))
    if policy is not None:
        keys.append('policy = "{}"'.format(policy))
    if keys:
        text += "\n[bmc.sel]\n" + "\n".join(keys) + "\n"
    return text


def event_line(sensor_num, data2, data3, sensor_type=0x01, event_type=0x01, data1=0x57, comment=""):
    """One line of an ipmitool `sel add` file: EvMRev, sensor type, sensor number, dir|type, data 1..3."""
    line = "0x04 0x{:02x} 0x{:02x} 0x{:02x} 0x{:02x} 0x{:02x} 0x{:02x}".format(
        sensor_type, sensor_num, event_type, data1, data2, data3)
    return line + ("  # " + comment if comment else "")


# How ipmitool prints a SEL time (Get SEL Info's timestamps, `sel time get`), with TZ=UTC.
SEL_TIME_FORMAT = "%m/%d/%y %H:%M:%S UTC"
SEL_TIME = r"\d\d/\d\d/\d\d \d\d:\d\d:\d\d UTC"


def sel_time(text):
    return datetime.datetime.strptime(text.strip(), SEL_TIME_FORMAT)


def info_times(text, key):
    """Every `key : <time>` line of ipmitool output (several `sel info` in one `exec`) -> [datetime]."""
    return [sel_time(v) for v in re.findall(r"^{}\s*:\s*({})\s*$".format(re.escape(key), SEL_TIME), text, re.M)]


def list_rows(text):
    """`ipmitool sel list` lines -> [(id, [fields...])]; ids are printed in hex."""
    rows = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) >= 4 and re.fullmatch(r"[0-9a-f]+", parts[0]):
            rows.append((int(parts[0], 16), parts[1:]))
    return rows


def ipmi_sel_rows(text):
    """`ipmi-sel` table lines -> [[fields...]] (the header line is skipped)."""
    rows = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) >= 5 and parts[0].isdigit():
            rows.append(parts)
    return rows


class SelTestCase(DaemonTestCase):
    """A daemon whose config carries [bmc.sel] (capacity/policy class attributes)."""

    capacity = None
    policy = None

    @classmethod
    def make_daemon(cls):
        d = Daemon(config=dict(), label=cls.__name__)
        d.config = sel_config(d.port, d.state_dir, cls.capacity, cls.policy)
        return d

    def sel_daemon(self, capacity=None, policy=None, state_dir=None, start=True):
        d = self.new_daemon(dict(), start=False, state_dir=state_dir)
        d.config = sel_config(d.port, d.state_dir, capacity, policy)
        if start:
            d.start()
        return d

    # -- clients

    def tool(self, *args, d=None, iface="lanplus", user=ADMIN_USER, password=ADMIN_PASSWORD, priv=None, timeout=60):
        d = d or self.daemon
        return run(ipmitool_cmd(d.port, *args, iface=iface, user=user, password=password, priv=priv),
                   timeout=timeout, env=ENV)

    def ipmi_sel(self, *args, d=None, driver="LAN_2_0", timeout=60):
        d = d or self.daemon
        return run(freeipmi_cmd("ipmi-sel", d.port, *args, driver=driver), timeout=timeout, env=ENV)

    def raw(self, *data, d=None, user=ADMIN_USER, password=ADMIN_PASSWORD, priv=None):
        return self.tool("raw", "0x0a", *["0x{:02x}".format(b) for b in data], d=d, user=user, password=password,
                         priv=priv)

    def assertRawCc(self, r, cc):
        self.assertNotEqual(r.rc, 0, r.describe())
        self.assertIn("rsp=0x{:02x}".format(cc), r.err, r.describe())

    def event_file(self, lines):
        fd, path = tempfile.mkstemp(prefix="simbmc-sel-", suffix=".txt")
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.addCleanup(os.remove, path)
        return path

    def add_events(self, lines, d=None):
        return self.assertOk(self.tool("sel", "add", self.event_file(lines), d=d))

    def clear(self, d=None):
        r = self.assertOk(self.tool("sel", "clear", d=d))
        self.assertIn("Clearing SEL", r.out, r.describe())

    def info(self, d=None):
        r = self.assertOk(self.tool("sel", "info", d=d))
        return fields(r.out), r

    def list(self, d=None, *extra):
        r = self.tool("sel", "list", *extra, d=d)
        self.assertOk(r)
        return list_rows(r.out), r

    def batch(self, commands, d=None):
        """Runs ipmitool commands one after the other in one lanplus session (`ipmitool exec`), so they
        take milliseconds, bracketed by `sel time get`: (result, SEL time before, SEL time after)."""
        r = self.assertOk(self.tool("exec", self.event_file(["sel time get"] + commands + ["sel time get"]), d=d))
        times = re.findall(r"^({})\s*$".format(SEL_TIME), r.out, re.M)
        self.assertEqual(len(times), 2, r.describe())
        return r, sel_time(times[0]), sel_time(times[1])


class IpmitoolSel(SelTestCase):
    """ipmitool's sel commands against a SEL with the default capacity (3639 entries, policy stop)."""

    def setUp(self):
        self.clear()

    def test_info_of_a_cleared_sel(self):
        f, r = self.info()
        self.assertEqual(f.get("Version"), "1.5 (v1.5, v2 compliant)", r.describe())
        self.assertEqual(f.get("Entries"), "0", r.describe())
        self.assertEqual(f.get("Free Space"), "{} bytes".format(DEFAULT_CAPACITY * 16), r.describe())
        self.assertEqual(f.get("Percent Used"), "0%", r.describe())
        self.assertEqual(f.get("Overflow"), "false", r.describe())
        self.assertEqual(f.get("Supported Cmds"), "'Delete' 'Partial Add' 'Reserve' 'Get Alloc Info'", r.describe())
        self.assertEqual(f.get("# of Alloc Units"), str(DEFAULT_CAPACITY), r.describe())
        self.assertEqual(f.get("Alloc Unit Size"), "16", r.describe())
        self.assertEqual(f.get("# Free Units"), str(DEFAULT_CAPACITY), r.describe())
        self.assertEqual(f.get("Max Record Size"), "1", r.describe())
        self.assertRegex(f.get("Last Del Time", ""), r"^\d\d/\d\d/\d\d \d\d:\d\d:\d\d UTC$", r.describe())
        r = self.assertOk(self.tool("sel", "list"))
        self.assertIn("SEL has no entries", r.out + r.err, r.describe())

    def test_add_then_list_and_elist(self):
        r = self.add_events([event_line(0xE1, 0x62, 0x5F, comment="upper non-critical going high"),
                             event_line(0xE2, 0xFF, 0xFF, sensor_type=0x08, event_type=0x6F, data1=0x01),
                             event_line(0xE3, 0x40, 0x50, sensor_type=0x01, event_type=0x81, data1=0x57)])
        self.assertEqual(len(list_rows(r.out)), 3, "ipmitool prints each entry it adds\n" + r.describe())
        rows, r = self.list()
        first = rows[0][0] if rows else 0
        self.assertEqual([i for i, _ in rows], [first, first + 1, first + 2], r.describe())
        date, clock, sensor, event, direction = rows[0][1][:5]
        self.assertRegex(date, r"^\d\d/\d\d/\d\d$", r.describe())
        self.assertRegex(clock, r"^\d\d:\d\d:\d\d UTC$", r.describe())  # the BMC stamped it: not Pre-Init
        self.assertEqual(sensor, "Temperature #0xe1", r.describe())
        self.assertEqual(event, "Upper Non-critical going high", r.describe())
        self.assertEqual(direction, "Asserted", r.describe())
        self.assertEqual(rows[1][1][2:5], ["Power Supply #0xe2", "Failure detected", "Asserted"], r.describe())
        self.assertEqual(rows[2][1][2:5], ["Temperature #0xe3", "Upper Non-critical going high", "Deasserted"],
                         r.describe())
        r = self.assertOk(self.tool("sel", "elist"))
        erows = list_rows(r.out)
        self.assertEqual([i for i, _ in erows], [first, first + 1, first + 2], r.describe())
        self.assertEqual(erows[1][1][3:5], ["Failure detected", "Asserted"], r.describe())
        r = self.assertOk(self.tool("sel", "list", "last", "1"))
        self.assertEqual([i for i, _ in list_rows(r.out)], [first + 2], r.describe())
        f, r = self.info()
        self.assertEqual(f.get("Entries"), "3", r.describe())
        self.assertEqual(f.get("Free Space"), "{} bytes".format((DEFAULT_CAPACITY - 3) * 16), r.describe())
        self.assertEqual(f.get("# Free Units"), str(DEFAULT_CAPACITY - 3), r.describe())
        self.assertRegex(f.get("Last Add Time", ""), r"^\d\d/\d\d/\d\d \d\d:\d\d:\d\d UTC$", r.describe())
        # The entries carry the SEL time at which they were logged; Last Add Time never repeats a value
        # (§31.2), so after several adds within one second it may run a few seconds ahead of them.
        entry_time = sel_time(rows[2][1][0] + " " + rows[2][1][1])
        last_add = sel_time(f.get("Last Add Time"))
        self.assertLessEqual(entry_time, last_add, r.describe())
        self.assertLess(last_add - entry_time, datetime.timedelta(seconds=120), r.describe())

    def test_sel_get_shows_the_record(self):
        self.add_events([event_line(0xE4, 0x11, 0x22)])
        rows, _ = self.list()
        r = self.assertOk(self.tool("sel", "get", str(rows[0][0])))
        f = fields(r.out)
        self.assertEqual(f.get("SEL Record ID"), "{:04x}".format(rows[0][0]), r.describe())
        self.assertEqual(f.get("Record Type"), "02", r.describe())
        self.assertEqual(f.get("Generator ID"), "0041", r.describe())
        self.assertEqual(f.get("EvM Revision"), "04", r.describe())
        self.assertEqual(f.get("Sensor Number"), "e4", r.describe())
        self.assertEqual(f.get("Event Data"), "571122", r.describe())

    def test_ids_keep_increasing_across_delete_and_clear(self):
        self.add_events([event_line(0xE5, 1, 0)])
        first = self.list()[0][0][0]
        self.clear()
        self.add_events([event_line(0xE5, 2, 0)])
        rows, r = self.list()
        self.assertEqual(len(rows), 1, r.describe())
        self.assertGreater(rows[0][0], first, "record IDs are not reused after a clear\n" + r.describe())

    def test_delete(self):
        self.add_events([event_line(0xE6, n, 0) for n in range(3)])
        ids = [i for i, _ in self.list()[0]]
        r = self.assertOk(self.tool("sel", "delete", str(ids[1])))
        self.assertIn("Deleted entry {}".format(ids[1]), r.out, r.describe())
        rows, r = self.list()
        self.assertEqual([i for i, _ in rows], [ids[0], ids[2]], r.describe())
        f, r = self.info()
        self.assertEqual(f.get("Entries"), "2", r.describe())
        self.assertRegex(f.get("Last Del Time", ""), r"^\d\d/\d\d/\d\d \d\d:\d\d:\d\d UTC$", r.describe())
        r = self.assertFails(self.tool("sel", "delete", str(ids[1])))
        self.assertIn(CC_TEXT[0xCB], r.err, r.describe())
        # ipmitool deletes several IDs under one reservation, last argument first; a delete cancels the
        # reservation (IPMI v2.0 §31.4), so the second delete is refused and nothing else is touched.
        r = self.assertFails(self.tool("sel", "delete", str(ids[0]), str(ids[2])))
        self.assertIn("Deleted entry {}".format(ids[2]), r.out, r.describe())
        self.assertIn(CC_TEXT[0xC5], r.err, r.describe())
        self.assertEqual([i for i, _ in self.list()[0]], [ids[0]])

    def test_clear(self):
        self.add_events([event_line(0xE7, n, 0) for n in range(4)])
        r = self.assertOk(self.tool("sel", "clear"))
        self.assertEqual(r.out.strip(), "Clearing SEL.  Please allow a few seconds to erase.", r.describe())
        r = self.assertOk(self.tool("sel", "list"))
        self.assertIn("SEL has no entries", r.out + r.err, r.describe())
        f, r = self.info()
        self.assertEqual(f.get("Entries"), "0", r.describe())
        self.assertEqual(f.get("Overflow"), "false", r.describe())

    def test_time_get_and_set(self):
        self.addCleanup(self.tool, "sel", "time", "set", "now")
        r = self.assertOk(self.tool("sel", "time", "get"))
        self.assertRegex(r.out.strip(), r"^\d\d/\d\d/\d\d \d\d:\d\d:\d\d UTC$", r.describe())
        r = self.assertOk(self.tool("sel", "time", "set", "01/02/24 03:04:05"))
        self.assertRegex(r.out.strip(), r"^01/02/24 03:04:0\d UTC$", "set prints the time read back\n" + r.describe())
        r = self.assertOk(self.tool("sel", "time", "get"))
        self.assertRegex(r.out.strip(), r"^01/02/24 03:0\d:\d\d UTC$", r.describe())
        self.add_events([event_line(0xE8, 0, 0)])
        rows, r = self.list()
        self.assertEqual(rows[-1][1][0], "01/02/24", "new entries carry the SEL time\n" + r.describe())
        r = self.assertOk(self.tool("sel", "time", "set", "now"))
        self.assertNotIn("01/02/24", r.out, r.describe())

    def test_lan15(self):
        self.add_events([event_line(0xE9, 0, 0)])
        r = self.assertOk(self.tool("sel", "info", iface="lan"))
        self.assertEqual(fields(r.out).get("Entries"), "1", r.describe())
        r = self.assertOk(self.tool("sel", "list", iface="lan"))
        self.assertEqual(len(list_rows(r.out)), 1, r.describe())
        r = self.assertOk(self.tool("sel", "clear", iface="lan"))
        self.assertIn("Clearing SEL", r.out, r.describe())

    def test_device_id_announces_the_sel_device(self):
        r = self.assertOk(self.tool("mc", "info"))
        support = r.out.split("Additional Device Support :", 1)[-1].split("Aux Firmware", 1)[0]
        self.assertIn("SEL Device", support, r.describe())
        r = self.assertOk(run(freeipmi_cmd("bmc-info", self.daemon.port), timeout=60, env=ENV))
        self.assertEqual(fields(r.out).get("SEL Device"), "supported", r.describe())

    def test_user_privilege_reads_but_cannot_write(self):
        self.add_events([event_line(0xEA, 0, 0)])
        kw = dict(user=READER["name"], password=READER["password"], priv="USER")
        r = self.assertOk(self.tool("sel", "list", **kw))
        self.assertEqual(len(list_rows(r.out)), 1, r.describe())
        self.assertOk(self.tool("sel", "info", **kw))
        r = self.assertFails(self.tool("sel", "clear", **kw))
        self.assertIn(CC_TEXT[0xD4], r.err, r.describe())
        r = self.assertFails(self.tool("sel", "add", self.event_file([event_line(0xEA, 1, 0)]), **kw))
        self.assertIn(CC_TEXT[0xD4], r.err, r.describe())
        self.assertEqual(len(self.list()[0]), 1)


class InfoTimestamps(SelTestCase):
    """`sel info`'s Last Add Time and Last Del Time (Get SEL Info, IPMI v2.0 §31.2) move to a later value on
    every add and every clear, also two within one second: a client that caches the SEL compares them for
    equality, in whole seconds, and two changes in one second used to report the same value. The entries
    keep the SEL time at which they were logged."""

    ATTEMPTS = 3  # a batch that straddles a second boundary proves nothing; try again (bounded)

    def within_one_second(self, commands, key):
        """Runs `commands` (two changes, each followed by `sel info`) in one session until both fall within
        one SEL second; asserts that every `key` time reported, over all attempts, is later than the one
        before it. Returns (result, SEL time) of the attempt that stayed within one second."""
        seen = []
        for _ in range(self.ATTEMPTS):
            r, before, after = self.batch(commands)
            times = info_times(r.out, key)
            self.assertEqual(len(times), 2, r.describe())
            seen += times
            for earlier, later in zip(seen, seen[1:]):
                self.assertLess(earlier, later, "{} went {}\n{}".format(key, [str(t) for t in seen], r.describe()))
            if before == after:
                return r, before
        self.fail("no attempt ran both changes within one second; the test proved nothing")

    def test_two_clears_within_a_second(self):
        self.within_one_second(["sel clear", "sel info", "sel clear", "sel info"], "Last Del Time")

    def test_two_adds_within_a_second(self):
        first = self.event_file([event_line(0xD1, 1, 0)])
        second = self.event_file([event_line(0xD1, 2, 0)])
        self.clear()
        r, now = self.within_one_second(["sel add " + first, "sel info", "sel add " + second, "sel info",
                                         "sel list last 2"], "Last Add Time")
        # The entries' own timestamps (as listed: `sel add` prints what it sent, unstamped) are the SEL
        # time, not the Last Add Time (never faked).
        rows = list_rows(r.out)[-2:]
        self.assertEqual(len(rows), 2, r.describe())
        for _, row in rows:
            self.assertEqual(sel_time(row[0] + " " + row[1]), now, r.describe())


class RawSel(SelTestCase):
    """Raw requests: exact replies, one byte short / long (0xC7), bad fields (0xCC), reservations (0xC5),
    missing records (0xCB)."""

    def setUp(self):
        self.clear()

    def reserve(self):
        r = self.assertOk(self.raw(0x42))
        b = raw_bytes(r.out)
        self.assertEqual(len(b), 2, r.describe())
        return b[0] | b[1] << 8

    def test_add_and_get_entry(self):
        rec = [0x00, 0x00, 0x02, 0, 0, 0, 0, 0x41, 0x00, 0x04, 0x01, 0xEB, 0x01, 0x57, 0xAB, 0xCD]
        r = self.assertOk(self.raw(0x44, *rec))
        b = raw_bytes(r.out)
        self.assertEqual(len(b), 2, r.describe())
        rid = b[0] | b[1] << 8
        r = self.assertOk(self.raw(0x43, 0, 0, rid & 0xFF, rid >> 8, 0, 0xFF))
        b = raw_bytes(r.out)
        self.assertEqual(len(b), 18, r.describe())
        self.assertEqual(b[:2], [0xFF, 0xFF], "the only record is the last\n" + r.describe())
        self.assertEqual(b[2:4], [rid & 0xFF, rid >> 8], r.describe())
        self.assertNotEqual(b[5:9], [0, 0, 0, 0], "the BMC fills the timestamp\n" + r.describe())
        self.assertEqual(b[9:], rec[7:], r.describe())
        # A partial read past offset 0 needs the reservation.
        self.assertRawCc(self.raw(0x43, 0, 0, rid & 0xFF, rid >> 8, 4, 4), 0xC5)
        res = self.reserve()
        r = self.assertOk(self.raw(0x43, res & 0xFF, res >> 8, rid & 0xFF, rid >> 8, 11, 5))
        self.assertEqual(raw_bytes(r.out), [0xFF, 0xFF] + rec[11:16], r.describe())

    def test_lengths(self):
        self.assertRawCc(self.raw(0x40, 0x00), 0xC7)
        self.assertRawCc(self.raw(0x42, 0x00), 0xC7)
        self.assertRawCc(self.raw(0x43, 0, 0, 0, 0, 0), 0xC7)
        self.assertRawCc(self.raw(0x43, 0, 0, 0, 0, 0, 0xFF, 0), 0xC7)
        self.assertRawCc(self.raw(0x44, *([0x02] * 15)), 0xC7)
        self.assertRawCc(self.raw(0x44, *([0x02] * 17)), 0xC7)
        self.assertRawCc(self.raw(0x46, 0, 0, 1), 0xC7)
        self.assertRawCc(self.raw(0x47, 0, 0, 0x43, 0x4C, 0x52), 0xC7)
        self.assertRawCc(self.raw(0x48, 0x00), 0xC7)
        self.assertRawCc(self.raw(0x49, 1, 2, 3), 0xC7)
        self.assertRawCc(self.raw(0x5D, 0), 0xC7)

    def test_bad_fields_and_missing_records(self):
        res = self.reserve()
        self.assertRawCc(self.raw(0x47, res & 0xFF, res >> 8, 0x43, 0x4C, 0x58, 0xAA), 0xCC)  # 'CLX'
        self.assertRawCc(self.raw(0x47, res & 0xFF, res >> 8, 0x43, 0x4C, 0x52, 0x55), 0xCC)  # operation
        self.assertRawCc(self.raw(0x43, 0, 0, 0, 0, 0, 0xFF), 0xCB)  # empty: no first record
        self.assertRawCc(self.raw(0x43, 0, 0, 0x34, 0x12, 0, 0xFF), 0xCB)
        self.assertRawCc(self.raw(0x5D, 0xA1, 0x05), 0xC9)  # UTC offset 1441 minutes
        r = self.raw(0x44, 0, 0, 0x01, *([0] * 13))
        self.assertNotEqual(r.rc, 0, r.describe())
        self.assertIn("rsp=0x80", r.err, "reserved record type\n" + r.describe())

    def test_clear_with_a_stale_reservation(self):
        old = self.reserve()
        self.reserve()
        self.assertRawCc(self.raw(0x47, old & 0xFF, old >> 8, 0x43, 0x4C, 0x52, 0xAA), 0xC5)
        res = self.reserve()
        r = self.assertOk(self.raw(0x47, res & 0xFF, res >> 8, 0x43, 0x4C, 0x52, 0xAA))
        self.assertEqual(raw_bytes(r.out), [0x01], "erase completed at once\n" + r.describe())

    def test_utc_offset(self):
        self.addCleanup(self.raw, 0x5D, 0xFF, 0x07)
        r = self.assertOk(self.raw(0x5C))
        self.assertEqual(raw_bytes(r.out), [0xFF, 0x07], "unspecified until set\n" + r.describe())
        self.assertOk(self.raw(0x5D, 0xC4, 0xFF))  # -60
        self.assertEqual(raw_bytes(self.assertOk(self.raw(0x5C)).out), [0xC4, 0xFF])


class FreeIpmiSel(SelTestCase):
    """FreeIPMI's ipmi-sel over IPMI 2.0 and 1.5, with no workaround flags."""

    def setUp(self):
        self.clear()

    def check_listing(self, driver):
        self.add_events([event_line(0x30, 0x62, 0x5F),
                         event_line(0x31, 0xFF, 0xFF, sensor_type=0x08, event_type=0x6F, data1=0x01)])
        r = self.assertOk(self.ipmi_sel("--ignore-sdr-cache", driver=driver))
        rows = ipmi_sel_rows(r.out)
        self.assertEqual(len(rows), 2, r.describe())
        self.assertRegex(rows[0][1], r"^[A-Z][a-z]{2}-\d\d-\d{4}$", r.describe())
        self.assertRegex(rows[0][2], r"^\d\d:\d\d:\d\d$", r.describe())
        self.assertEqual(rows[0][3:5], ["Sensor #48", "Temperature"], r.describe())
        self.assertTrue(rows[0][5].startswith("Upper Non-critical - going high"), r.describe())
        self.assertEqual(rows[1][3:6], ["Sensor #49", "Power Supply", "Power Supply Failure detected"], r.describe())
        self.assertEqual(r.err.strip(), "", r.describe())
        # The IDs ipmi-sel shows are the ones ipmitool shows.
        self.assertEqual([int(row[0]) for row in rows], [i for i, _ in self.list()[0]])

    def test_list_lan20(self):
        self.check_listing("LAN_2_0")

    def test_list_lan15(self):
        self.check_listing("LAN")

    def test_info(self):
        self.add_events([event_line(0x32, 0, 0)])
        r = self.assertOk(self.ipmi_sel("--info"))
        f = fields(r.out)
        self.assertEqual(f.get("SEL version"), "1.5", r.describe())
        self.assertEqual(f.get("Number of log entries"), "1", r.describe())
        self.assertEqual(f.get("Free space remaining"), "{} bytes".format((DEFAULT_CAPACITY - 1) * 16), r.describe())
        self.assertEqual(f.get("Events dropped due to lack of space"), "No", r.describe())
        self.assertEqual(f.get("Delete SEL Command"), "supported", r.describe())
        self.assertEqual(f.get("Reserve SEL Command"), "supported", r.describe())
        self.assertEqual(f.get("Number of possible allocation units"), str(DEFAULT_CAPACITY), r.describe())

    def test_clear(self):
        self.add_events([event_line(0x33, n, 0) for n in range(3)])
        self.assertOk(self.ipmi_sel("--clear"))
        r = self.assertOk(self.ipmi_sel("--ignore-sdr-cache"))
        self.assertEqual(ipmi_sel_rows(r.out), [], r.describe())
        f, r = self.info()
        self.assertEqual(f.get("Entries"), "0", r.describe())

    def test_delete(self):
        self.add_events([event_line(0x34, n, 0) for n in range(3)])
        ids = [i for i, _ in self.list()[0]]
        self.assertOk(self.ipmi_sel("--delete={}".format(ids[1]), driver="LAN"))
        self.assertEqual([i for i, _ in self.list()[0]], [ids[0], ids[2]])

    def test_with_the_sdr_cache(self):
        r = self.raw(0x20)  # Get SDR Repository Info: needs the SDR repository device
        if r.rc != 0:
            self.skipTest("no SDR repository in this build (Get SDR Repository Info: {})".format(r.err.strip()))
        cache = tempfile.mkdtemp(prefix="simbmc-sdr-cache-")
        self.addCleanup(shutil.rmtree, cache, True)
        self.add_events([event_line(0x35, 0, 0)])
        r = self.assertOk(self.ipmi_sel("--sdr-cache-directory", cache))
        self.assertEqual(len(ipmi_sel_rows(r.out)), 1, r.describe())


class CapacityStop(SelTestCase):
    """[bmc.sel] capacity = 16, policy = "stop": the 17th add is refused and the overflow flag is set."""

    capacity = 16
    policy = "stop"

    def test_full_sel_refuses_and_flags_overflow(self):
        self.clear()
        r = self.tool("sel", "add", self.event_file([event_line(0x40, n, 0) for n in range(20)]))
        self.assertNotEqual(r.rc, 0, r.describe())
        self.assertIn("Add SEL Entry failed: " + CC_TEXT[0xC4], r.err, r.describe())
        self.assertEqual(len(list_rows(r.out)), 17, "16 added, the 17th refused, the rest not tried\n" + r.describe())
        f, r = self.info()
        self.assertEqual(f.get("Entries"), "16", r.describe())
        self.assertEqual(f.get("Free Space"), "0 bytes", r.describe())
        self.assertEqual(f.get("Percent Used"), "100%", r.describe())
        self.assertEqual(f.get("Overflow"), "true", r.describe())
        r = self.assertOk(self.ipmi_sel("--info"))
        self.assertEqual(fields(r.out).get("Events dropped due to lack of space"), "Yes", r.describe())
        self.clear()
        f, r = self.info()
        self.assertEqual(f.get("Overflow"), "false", r.describe())


class CapacityCircular(SelTestCase):
    """[bmc.sel] policy = "circular": the oldest entries make room, IDs stay unique."""

    capacity = 16
    policy = "circular"

    def test_circular_sel_keeps_the_newest(self):
        self.clear()
        self.add_events([event_line(0x41, n, 0) for n in range(20)])
        rows, r = self.list()
        self.assertEqual(len(rows), 16, r.describe())
        ids = [i for i, _ in rows]
        self.assertEqual(len(set(ids)), 16, r.describe())
        self.assertEqual(ids, sorted(ids), r.describe())
        self.assertEqual(ids[-1] - ids[0], 15, "the 4 oldest were dropped\n" + r.describe())
        f, r = self.info()
        self.assertEqual(f.get("Entries"), "16", r.describe())
        self.assertEqual(f.get("Overflow"), "false", r.describe())


class Persistence(SelTestCase):
    """Entries, IDs and the SEL time survive SIGTERM; a corrupt sel.db stops the daemon at start-up."""

    class_daemon = False

    def test_info_of_a_new_sel(self):
        d = self.sel_daemon()
        f, r = self.info(d)
        self.assertEqual(f.get("Entries"), "0", r.describe())
        self.assertEqual(f.get("Last Add Time"), "Not Available", r.describe())
        self.assertEqual(f.get("Last Del Time"), "Not Available", r.describe())
        self.assertEqual(f.get("Overflow"), "false", r.describe())

    def test_restart_keeps_entries_and_ids(self):
        d = self.sel_daemon()
        self.add_events([event_line(0x50, n, 0) for n in range(3)], d=d)
        before, _ = self.list(d)
        self.assertEqual(d.restart(signal.SIGTERM), 0)
        after, r = self.list(d)
        self.assertEqual(after, before, r.describe())
        self.add_events([event_line(0x50, 9, 0)], d=d)
        rows, r = self.list(d)
        self.assertEqual(rows[-1][0], before[-1][0] + 1, r.describe())

    def test_restart_keeps_the_info_timestamps_moving(self):
        # Five clears within a second or so put Last Del Time a few seconds ahead of the clock; after a
        # restart the next clear must still report a later one, not the clock's.
        d = self.sel_daemon()
        r, _, _ = self.batch(["sel clear"] * 5 + ["sel info"], d=d)
        last = info_times(r.out, "Last Del Time")
        self.assertEqual(len(last), 1, r.describe())
        self.assertEqual(d.restart(signal.SIGTERM), 0)
        f, r = self.info(d)
        self.assertEqual(sel_time(f.get("Last Del Time", "")), last[0], r.describe())
        self.clear(d)
        f, r = self.info(d)
        self.assertGreater(sel_time(f.get("Last Del Time", "")), last[0], r.describe())

    def test_corrupt_sel_db_refuses_to_start(self):
        state = tempfile.mkdtemp(prefix="simbmc-sel-state-")
        self.addCleanup(shutil.rmtree, state, True)
        d = self.sel_daemon(state_dir=state)
        self.add_events([event_line(0x51, n, 0) for n in range(3)], d=d)
        self.assertEqual(d.stop(), 0)
        path = os.path.join(state, "sel.db")
        garbage = bytes((i * 131 + 7) & 0xFF for i in range(8192))
        with open(path, "r+b") as f:
            f.write(garbage)
        for name in os.listdir(state):
            if name.startswith("sel.db-"):
                os.remove(os.path.join(state, name))
        d.start(wait=False)
        try:
            d.proc.wait(timeout=20)
        except Exception:
            pass
        self.assertIsNotNone(d.proc.poll(), "simbmcd must not serve a corrupt SEL\n" + d.log())
        self.assertEqual(d.proc.returncode, 1, d.log())
        self.assertIn(path, d.log())
        self.assertRegex(d.log(), r"(?i)corrupt")
        self.assertIn("move it aside", d.log())
        with open(path, "rb") as f:
            self.assertEqual(f.read(len(garbage)), garbage, "the damaged file is left as it was")
        # Moved aside, the daemon starts with an empty SEL.
        os.rename(path, path + ".bad")
        d.start()
        f, r = self.info(d)
        self.assertEqual(f.get("Entries"), "0", r.describe())

    def test_damaged_record_refuses_to_start(self):
        state = tempfile.mkdtemp(prefix="simbmc-sel-state-")
        self.addCleanup(shutil.rmtree, state, True)
        d = self.sel_daemon(state_dir=state)
        self.add_events([event_line(0x52, 0xA0 + n, 0x5A) for n in range(5)], d=d)
        self.assertEqual(d.stop(), 0)
        path = os.path.join(state, "sel.db")
        with open(path, "rb") as f:
            data = bytearray(f.read())
        needle = bytes([0x04, 0x01, 0x52, 0x01, 0x57, 0xA2, 0x5A])  # the third record's event bytes
        at = data.find(needle)
        self.assertGreater(at, 0, "record not found in the checkpointed file")
        data[at + 5] ^= 0x01  # one bit of event data 2: SQLite's own checks cannot see this
        with open(path, "wb") as f:
            f.write(data)
        d.start(wait=False)
        try:
            d.proc.wait(timeout=20)
        except Exception:
            pass
        self.assertEqual(d.proc.poll(), 1, "a damaged record must not be served\n" + d.log())
        self.assertIn(path, d.log())
        self.assertIn("damaged", d.log())


class KillDuringAdds(SelTestCase):
    """kill -9 at seeded random moments while 4 ipmitool clients add entries: every entry whose add was
    acknowledged is present exactly once after the restarts, no entry appears twice, and Get SEL Info's
    count equals the number of entries iterating Get SEL Entry returns."""

    class_daemon = False
    WORKERS = 4
    LINES = 20          # entries per `ipmitool sel add` call: most of a call's time is spent adding
    MAX_BATCHES = 60    # per worker
    KILLS = 4
    SEED = 20261124

    def worker(self, d, w, acked, stats, stop, deadline):
        for batch in range(self.MAX_BATCHES):
            if stop.is_set() or time.monotonic() > deadline:
                return
            tags = [(0x60 + w, batch, line) for line in range(self.LINES)]
            path = self.event_file([event_line(s, b, l) for s, b, l in tags])
            r = run(ipmitool_cmd(d.port, "-N", "1", "-R", "2", "sel", "add", path), timeout=60, env=ENV)
            printed = len(list_rows(r.out))  # ipmitool prints each entry just before sending it
            if r.rc == 0 and printed == self.LINES:
                done = self.LINES
            else:
                done = max(0, printed - 1)  # the last one printed failed or is unknown
            acked.extend(tags[:done])
            stats["calls"] += 1
            stats["interrupted"] += 1 if 0 < printed and done < self.LINES else 0
            if r.rc != 0:
                time.sleep(0.2)  # the daemon is down or restarting

    def walk(self, port):
        """Get SEL Info's entry count and every record, following the next-record chain."""
        with RmcpClient(port, timeout=2.0) as c:
            self.assertEqual(c.open_session(), 0)
            cc, info = c.command(0x0A, 0x40)
            self.assertEqual(cc, 0)
            entries = info[1] | info[2] << 8
            records, rid = [], 0
            for _ in range(entries + 10):
                cc, data = c.command(0x0A, 0x43, struct.pack("<HHBB", 0, rid, 0, 0xFF))
                if cc == 0xCB and rid == 0:
                    break
                self.assertEqual(cc, 0, "Get SEL Entry {:#06x}".format(rid))
                self.assertEqual(len(data), 18)
                records.append(bytes(data[2:]))
                rid = data[0] | data[1] << 8
                if rid == 0xFFFF:
                    break
            c.close_session()
        return entries, records

    def test_kill9_loses_no_acknowledged_entry(self):
        rng = random.Random(self.SEED)
        state = tempfile.mkdtemp(prefix="simbmc-sel-state-")
        self.addCleanup(shutil.rmtree, state, True)
        d = self.sel_daemon(capacity=65534, state_dir=state)
        acked, stop = [], threading.Event()
        stats = collections.Counter()
        deadline = time.monotonic() + 120
        threads = [threading.Thread(target=self.worker, args=(d, w, acked, stats, stop, deadline), daemon=True)
                   for w in range(self.WORKERS)]
        for t in threads:
            t.start()
        kills = 0
        try:
            for _ in range(self.KILLS):
                time.sleep(rng.uniform(0.5, 2.5))
                d.kill9()
                kills += 1
                time.sleep(rng.uniform(0.0, 0.3))
                d.start()
            time.sleep(rng.uniform(0.5, 1.5))
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=150)
        self.assertFalse(any(t.is_alive() for t in threads), "a client worker did not finish")
        d.kill9()  # and once more with everything quiet
        d.start()

        entries, records = self.walk(d.port)
        self.assertEqual(entries, len(records), "Get SEL Info disagrees with iterating Get SEL Entry")
        ids = [r[0] | r[1] << 8 for r in records]
        self.assertEqual(len(set(ids)), len(ids), "duplicate record IDs")
        self.assertTrue(all(0 < i < 0xFFFF for i in ids), ids)
        tags = collections.Counter((r[11], r[14], r[15]) for r in records)
        duplicates = [t for t, n in tags.items() if n > 1]
        self.assertEqual(duplicates, [], "entries stored twice")
        missing = [t for t in acked if t not in tags]
        self.assertEqual(missing, [], "acknowledged entries lost ({} acknowledged, {} kills)".format(len(acked),
                                                                                                  kills))
        unknown = [t for t in tags if not (0x60 <= t[0] < 0x60 + self.WORKERS)]
        self.assertEqual(unknown, [], "phantom entries")
        self.assertGreater(len(acked), 0, "no add was acknowledged: the test proved nothing")
        # ipmitool agrees with the raw walk.
        r = self.assertOk(self.tool("sel", "info", d=d))
        self.assertEqual(fields(r.out).get("Entries"), str(entries), r.describe())
        print("\n[test_sel] kill -9 x{}: {} ipmitool calls, {} cut short by a kill; {} entries acknowledged, "
              "{} stored".format(kills + 1, stats["calls"], stats["interrupted"], len(acked), len(records)))


if __name__ == "__main__":
    main()
