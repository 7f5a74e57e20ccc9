#!/usr/bin/python3
"""FRU inventory with real clients: ipmitool (fru print / read / write / edit, lanplus and lan) and
FreeIPMI ipmi-fru (LAN_2_0, no -W workaround), against FRU devices built from config values and a raw
FRU image file.

The expected images are assembled here, independently of simbmcd's builder, from the FRU Information
Storage Definition v1.0 rev 1.3 (common header §8, areas §10-§12, type/length §13, multirecords §16).
Clients run with TZ=UTC so the board manufacturing date prints the same everywhere.
"""

import os
import re
import shutil
import tempfile

from harness import Daemon, DaemonTestCase, HOST, freeipmi_cmd, ipmitool_cmd, main, make_config, run

CLIENT_ENV = dict(os.environ, TZ="UTC", LC_ALL="C")

# ---------------------------------------------------------------------------------------------------
# An FRU encoder for the expected bytes (8-bit ASCII fields only, one-character fields as 6-bit ASCII).


def checksum(data):
    return (-sum(data)) & 0xFF


def field(text):
    b = text.encode("latin-1")
    if len(b) == 1:
        return bytes([0x81, b[0] - 0x20])
    return bytes([0xC0 | len(b)]) + b


def info_area(prefix, fields, custom=()):
    body = bytearray([0x01, 0x00]) + bytes(prefix)
    for f in list(fields) + list(custom):
        body += field(f)
    body.append(0xC1)
    while (len(body) + 1) % 8:
        body.append(0)
    body[1] = (len(body) + 1) // 8
    return bytes(body) + bytes([checksum(body)])


def record(rtype, data, last):
    head = bytes([rtype, (0x80 if last else 0) | 0x02, len(data), checksum(data)])
    return head + bytes([checksum(head)]) + bytes(data)


def image(chassis=None, board=None, product=None, records=()):
    areas = [chassis, board, product]
    header = bytearray([0x01, 0, 0, 0, 0, 0, 0])
    out = bytearray(8)
    for i, area in enumerate(areas):
        if area:
            header[2 + i] = len(out) // 8
            out += area
    if records:
        header[5] = len(out) // 8
        for i, (rtype, data) in enumerate(records):
            out += record(rtype, data, i == len(records) - 1)
    out[0:8] = bytes(header) + bytes([checksum(header)])
    return bytes(out)


MFG_MINUTES = 14747520  # 2024-01-15 08:00 UTC, minutes since 1996-01-01 00:00 UTC

# Power supply record (§18.1): 800 W, peak 900 VA, 30 A for 5 ms, 90-264 V, 47-63 Hz, 20 ms,
# PFC + autoswitch + hot swap, peak 1000 W for 1 s.
PSU_RECORD = bytes([0x20, 0x03, 0x84, 0x03, 0x1E, 0x05, 0x28, 0x23, 0x20, 0x67, 0, 0, 0, 0, 0x2F, 0x3F, 0x14,
                    0x0E, 0xE8, 0x13, 0x00, 0x00, 0x00, 0x00])

FRU0_IMAGE = image(
    chassis=info_area([0x17], ["CH-1000-A", "CSN-0001"], ["Chassis Extra One"]),
    board=info_area([0x00, MFG_MINUTES & 0xFF, (MFG_MINUTES >> 8) & 0xFF, MFG_MINUTES >> 16],
                    ["simbmc", "SB-1000 Mainboard", "BSN-0002", "MB-1000", "board.fru"], ["Board Extra One"]),
    product=info_area([0x00], ["simbmc", "SB-1000 Demo Server", "SB-1000", "A", "PSN-0003", "ASSET-0004",
                               "product.fru"], ["Product Extra One", "Product Extra Two"]),
    records=[(0x00, PSU_RECORD), (0x03, b"\x02" + b"demo-server-01"), (0xC0, bytes([0x39, 0x30, 0x00, 0xAB]))])

FRU5_IMAGE = image(
    board=info_area([0x00, 0, 0, 0], ["simbmc", "PSU Board", "PSU-SN-55", "PSU-PN-5", ""]),
    product=info_area([0x00], ["simbmc", "Power Supply 800W", "PS-800", "2.1", "PSN-5555", "", ""]))
FRU5_SIZE = 512

FRU_TOML = """
[[bmc.fru]]
id = 0
name = "Demo Server"

[bmc.fru.chassis]
type = "rack_mount"
part_number = "CH-1000-A"
serial = "CSN-0001"
custom = ["Chassis Extra One"]

[bmc.fru.board]
manufacturer = "simbmc"
product = "SB-1000 Mainboard"
serial = "BSN-0002"
part_number = "MB-1000"
mfg_date = "2024-01-15T08:00:00Z"
file_id = "board.fru"
custom = ["Board Extra One"]

[bmc.fru.product]
manufacturer = "simbmc"
name = "SB-1000 Demo Server"
part_number = "SB-1000"
version = "A"
serial = "PSN-0003"
asset_tag = "ASSET-0004"
file_id = "product.fru"
custom = ["Product Extra One", "Product Extra Two"]

[[bmc.fru.multirecord]]
type = "power_supply"
capacity = 800
peak_va = 900
inrush_current = 30
inrush_interval = 5
input_voltage_1 = [90, 264]
input_frequency = [47, 63]
dropout_tolerance = 20
power_factor_correction = true
autoswitch = true
hot_swap = true
peak_capacity = 1000
hold_up_time = 1

[[bmc.fru.multirecord]]
type = "management_access"
kind = "system_name"
value = "demo-server-01"

[[bmc.fru.multirecord]]
type = "oem"
manufacturer_id = 12345
data = [0xAB]

[[bmc.fru]]
id = 5
name = "PSU 1"
size = 512

[bmc.fru.board]
manufacturer = "simbmc"
product = "PSU Board"
serial = "PSU-SN-55"
part_number = "PSU-PN-5"

[bmc.fru.product]
manufacturer = "simbmc"
name = "Power Supply 800W"
part_number = "PS-800"
version = "2.1"
serial = "PSN-5555"

[[bmc.fru]]
id = 9
name = "Raw Image"
image = "raw-fru.bin"

[[bmc.fru]]
id = 10
name = "Broken Image"
image = "broken-fru.bin"
"""

# The raw image device: a product area only, written by hand (not by the encoder above).
RAW_PRODUCT = bytes([0x01, 0x04, 0x00, 0xC3]) + b"ACM" + bytes([0xC6]) + b"Widget" + bytes([0xC2]) + b"W1" \
    + bytes([0xC2]) + b"V2" + bytes([0xC4]) + b"RSN1" + bytes([0xC0, 0xC0, 0xC1])
RAW_PRODUCT += bytes(31 - len(RAW_PRODUCT))
RAW_PRODUCT += bytes([checksum(RAW_PRODUCT)])
RAW_IMAGE = bytes([0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0xFE]) + RAW_PRODUCT
# The same with the product area checksum wrong: served as is, with a warning at start-up.
BROKEN_IMAGE = RAW_IMAGE[:-1] + bytes([(RAW_IMAGE[-1] + 1) & 0xFF])


def parse_ipmitool_fru(text):
    """'Key : value' lines of ipmitool fru print -> list of (key, value), in order (keys repeat)."""
    out = []
    for line in text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out.append((k.strip(), v.strip()))
    return out


class FruTestBase(DaemonTestCase):

    @classmethod
    def make_daemon(cls):
        d = Daemon(config="", label=cls.__name__)
        with open(os.path.join(d.workdir, "raw-fru.bin"), "wb") as f:
            f.write(RAW_IMAGE)
        with open(os.path.join(d.workdir, "broken-fru.bin"), "wb") as f:
            f.write(BROKEN_IMAGE)
        d.config = make_config(d.port, d.state_dir) + FRU_TOML
        return d

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="simbmc-fru-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def ipmitool(self, *args, **kw):
        return run(ipmitool_cmd(self.daemon.port, *args, **kw), timeout=120, env=CLIENT_ENV)

    def ipmi_fru(self, *args, driver="LAN_2_0"):
        cache = os.path.join(self.tmp, "sdr-cache")
        os.makedirs(cache, exist_ok=True)
        return run(freeipmi_cmd("ipmi-fru", self.daemon.port, "--quiet-cache", "--sdr-cache-directory", cache, *args,
                                driver=driver),
                   timeout=120, env=CLIENT_ENV)

    def read_device(self, fru_id, iface="lanplus"):
        path = os.path.join(self.tmp, "read-{}-{}.bin".format(fru_id, iface))
        r = self.assertOk(self.ipmitool("fru", "read", fru_id, path, iface=iface))
        self.assertIn("Done", r.out, r.describe())
        with open(path, "rb") as f:
            return f.read()


class IpmitoolFru(FruTestBase):

    def test_fru_print_shows_every_field(self):
        r = self.ipmitool("fru", "print", 0)
        self.assertOk(r)
        got = parse_ipmitool_fru(r.out)
        expected = [  # "fru print N" prints the areas only; "fru print" adds a description line per device
            ("Chassis Type", "Rack Mount Chassis"),
            ("Chassis Part Number", "CH-1000-A"),
            ("Chassis Serial", "CSN-0001"),
            ("Chassis Extra", "Chassis Extra One"),
            ("Board Mfg Date", "Mon Jan 15 08:00:00 2024 UTC"),
            ("Board Mfg", "simbmc"),
            ("Board Product", "SB-1000 Mainboard"),
            ("Board Serial", "BSN-0002"),
            ("Board Part Number", "MB-1000"),
            ("Board Extra", "Board Extra One"),
            ("Product Manufacturer", "simbmc"),
            ("Product Name", "SB-1000 Demo Server"),
            ("Product Part Number", "SB-1000"),
            ("Product Version", "A"),
            ("Product Serial", "PSN-0003"),
            ("Product Asset Tag", "ASSET-0004"),
            ("Product Extra", "Product Extra One"),
            ("Product Extra", "Product Extra Two"),
        ]
        self.assertEqual(got, expected, r.describe())
        self.assertEqual(r.err.strip(), "", r.describe())

    def test_fru_print_all_devices(self):
        # Without an id ipmitool prints device 0, then every other device named by an SDR FRU locator.
        r = self.assertOk(self.ipmitool("fru", "print"))
        self.assertIn("FRU Device Description : Builtin FRU Device (ID 0)", r.out, r.describe())
        self.assertIn(" Product Serial        : PSN-0003", r.out, r.describe())
        self.assertIn(" Board Mfg Date        : Mon Jan 15 08:00:00 2024 UTC", r.out, r.describe())
        self.assertIn("FRU Device Description : PSU 1 (ID 5)", r.out, r.describe())
        self.assertIn(" Product Serial        : PSN-5555", r.out, r.describe())
        self.assertIn("FRU Device Description : Raw Image (ID 9)", r.out, r.describe())
        self.assertIn(" Product Name          : Widget", r.out, r.describe())
        self.assertIn("FRU Device Description : Broken Image (ID 10)", r.out, r.describe())
        self.assertEqual(r.out.count("FRU Device Description"), 4, r.describe())

    def test_fru_print_verbose_shows_the_power_supply_record_and_file_ids(self):
        r = self.assertOk(self.ipmitool("-v", "fru", "print", 0))
        f = dict(parse_ipmitool_fru(r.out))
        self.assertEqual(f.get("Board FRU ID"), "board.fru", r.describe())
        self.assertEqual(f.get("Product FRU ID"), "product.fru", r.describe())
        self.assertIn(" Power Supply Record", r.out, r.describe())
        self.assertEqual(f.get("Capacity"), "800 W", r.describe())
        self.assertEqual(f.get("Peak VA"), "900 VA", r.describe())
        self.assertEqual(f.get("Inrush Current"), "30 A", r.describe())
        self.assertEqual(f.get("Input Voltage Range 1"), "90-264 V", r.describe())
        self.assertEqual(f.get("Input Frequency Range"), "47-63 Hz", r.describe())
        self.assertEqual(f.get("Peak capacity"), "1000 W", r.describe())
        self.assertIn("'Power factor correction' 'Autoswitch voltage' 'Hot swap'", f.get("Flags", ""), r.describe())
        self.assertIn("OEM (", r.out, r.describe())

    def test_fru_print_second_device(self):
        r = self.assertOk(self.ipmitool("fru", "print", 5))
        f = parse_ipmitool_fru(r.out)
        self.assertIn(("Board Mfg Date", "Unspecified"), f, r.describe())
        self.assertIn(("Board Product", "PSU Board"), f, r.describe())
        self.assertIn(("Board Serial", "PSU-SN-55"), f, r.describe())
        self.assertIn(("Product Name", "Power Supply 800W"), f, r.describe())
        self.assertIn(("Product Version", "2.1"), f, r.describe())
        self.assertIn(("Product Serial", "PSN-5555"), f, r.describe())
        self.assertNotIn("Chassis Type", r.out, "device 5 has no chassis area\n" + r.describe())

    def test_fru_print_unknown_device(self):
        r = self.ipmitool("fru", "print", 3)
        self.assertIn("Device not present", r.out + r.err, r.describe())

    def test_fru_read_equals_the_built_image(self):
        self.assertEqual(self.read_device(0).hex(), FRU0_IMAGE.hex())
        data5 = self.read_device(5)
        self.assertEqual(len(data5), FRU5_SIZE)
        self.assertEqual(data5.hex(), (FRU5_IMAGE + bytes(FRU5_SIZE - len(FRU5_IMAGE))).hex())

    def test_fru_read_over_ipmi15(self):
        self.assertEqual(self.read_device(0, iface="lan").hex(), FRU0_IMAGE.hex())

    def test_raw_image_device_is_served_as_is(self):
        self.assertEqual(self.read_device(9).hex(), RAW_IMAGE.hex())
        self.assertEqual(self.read_device(10).hex(), BROKEN_IMAGE.hex())
        r = self.assertOk(self.ipmitool("fru", "print", 9))
        f = parse_ipmitool_fru(r.out)
        self.assertIn(("Product Manufacturer", "ACM"), f, r.describe())
        self.assertIn(("Product Name", "Widget"), f, r.describe())
        self.assertIn(("Product Serial", "RSN1"), f, r.describe())
        log = self.daemon.log()
        self.assertRegex(log, r"warn fru id=10 image=\S*broken-fru\.bin problem=\"product info area: checksum",
                         "a start-up warning names the broken image")
        self.assertNotRegex(log, r"fru id=9 .*problem=", "the good raw image is not reported")


class IpmitoolFruWrite(FruTestBase):
    """Writes change state: a daemon per class, tests in a fixed order within one test."""

    def test_write_edit_and_restart(self):
        original = self.read_device(0)
        self.assertEqual(original, FRU0_IMAGE)

        # A modified image: product serial PSN-0003 -> PSN-9999, product area checksum fixed.
        prod = original[3] * 8
        length = original[prod + 1] * 8
        modified = bytearray(original)
        at = modified.find(b"PSN-0003", prod)
        self.assertGreater(at, 0)
        modified[at:at + 8] = b"PSN-9999"
        modified[prod + length - 1] = checksum(modified[prod:prod + length - 1])
        path = os.path.join(self.tmp, "modified.bin")
        with open(path, "wb") as f:
            f.write(modified)
        r = self.ipmitool("fru", "write", 0, path)
        self.assertIn("Size to Write    : {} bytes".format(len(modified)), r.out, r.describe())
        self.assertEqual(self.read_device(0).hex(), bytes(modified).hex(), r.describe())
        r = self.assertOk(self.ipmitool("fru", "print", 0))
        self.assertIn(("Product Serial", "PSN-9999"), parse_ipmitool_fru(r.out), r.describe())

        # fru edit of a field with a value of the same length (rewrites the product area).
        r = self.ipmitool("fru", "edit", 0, "field", "p", 5, "ASSET-7777")
        self.assertIn("Updating Field 'ASSET-0004' with 'ASSET-7777'", r.out, r.describe())
        r = self.assertOk(self.ipmitool("fru", "print", 0))
        f = parse_ipmitool_fru(r.out)
        self.assertIn(("Product Asset Tag", "ASSET-7777"), f, r.describe())
        self.assertIn(("Product Serial", "PSN-9999"), f, r.describe())
        edited = self.read_device(0)

        # Both survive a restart; the raw image file on disk is untouched by writes to its device.
        raw_path = os.path.join(self.daemon.workdir, "raw-fru.bin")
        raw_mod = bytearray(RAW_IMAGE)
        raw_mod[RAW_IMAGE.find(b"RSN1"):RAW_IMAGE.find(b"RSN1") + 4] = b"RSN9"
        raw_mod[-1] = checksum(raw_mod[8:-1])
        path9 = os.path.join(self.tmp, "raw-mod.bin")
        with open(path9, "wb") as f:
            f.write(raw_mod)
        self.ipmitool("fru", "write", 9, path9)
        self.assertEqual(self.read_device(9), bytes(raw_mod))

        self.daemon.restart()
        self.assertEqual(self.read_device(0).hex(), edited.hex())
        r = self.assertOk(self.ipmitool("fru", "print", 0))
        f = parse_ipmitool_fru(r.out)
        self.assertIn(("Product Serial", "PSN-9999"), f, r.describe())
        self.assertIn(("Product Asset Tag", "ASSET-7777"), f, r.describe())
        self.assertEqual(self.read_device(9), bytes(raw_mod))
        with open(raw_path, "rb") as fh:
            self.assertEqual(fh.read(), RAW_IMAGE, "the configured image file is never written")

    def test_edit_that_resizes_the_area(self):
        # A longer value: ipmitool rebuilds the product area (and moves what follows) with Write FRU Data.
        r = self.ipmitool("fru", "edit", 5, "field", "p", 4, "PSN-55556666")
        self.assertIn("resizing fru to fit new string", r.out, r.describe())
        r = self.assertOk(self.ipmitool("fru", "print", 5))
        f = parse_ipmitool_fru(r.out)
        self.assertIn(("Product Serial", "PSN-55556666"), f, r.describe())
        self.assertIn(("Product Version", "2.1"), f, r.describe())
        path = os.path.join(self.tmp, "dev5.bin")
        with open(path, "wb") as fh:
            fh.write(self.read_device(5))
        r = run([freeipmi_cmd("ipmi-fru", 0)[0], "--fru-file", path], timeout=60, env=CLIENT_ENV)
        self.assertOk(r)
        self.assertIn("FRU Product Serial Number: PSN-55556666", r.out, r.describe())
        self.assertNotIn("Error", r.out, "the rebuilt image is well formed\n" + r.describe())

    def test_write_needs_operator(self):
        # The harness admin runs at administrator; a user-level session may read, not write.
        r = self.ipmitool("-L", "USER", "fru", "print", 5)
        self.assertOk(r)
        self.assertIn("Power Supply 800W", r.out, r.describe())
        before = self.read_device(5)  # other tests of this class may have edited device 5
        changed = before.replace(b"Power Supply 800W", b"Power Supply 900W")
        self.assertNotEqual(changed, before)
        path = os.path.join(self.tmp, "changed.bin")
        with open(path, "wb") as f:
            f.write(changed)
        r = self.ipmitool("-L", "USER", "fru", "write", 5, path)
        self.assertEqual(self.read_device(5), before, "Write FRU Data needs operator\n" + r.describe())
        r = self.ipmitool("-L", "OPERATOR", "fru", "write", 5, path)
        self.assertEqual(self.read_device(5), changed, r.describe())


class FreeIpmiFru(FruTestBase):

    EXPECTED = [
        "FRU Chassis Type: Rack Mount Chassis",
        "FRU Chassis Part Number: CH-1000-A",
        "FRU Chassis Serial Number: CSN-0001",
        "FRU Chassis Custom Info: Chassis Extra One",
        "FRU Board Manufacturing Date/Time: 01/15/24 - 08:00:00",
        "FRU Board Manufacturer: simbmc",
        "FRU Board Product Name: SB-1000 Mainboard",
        "FRU Board Serial Number: BSN-0002",
        "FRU Board Part Number: MB-1000",
        "FRU FRU File ID: board.fru",
        "FRU Board Custom Info: Board Extra One",
        "FRU Product Manufacturer Name: simbmc",
        "FRU Product Name: SB-1000 Demo Server",
        "FRU Product Part/Model Number: SB-1000",
        "FRU Product Version: A",
        "FRU Product Serial Number: PSN-0003",
        "FRU Product Asset Tag: ASSET-0004",
        "FRU FRU File ID: product.fru",
        "FRU Product Custom Info: Product Extra One",
        "FRU Product Custom Info: Product Extra Two",
        "FRU Power Supply Overall Capacity: 800 Watts",
        "FRU Power Supply Peak VA: 900 VA",
        "FRU Power Supply Max Inrush Current: 30 Amps",
        "FRU Power Supply Inrush Interval: 5 ms",
        "FRU Power Supply Low End Input Voltage 1: 90000 mV",
        "FRU Power Supply High End Input Voltage 1: 264000 mV",
        "FRU Power Supply Low End Acceptable Frequency: 47 Hz",
        "FRU Power Supply High End Acceptable Frequency: 63 Hz",
        "FRU Power Supply A/C Dropout Tolerance: 20 ms",
        "FRU Power Supply Power Factor Correction Supported: Yes",
        "FRU Power Supply Hot Swap Support: Yes",
        "FRU Power Supply Peak Capacity: 1000 Watts",
        "FRU Power Supply Hold Up Time: 1 s",
        "FRU Management Access System Name: demo-server-01",
        "FRU OEM Manufacturer ID: ",
        "FRU OEM Data: ABh",
    ]

    def check_device0(self, r, title="Default FRU Device"):
        self.assertOk(r)
        self.assertEqual(r.err.strip(), "", "no errors or warnings on stderr\n" + r.describe())
        lines = [l.strip() for l in r.out.splitlines() if l.strip()]
        self.assertIn("FRU Inventory Device: {} (ID 00h)".format(title), lines, r.describe())
        for want in self.EXPECTED:
            self.assertTrue(any(l.startswith(want) for l in lines), "missing {!r}\n{}".format(want, r.describe()))
        self.assertFalse([l for l in lines if "Error" in l], r.describe())

    def test_ipmi_fru_device_0_without_sdr(self):
        self.check_device0(self.ipmi_fru("--ignore-sdr-cache"))

    def test_ipmi_fru_device_id_0(self):
        # With the SDR repository, device 0 is titled by its FRU device locator record (the config name).
        self.check_device0(self.ipmi_fru("--device-id=0"), title="Demo Server")

    def test_ipmi_fru_every_device_from_the_sdr_locators(self):
        r = self.assertOk(self.ipmi_fru())
        self.assertEqual(r.err.strip(), "", r.describe())
        blocks = {}
        for chunk in re.split(r"\n(?=FRU Inventory Device: )", r.out):
            m = re.match(r"FRU Inventory Device: (.*) \(ID ([0-9A-F]{2})h\)", chunk)
            if m:
                blocks[int(m.group(2), 16)] = (m.group(1), chunk)
        self.assertEqual(sorted(blocks), [0, 5, 9, 10], r.describe())
        self.assertEqual(blocks[5][0], "PSU 1")
        self.assertIn("FRU Product Serial Number: PSN-5555", blocks[5][1], r.describe())
        self.assertEqual(blocks[9][0], "Raw Image")
        self.assertIn("FRU Product Name: Widget", blocks[9][1], r.describe())
        self.assertIn("FRU Product Serial Number: PSN-0003", blocks[0][1], r.describe())
        for fru_id in (0, 5, 9):
            self.assertNotIn("Error", blocks[fru_id][1], r.describe())
        self.assertIn("product info area checksum invalid", blocks[10][1], "the broken image, as served\n"
                      + r.describe())

    def test_ipmi_fru_device_0_over_ipmi15(self):
        self.check_device0(self.ipmi_fru("--ignore-sdr-cache", driver="LAN"))

    def test_ipmi_fru_verbose(self):
        r = self.assertOk(self.ipmi_fru("--ignore-sdr-cache", "-v"))
        self.assertIn("FRU Board Language: English", r.out, r.describe())
        self.assertIn("FRU Product Language: English", r.out, r.describe())
        self.assertEqual(r.err.strip(), "", r.describe())

    def test_other_devices_parse_cleanly_in_freeipmi(self):
        # ipmi-fru reaches devices other than 0 through SDR FRU locator records; the bytes read with
        # ipmitool are checked with FreeIPMI's own parser (--fru-file) instead.
        for fru_id, must in ((5, ["FRU Board Product Name: PSU Board", "FRU Product Version: 2.1",
                                  "FRU Product Serial Number: PSN-5555"]),
                             (9, ["FRU Product Manufacturer Name: ACM", "FRU Product Serial Number: RSN1"])):
            path = os.path.join(self.tmp, "dev{}.bin".format(fru_id))
            with open(path, "wb") as f:
                f.write(self.read_device(fru_id))
            r = run([freeipmi_cmd("ipmi-fru", 0)[0], "--fru-file", path], timeout=60, env=CLIENT_ENV)
            self.assertOk(r)
            self.assertEqual(r.err.strip(), "", r.describe())
            for want in must:
                self.assertIn(want, r.out, r.describe())
            self.assertNotIn("Error", r.out, r.describe())

    def test_broken_raw_image_is_reported_by_the_client(self):
        path = os.path.join(self.tmp, "dev10.bin")
        with open(path, "wb") as f:
            f.write(self.read_device(10))
        r = run([freeipmi_cmd("ipmi-fru", 0)[0], "--fru-file", path], timeout=60, env=CLIENT_ENV)
        self.assertIn("product info area checksum invalid", r.out, r.describe())


class RawFruRequests(FruTestBase):
    """Completion codes as a client sees them (ipmitool raw)."""

    def raw(self, *data):
        return self.ipmitool("raw", "0x0a", *["0x{:02x}".format(b) for b in data])

    def test_area_info_and_codes(self):
        r = self.assertOk(self.raw(0x10, 0x05))
        self.assertEqual(r.out.split(), ["00", "02", "00"], r.describe())
        r = self.raw(0x10, 0x03)
        self.assertIn("rsp=0xcb", r.err, r.describe())
        r = self.raw(0x11, 0x05, 0x00, 0x02, 0x01)
        self.assertIn("rsp=0xc9", r.err, "offset 512 of a 512-byte device\n" + r.describe())
        r = self.raw(0x11, 0x05, 0x00, 0x00, 0xFF)
        self.assertIn("rsp=0xca", r.err, r.describe())
        r = self.raw(0x11, 0x05, 0x00, 0x00)
        self.assertIn("rsp=0xc7", r.err, r.describe())
        r = self.assertOk(self.raw(0x11, 0x05, 0xFE, 0x01, 0x10))
        self.assertEqual(r.out.split(), ["02", "00", "00"], "a read across the end returns what is there\n"
                         + r.describe())


if __name__ == "__main__":
    main()
