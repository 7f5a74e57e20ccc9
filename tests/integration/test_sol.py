#!/usr/bin/python3
"""Serial over LAN against simbmcd (IPMI v2.0 §15, §24, §26).

- ipmitool -I lanplus `sol activate` and FreeIPMI `ipmiconsole` driven in a pseudo-terminal against the
  simulated host console: the boot log and login prompt, a login and a command with its answer, a power
  cycle from a second session seen as a reboot, `~.` / `&.` to quit, deactivation and takeover from
  another session, the keepalive, a client killed mid-session;
- `sol info`, `sol set` round trips, `sol payload status`;
- raw SOL through the harness's RMCP+ client: the exact Activate Payload reply, completion codes,
  duplicates, and malformed or oversized SOL packets that must never hurt the daemon;
- revocation: SOL disabled, payload access removed, the user disabled, privilege limits lowered, the LAN
  channel's access mode set to disabled while a console runs end its payload with an "SOL deactivating"
  packet (ipmitool and ipmiconsole end); a disabled channel sets up no new session;
- Suspend/Resume Payload Encryption (App 0x55): the packets really change, and its completion codes.

Every wait is bounded; every process started here is killed by its own PID / process group.
"""

import json
import os
import random
import re
import select
import signal
import socket
import struct
import subprocess
import time

from harness import (ADMIN_PASSWORD, ADMIN_USER, HOST, PYTHON, Daemon, DaemonTestCase, IpmiError, RMCP_IPMI,
                     Rmcp15Client, RmcpClient, _freeipmi, fields, get_channel_auth_caps_request, ipmitool_cmd, main,
                     make_config, parse_ipmi_response, poll, raw_bytes, run)

IPMICONSOLE = _freeipmi("ipmiconsole")

CONSOLE = """
[bmc.console]
kind = "simulated"
boot_ms = 800
login_password = "simbmc"
"""


def free_low_port():
    """A free UDP port on 127.0.0.1 below 32768: ipmiconsole reads the port of -h host:port as a signed
    16-bit number and calls anything higher an invalid hostname (FreeIPMI 1.6)."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, 32000)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((HOST, port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free UDP port in 20000..32000")


def sol_daemon_config(daemon, sol="", lan=None, users=None):
    """make_config() for `daemon` plus the simulated console and an optional [bmc.sol] table."""
    text = make_config(daemon.port, daemon.state_dir, lan=lan, power=dict(cycle_off_ms=300), users=users)
    text += CONSOLE
    if sol:
        text += "\n[bmc.sol]\n" + sol.strip() + "\n"
    return text


class PtyProcess:
    """A client on a pseudo-terminal (ipmitool and ipmiconsole put their terminal in raw mode)."""

    def __init__(self, cmd):
        master, slave = os.openpty()
        self.proc = subprocess.Popen([str(c) for c in cmd], stdin=slave, stdout=slave, stderr=slave,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.fd = master
        self.out = b""
        self.pos = 0  # expect() consumed output up to here
        self.eof = False

    def _read(self, timeout):
        if self.eof:
            time.sleep(min(timeout, 0.05))
            return
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            data = b""
        if data:
            self.out += data
        else:
            self.eof = True

    def expect(self, pattern, timeout=20):
        """Waits (bounded) for `pattern` (bytes regex) in output not yet consumed; returns the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        for _ in range(100000):
            m = rx.search(self.out, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0 or (self.eof and self.proc.poll() is not None):
                break
            self._read(min(left, 0.2))
        raise AssertionError("did not see {!r} within {} s; output so far:\n{}".format(
            pattern, timeout, self.out.decode("utf-8", "replace")))

    def send(self, data):
        os.write(self.fd, data)

    def read_for(self, seconds):
        deadline = time.monotonic() + seconds
        for _ in range(100000):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._read(min(left, 0.2))

    def wait(self, timeout=20):
        """Reads output until the process exits (bounded); returns its exit code or None."""
        deadline = time.monotonic() + timeout
        for _ in range(100000):
            if self.proc.poll() is not None:
                self.read_for(0.1)
                return self.proc.returncode
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._read(min(left, 0.2))
        return None

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the process group this object created
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass

    def close(self):
        self.kill()
        try:
            os.close(self.fd)
        except OSError:
            pass

    def text(self):
        return self.out.decode("utf-8", "replace")


class SolClient(RmcpClient):
    """The harness's RMCP+ client plus SOL packets (payload type 1) and a reply reader that keeps SOL
    packets apart from IPMI responses."""

    def __init__(self, port, timeout=2.0):
        super().__init__(port, timeout)
        self.sol_in = []  # (seq, ack, accepted, status, data) received from the BMC
        self.sol_encrypted = []  # per packet of sol_in: did it arrive encrypted

    def payload_packet(self, payload, ptype=0x01, encrypt=True):
        _, ialg, calg = {2: (1, 1, 0), 3: (1, 1, 1), 17: (3, 4, 1)}[self.suite]
        self.seq += 1
        body = bytes(payload)
        pt = ptype
        if calg and encrypt:
            from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
            pad = (16 - (len(body) + 1) % 16) % 16
            plain = body + bytes(range(1, pad + 1)) + bytes([pad])
            iv = os.urandom(16)
            enc = Cipher(algorithms.AES(self.k2[:16]), modes.CBC(iv)).encryptor()
            body = iv + enc.update(plain) + enc.finalize()
            pt |= 0x80
        if ialg:
            pt |= 0x40
        pkt = bytes([0x06, pt]) + struct.pack("<IIH", self.sid, self.seq, len(body)) + body
        if ialg:
            pad = (4 - (len(pkt) + 2) % 4) % 4
            pkt += b"\xff" * pad + bytes([pad, 0x07])
            pkt += self._integrity(pkt)
        return RMCP_IPMI + pkt

    def sol(self, seq, ack=0, accepted=0, op=0, data=b"", **kw):
        self.send(self.payload_packet(bytes([seq, ack, accepted, op]) + bytes(data), **kw))

    def _take(self, pkt):
        """SOL packets are recorded; returns the IPMI payload of anything else."""
        if pkt is None or len(pkt) < 16 or pkt[4] != 0x06:
            return None
        payload = self._decode(pkt)
        if pkt[5] & 0x3F == 0x01:
            self.sol_in.append((payload[0] & 0x0F, payload[1] & 0x0F, payload[2], payload[3], bytes(payload[4:])))
            self.sol_encrypted.append(bool(pkt[5] & 0x80))
            return None
        return payload

    def command(self, netfn, cmd, data=b"", timeout=None):
        self.rq_seq = (self.rq_seq + 1) & 0x3F
        from harness import ipmi_request_msg, parse_ipmi_response
        self.send(self.session_packet(ipmi_request_msg(netfn, cmd, data, seq=self.rq_seq)))
        deadline = time.monotonic() + (timeout or self.timeout)
        for _ in range(1000):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            payload = self._take(self.recv(left))
            if payload is not None:
                _, _, _, cc, rdata = parse_ipmi_response(payload)
                return cc, rdata
        raise IpmiError("no reply to netfn 0x{:02x} cmd 0x{:02x}".format(netfn, cmd))

    def pump(self, seconds, encrypt=True):
        """Receives SOL packets for `seconds`, ACKing each character packet like a console."""
        deadline = time.monotonic() + seconds
        for _ in range(10000):
            left = deadline - time.monotonic()
            if left <= 0:
                return
            before = len(self.sol_in)
            self._take(self.recv(min(left, 0.2)))
            for seq, _, _, _, data in self.sol_in[before:]:
                if seq:
                    self.sol(0, seq, len(data), encrypt=encrypt)

    def text(self):
        return b"".join(p[4] for p in self.sol_in).decode("utf-8", "replace")

    def activate(self, instance=1, aux=0xC6):
        return self.command(0x06, 0x48, bytes([0x01, instance, aux, 0, 0, 0]))

    def deactivate(self, instance=1):
        return self.command(0x06, 0x49, bytes([0x01, instance, 0, 0, 0, 0]))


class SolBase(DaemonTestCase):
    sol_config = ""
    lan_config = None
    users = None

    @classmethod
    def make_daemon(cls):
        d = Daemon(config=None, label=cls.__name__, port=free_low_port())
        d.config = sol_daemon_config(d, cls.sol_config, cls.lan_config, cls.users)
        return d

    def setUp(self):
        super().setUp()
        self.ptys = []
        self.clients = []
        self.free_instance(1)

    def tearDown(self):
        for p in self.ptys:
            p.close()
        for c in self.clients:
            try:
                c.close_session()
            except Exception:
                pass
            c.close()
        self.free_instance(1)
        super().tearDown()

    # -- helpers

    def ipmitool(self, *args, **kw):
        return self.daemon.ipmitool(*args, **kw)

    def free_instance(self, instance):
        self.ipmitool("raw", "0x06", "0x49", "0x01", instance, 0, 0, 0, 0)  # 0x80 when not active: fine

    def active_instances(self):
        r = self.assertOk(self.ipmitool("raw", "0x06", "0x4a", "0x01"))
        b = raw_bytes(r.out)
        return b[1] | (b[2] << 8)

    def sol_activate(self, *extra, user=ADMIN_USER, password=ADMIN_PASSWORD):
        cmd = ipmitool_cmd(self.daemon.port, *extra, "sol", "activate", user=user, password=password)
        p = PtyProcess(cmd)
        self.ptys.append(p)
        return p

    def ipmiconsole(self, *extra):
        cmd = [IPMICONSOLE, "-h", "{}:{}".format(HOST, self.daemon.port), "-u", ADMIN_USER, "-p", ADMIN_PASSWORD]
        p = PtyProcess(cmd + list(extra))
        self.ptys.append(p)
        return p

    def client(self, suite=17, user=ADMIN_USER, password=ADMIN_PASSWORD):
        c = SolClient(self.daemon.port)
        self.clients.append(c)
        self.assertEqual(c.open_session(user=user, password=password, suite=suite), 0)
        return c

    def login_shell(self, p, quit_hint=b""):
        """From any state of the simulated shell to a fresh root prompt."""
        p.send(b"\x03\r")  # ^C, then a new line: the login prompt or the shell prompt
        m = p.expect(rb"(login: |root@simhost:~# )", timeout=30)
        if m.group(1) == b"login: ":
            p.send(b"root\r")
            p.expect(b"Password: ")
            p.send(b"simbmc\r")
            p.expect(b"root@simhost:~# ")


class SolIpmitool(SolBase):
    """ipmitool and ipmiconsole on the simulated host console."""

    def test_sol_info_reports_every_parameter(self):
        r = self.assertOk(self.ipmitool("sol", "info", "1"))
        self.assertNotIn("not supported", r.err, r.describe())
        want = {"Set in progress": "set-complete", "Enabled": "true", "Force Encryption": "true",
                "Force Authentication": "true", "Privilege Level": "ADMINISTRATOR",
                "Character Accumulate Level (ms)": "50", "Character Send Threshold": "96", "Retry Count": "7",
                "Retry Interval (ms)": "500", "Volatile Bit Rate (kbps)": "115.2",
                "Non-Volatile Bit Rate (kbps)": "115.2", "Payload Channel": "1 (0x01)",
                "Payload Port": str(self.daemon.port)}
        for k, v in want.items():
            self.assertField(r.out, k, v, r)

    def test_sol_set_round_trips_and_disabled_sol_is_refused(self):
        for args in (("character-accumulate-level", "4"), ("character-send-threshold", "50"), ("retry-count", "3"),
                     ("retry-interval", "20"), ("non-volatile-bit-rate", "57.6"), ("volatile-bit-rate", "19.2")):
            self.assertOk(self.ipmitool("sol", "set", *args, "1"))
        r = self.assertOk(self.ipmitool("sol", "info", "1"))
        self.assertField(r.out, "Character Accumulate Level (ms)", "20", r)
        self.assertField(r.out, "Character Send Threshold", "50", r)
        self.assertField(r.out, "Retry Count", "3", r)
        self.assertField(r.out, "Retry Interval (ms)", "200", r)
        self.assertField(r.out, "Non-Volatile Bit Rate (kbps)", "57.6", r)
        self.assertField(r.out, "Volatile Bit Rate (kbps)", "19.2", r)
        self.assertField(r.out, "Set in progress", "set-complete", r)
        try:
            self.assertOk(self.ipmitool("sol", "set", "enabled", "false", "1"))
            self.assertField(self.ipmitool("sol", "info", "1").out, "Enabled", "false")
            p = self.sol_activate()
            p.expect(b"SOL payload disabled")
            self.assertNotEqual(p.wait(), 0)
        finally:
            self.assertOk(self.ipmitool("sol", "set", "enabled", "true", "1"))
            for args in (("character-accumulate-level", "10"), ("character-send-threshold", "96"),
                         ("retry-count", "7"), ("retry-interval", "50"), ("non-volatile-bit-rate", "115.2"),
                         ("volatile-bit-rate", "115.2")):
                self.assertOk(self.ipmitool("sol", "set", *args, "1"))
        # Read-only parameters are refused with 0x82.
        r = self.ipmitool("raw", "0x0c", "0x21", "0x01", "0x08", "0x6f", "0x02")
        self.assertIn("rsp=0x82", r.err, r.describe())
        r = self.ipmitool("raw", "0x0c", "0x22", "0x01", "0x09", "0x00", "0x00")
        self.assertIn("rsp=0x80", r.err, r.describe())

    def test_sol_payload_status_and_access(self):
        r = self.assertOk(self.ipmitool("sol", "payload", "status", "1", "2"))
        self.assertIn("User 2 on channel 1 is enabled", r.out, r.describe())
        try:
            self.assertOk(self.ipmitool("sol", "payload", "disable", "1", "2"))
            r = self.assertOk(self.ipmitool("sol", "payload", "status", "1", "2"))
            self.assertIn("User 2 on channel 1 is disabled", r.out, r.describe())
            p = self.sol_activate()
            self.assertNotEqual(p.wait(), 0, p.text())
            self.assertIn("Insufficient privilege", p.text())
        finally:
            self.assertOk(self.ipmitool("sol", "payload", "enable", "1", "2"))

    def test_ipmitool_sees_the_console_logs_in_runs_a_command_and_quits(self):
        p = self.sol_activate()
        p.expect(rb"\[SOL Session operational")
        # The history replay shows what the host printed before anyone was attached.
        p.expect(rb"(login: |root@simhost:~# )")
        self.login_shell(p)
        p.send(b"echo hello-from-sol\r")
        p.expect(rb"echo hello-from-sol\r\nhello-from-sol\r\n")
        p.expect(b"root@simhost:~# ")
        p.send(b"uname -r\r")
        p.expect(rb"6\.1\.0-sim-amd64\r\n")
        p.send(b"\r~.")
        p.expect(rb"terminated ipmitool")
        self.assertEqual(p.wait(), 0, p.text())
        self.assertTrue(poll(lambda: self.active_instances() == 0, tries=30), "the payload stayed active")

    def test_every_keystroke_reaches_the_host_and_every_character_comes_back(self):
        p = self.sol_activate()
        p.expect(rb"\[SOL Session operational")
        self.login_shell(p)
        # Characters typed one by one, as fast as the terminal takes them: the echo is exact.
        word = "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(120))
        for ch in "echo " + word:
            p.send(ch.encode())
        p.send(b"\r")
        p.expect(("echo " + word + "\r\n" + word + "\r\n").encode())
        p.send(b"\r~.")
        p.wait()

    def test_a_power_cycle_from_another_session_is_visible_as_a_reboot(self):
        p = self.sol_activate()
        p.expect(rb"\[SOL Session operational")
        self.login_shell(p)
        boots = []
        for _ in range(2):
            self.assertOk(self.ipmitool("chassis", "power", "cycle"))
            start = p.expect(rb"simBIOS", timeout=30).start()
            end = p.expect(rb"simhost login: ", timeout=30).end()
            boots.append(p.out[start:end])
        # Both boot logs arrived whole: the same text, each line once, nothing lost or repeated.
        self.assertEqual(boots[0], boots[1])
        self.assertEqual(boots[0].count(b"simBIOS"), 1)
        self.assertIn(b"Booting from Hard Disk 0...\r\nGRUB loading.\r\n", boots[0])
        self.assertEqual(len(re.findall(rb"\[  OK  \]", boots[0])), 4, boots[0])
        self.login_shell(p)
        p.send(b"whoami\r")
        p.expect(b"root\r\n")
        p.send(b"\r~.")
        self.assertEqual(p.wait(), 0, p.text())

    def test_a_second_activation_is_refused_and_deactivate_ends_the_first(self):
        a = self.sol_activate("-N", "1", "-R", "2")
        a.expect(rb"\[SOL Session operational")
        b = self.sol_activate()
        b.expect(b"SOL payload already active on another session")
        self.assertEqual(b.wait(), 1, b.text())
        self.assertEqual(self.active_instances(), 1)
        self.assertOk(self.ipmitool("sol", "deactivate"))
        self.assertEqual(self.active_instances(), 0)
        # ipmitool ignores the "SOL deactivating" status; its next keystroke goes unanswered and it ends.
        a.send(b"x")
        self.assertIsNotNone(a.wait(timeout=40), "ipmitool kept running after its SOL was deactivated\n" + a.text())
        self.assertIn("SOL session closed by BMC", a.text())
        # The new session takes the instance.
        c = self.sol_activate()
        c.expect(rb"\[SOL Session operational")
        c.send(b"\r")
        c.expect(rb"(login: |root@simhost:~# )")
        c.send(b"\r~.")
        self.assertEqual(c.wait(), 0, c.text())

    def test_ipmiconsole_logs_in_runs_a_command_and_quits(self):
        p = self.ipmiconsole()
        p.expect(rb"\[SOL established\]")
        self.login_shell(p)
        p.send(b"hostname\r")
        p.expect(rb"hostname\r\nsimhost\r\n")
        p.send(b"\r&.")
        self.assertEqual(p.wait(), 0, p.text())
        self.assertTrue(poll(lambda: self.active_instances() == 0, tries=30), "the payload stayed active")

    def test_ipmiconsole_is_told_when_another_session_deactivates_it(self):
        p = self.ipmiconsole()
        p.expect(rb"\[SOL established\]")
        p.send(b"\r")
        p.expect(rb"(login: |root@simhost:~# )")
        self.assertOk(self.ipmitool("sol", "deactivate"))
        rc = p.wait(timeout=20)
        self.assertIsNotNone(rc, "ipmiconsole kept running\n" + p.text())
        self.assertIn("[SOL session stolen]", p.text())

    def test_ipmiconsole_takes_over_from_ipmitool(self):
        a = self.sol_activate()
        a.expect(rb"\[SOL Session operational")
        p = self.ipmiconsole()  # FreeIPMI deactivates the active instance and activates its own
        p.expect(rb"\[SOL established\]")
        p.send(b"\r")
        p.expect(rb"(login: |root@simhost:~# )")
        p.send(b"\r&.")
        self.assertEqual(p.wait(), 0, p.text())

    def test_the_get_device_id_keepalive_does_not_disturb_sol(self):
        p = self.sol_activate()
        p.expect(rb"\[SOL Session operational")
        self.login_shell(p)
        p.read_for(17)  # ipmitool sends its Get Device ID keepalive after 15 s of SOL
        p.send(b"echo still-here\r")
        p.expect(b"\r\nstill-here\r\n")
        p.send(b"\r~.")
        self.assertEqual(p.wait(), 0, p.text())

    def test_pyghmi_console_logs_in_and_a_long_paste_arrives_whole(self):
        script = PYGHMI_SOL % dict(user=ADMIN_USER, password=ADMIN_PASSWORD, port=self.daemon.port)
        r = run([PYTHON, "-c", script], timeout=120)
        results = [json.loads(l[len("RESULT "):]) for l in r.out.splitlines() if l.startswith("RESULT ")]
        self.assertTrue(results, r.describe())
        self.assertTrue(results[0]["ok"], results[0]["text"])

    def test_break_is_sent_and_sol_goes_on(self):
        p = self.sol_activate()
        p.expect(rb"\[SOL Session operational")
        self.login_shell(p)
        p.send(b"\r~B")
        p.expect(b"send break")
        p.send(b"echo after-break\r")
        p.expect(b"\r\nafter-break\r\n")
        p.send(b"\r~.")
        self.assertEqual(p.wait(), 0, p.text())


PYGHMI_SOL = r"""
import json, time
from pyghmi.ipmi import console
from pyghmi.ipmi.private import session
out = []
def handler(data):
    out.append(data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data))
def text():
    return "".join(out)
def pump(seconds, until=(), since=0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        session.Session.wait_for_rsp(timeout=0.2)
        for u in until:
            if u in text()[since:]:
                return u
    return None
c = console.Console(bmc="127.0.0.1", userid=%(user)r, password=%(password)r, iohandler=handler, port=%(port)d)
pump(2)
mark = len(text())
c.send_data("\x03\r")
if pump(20, ("login: ", "~# "), mark) == "login: ":
    mark = len(text())
    c.send_data("root\r"); pump(10, ("Password: ",), mark)
    mark = len(text())
    c.send_data("simbmc\r"); pump(10, ("~# ",), mark)
# One paste of three lines, 330 characters: pyghmi sends a first SOL packet of 259 characters.
words = ["pyghmi-%%d-" %% i + "y" * 100 for i in range(3)]
mark = len(text())
c.send_data("".join("echo " + w + "\r" for w in words))
ok = pump(30, ("\r\n" + words[-1] + "\r\n",), mark) is not None
got = text()[mark:]
ok = ok and all(got.count("\r\n" + w + "\r\n") == 1 for w in words)
c.close()
pump(0.5)
print("RESULT " + json.dumps({"ok": ok, "text": text()[-2000:]}))
"""


class SolRaw(SolBase):
    """SOL through the harness's RMCP+ client: exact replies, completion codes and hostile packets."""

    sol_config = "instances = 2\nhistory_bytes = 0"
    lan_config = dict(cipher_suites=[17, 3, 2])

    def setUp(self):
        super().setUp()
        self.free_instance(2)

    def tearDown(self):
        self.free_instance(2)
        super().tearDown()

    def test_activate_reply_is_exactly_twelve_bytes_with_the_sessions_port(self):
        c = self.client()
        cc, data = c.activate()
        self.assertEqual(cc, 0)
        self.assertEqual(len(data), 12)
        self.assertEqual(data[:4], b"\0\0\0\0")
        inbound, outbound, port, vlan = struct.unpack("<HHHH", data[4:])
        self.assertEqual((inbound, outbound), (259, 259))  # 4-byte SOL header + 255 characters
        self.assertEqual(port, self.daemon.port)
        self.assertEqual(vlan, 0xFFFF)
        self.assertEqual(c.command(0x06, 0x4A, b"\x01"), (0, b"\x02\x01\x00"))
        cc, info = c.command(0x06, 0x4B, b"\x01\x01")
        self.assertEqual(cc, 0)
        self.assertEqual(struct.unpack("<I", info[:4])[0], c.sid)
        self.assertEqual(len(info), 12)

    def test_completion_codes(self):
        a, b = self.client(), self.client()
        self.assertEqual(a.activate()[0], 0)
        self.assertEqual(a.activate()[0], 0x80)     # already active (this session)
        self.assertEqual(b.activate()[0], 0x80)     # already active (another session)
        self.assertEqual(a.activate(2)[0], 0x82)    # one SOL instance per session
        self.assertEqual(b.activate(2)[0], 0)
        self.assertEqual(b.activate(3)[0], 0xCC)    # capacity 2
        self.assertEqual(b.command(0x06, 0x48, b"\x01\x01\xc6\x00\x00")[0], 0xC7)
        self.assertEqual(b.command(0x06, 0x48, b"\x01\x01\xc6\x00\x00\x00\x00")[0], 0xC7)
        self.assertEqual(b.command(0x06, 0x49, b"\x01\x01")[0], 0xC7)
        weak = self.client(suite=2)  # integrity, no confidentiality
        self.assertEqual(a.deactivate()[0], 0)
        self.assertEqual(a.deactivate()[0], 0x80)
        self.assertEqual(weak.activate(1, 0xC6)[0], 0x83)  # encryption the suite cannot do
        self.assertEqual(weak.activate(1, 0x46)[0], 0x84)  # SOL parameter 2 forces encryption
        self.assertEqual(b.command(0x06, 0x4A, b"\x01"), (0, b"\x02\x02\x00"))

    def test_deactivation_by_another_session_is_signalled_to_the_owner(self):
        a, b = self.client(), self.client()
        self.assertEqual(a.activate()[0], 0)
        self.assertEqual(b.deactivate()[0], 0)
        a.pump(1.0)
        self.assertTrue(any(st & 0x10 for _, _, _, st, _ in a.sol_in), a.sol_in)
        self.assertEqual(b.activate()[0], 0)  # takeover
        self.assertEqual(a.activate()[0], 0x80)

    def test_characters_both_ways_and_a_repeated_packet_is_delivered_once(self):
        c = self.client()
        self.assertEqual(c.activate()[0], 0)
        c.pump(0.3)
        c.sol(1, data=b"\x03\r")
        c.pump(1.5)
        self.assertRegex(c.text(), r"(login: |root@simhost:~# )$")
        before = len(c.text())
        c.sol(2, data=b"Q")
        c.sol(2, data=b"Q")  # our retransmission (ACK "lost"): ACKed again, not typed twice
        c.pump(1.0)
        acks = [p for p in c.sol_in if p[1] == 2]
        self.assertGreaterEqual(len(acks), 2, c.sol_in)
        self.assertTrue(all(p[2] == 1 for p in acks), acks)
        self.assertEqual(c.text()[before:].count("Q"), 1, c.text())
        c.sol(3, data=b"\x15")  # ^U: erase the line again
        c.pump(0.5)

    def test_malformed_and_oversized_sol_packets_never_hurt_the_daemon(self):
        c = self.client()
        self.assertEqual(c.activate()[0], 0)
        # Above the accepted payload size (the advertised 259, plus the 4 pyghmi adds): dropped, never ACKed.
        c.sol(1, data=b"A" * 260)
        c.sol(2, data=b"B" * 1200)
        c.pump(0.5)
        self.assertFalse([p for p in c.sol_in if p[1] in (1, 2)], c.sol_in)
        rng = random.Random(4242)
        hostile = [b"", b"\x01", b"\x01\x00", b"\x01\x00\x00", b"\xff\xff\xff\xff", bytes(4),
                   b"\x0f\x0f\xff\x7f" + b"C" * 255]            # exactly 259: accepted
        for payload in hostile:
            c.send(c.payload_packet(payload))
        for _ in range(300):
            payload = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 300)))
            c.send(c.payload_packet(payload))
        # Wrong framing: plaintext in an encrypted activation, a bogus length, truncations.
        c.send(c.payload_packet(b"\x01\x00\x00\x00x", encrypt=False))
        good = c.payload_packet(b"\x03\x00\x00\x00y")
        for n in (5, 10, 16, 20, len(good) - 1):
            c.send(good[:n])
        bad_len = bytearray(good)
        bad_len[14:16] = struct.pack("<H", 0xFFFF)
        c.send(bytes(bad_len))
        # SOL in a session that never activated it, and for a session that does not exist.
        other = self.client()
        other.sol(1, data=b"z")
        c.send(RMCP_IPMI + bytes([0x06, 0xC1]) + struct.pack("<IIH", 0x12345678, 1, 4) + b"\0" * 4)
        c.pump(1.0)
        self.assertDaemonAlive()
        # The session and its SOL still work.
        self.assertEqual(c.command(0x06, 0x01)[0], 0)
        c.sol_in.clear()
        c.sol(5, data=b"\x15")  # ^U: harmless on the shell
        c.pump(1.0)
        self.assertTrue(any(p[1] == 5 for p in c.sol_in), c.sol_in)
        self.assertNotIn("ERROR: AddressSanitizer", self.daemon.log())


SOL_USER = dict(name="console", password="Cons0le-Integ-Pw", privilege="administrator")


class SolRevocation(SolBase):
    """Taking SOL away from a running console ends its payload: "SOL deactivating", then nothing."""

    sol_config = "history_bytes = 0"
    users = [dict(name=ADMIN_USER, password=ADMIN_PASSWORD, privilege="administrator"), SOL_USER]

    def setUp(self):
        super().setUp()
        self.uid = self.user_id(SOL_USER["name"])

    def user_id(self, name):
        for uid in range(2, 17):
            r = self.ipmitool("raw", "0x06", "0x46", str(uid))
            text = bytes(raw_bytes(r.out)).rstrip(b"\0").decode("ascii", "replace") if r.rc == 0 else ""
            if text == name:
                return uid
        self.fail("user {} not found".format(name))

    def console(self):
        """A raw console (user `console`) with SOL running; returns it after the first packets."""
        c = self.client(user=SOL_USER["name"], password=SOL_USER["password"])
        self.assertEqual(c.activate()[0], 0)
        c.sol(1, data=b"\r")
        c.pump(0.5)
        self.assertTrue(any(p[1] == 1 for p in c.sol_in), c.sol_in)  # its keystroke was ACKed
        return c

    def assertDeactivated(self, c, admin, what):
        c.pump(1.0)
        st = [p[3] for p in c.sol_in]
        self.assertTrue(st and st[-1] & 0x10, "{}: no SOL deactivating packet: {}".format(what, c.sol_in))
        self.assertEqual(sum(1 for x in st if x & 0x10), 1, c.sol_in)
        # Get Payload Activation Status in the admin's session (a new login may not reach administrator now).
        self.assertEqual(admin.command(0x06, 0x4A, b"\x01"), (0, b"\x01\x00\x00"), what)
        # The payload is gone: a keystroke is neither ACKed nor typed, but the session still answers.
        n = len(c.sol_in)
        c.sol(2, data=b"x")
        c.pump(0.6)
        self.assertEqual(c.sol_in[n:], [], what)
        self.assertEqual(c.command(0x06, 0x01)[0], 0, what)

    def test_each_revocation_ends_the_running_payload(self):
        admin = self.client()
        uid = self.uid
        cases = [
            # (what, revoke, restore): raw App / Transport requests from the admin session.
            ("SOL disabled", (0x0C, 0x21, [0x01, 0x01, 0x00]), (0x0C, 0x21, [0x01, 0x01, 0x01])),
            ("SOL payload access removed", (0x06, 0x4C, [0x01, 0x40 | uid, 0x02, 0, 0, 0]),
             (0x06, 0x4C, [0x01, uid, 0x02, 0, 0, 0])),
            ("user disabled", (0x06, 0x47, [uid, 0x00]), (0x06, 0x47, [uid, 0x01])),
            ("user privilege limit operator", (0x06, 0x43, [0x91, uid, 0x03]), (0x06, 0x43, [0x91, uid, 0x04])),
            ("channel privilege limit operator", (0x06, 0x40, [0x01, 0x00, 0x83]), (0x06, 0x40, [0x01, 0x00, 0x84])),
            ("SOL privilege OEM", (0x0C, 0x21, [0x01, 0x02, 0xC5]), (0x0C, 0x21, [0x01, 0x02, 0xC4])),
            # Set Channel Access, volatile (10b), alerting off as before, access mode 000b disabled / 010b always.
            ("channel access mode disabled", (0x06, 0x40, [0x01, 0xA0, 0x00]), (0x06, 0x40, [0x01, 0xA2, 0x00])),
        ]
        for what, revoke, restore in cases:
            with self.subTest(what):
                c = self.console()
                try:
                    self.assertEqual(admin.command(revoke[0], revoke[1], bytes(revoke[2]))[0], 0, what)
                    self.assertDeactivated(c, admin, what)
                finally:
                    self.assertEqual(admin.command(restore[0], restore[1], bytes(restore[2]))[0], 0, what)
                self.assertEqual(c.activate()[0], 0, what)  # access back: the same session may activate
                self.assertEqual(c.deactivate()[0], 0, what)
        # A change that leaves the console its access leaves its payload alone.
        c = self.console()
        self.assertEqual(admin.command(0x06, 0x4C, bytes([0x01, 0x40 | 2, 0x02, 0, 0, 0]))[0], 0)  # admin's own
        try:
            c.pump(0.5)
            self.assertFalse([p for p in c.sol_in if p[3] & 0x10], c.sol_in)
            self.assertEqual(self.active_instances(), 1)
        finally:
            self.assertEqual(admin.command(0x06, 0x4C, bytes([0x01, 2, 0x02, 0, 0, 0]))[0], 0)
        self.assertDaemonAlive()

    def access_modes(self):
        """`ipmitool channel info 1` -> (volatile, non-volatile) access mode as ipmitool names them."""
        r = self.assertOk(self.ipmitool("channel", "info", "1"))
        volatile, _, non_volatile = r.out.partition("Non-Volatile Settings")
        return fields(volatile).get("Access Mode"), fields(non_volatile).get("Access Mode")

    def set_access(self, admin, access):
        """Set Channel Access (App 0x40) on channel 1 from the admin's session, privilege limit untouched."""
        self.assertEqual(admin.command(0x06, 0x40, bytes([0x01, access, 0x00]))[0], 0)

    def test_disabling_the_channel_ends_sol_and_sets_up_no_new_session(self):
        """Set Channel Access (IPMI v2.0 §22.22) access mode 000b: "channel disabled for IPMI messaging". The
        non-volatile setting waits for the next start; the volatile one ends the running payload at once. While
        the channel is disabled no session is set up (Get Channel Authentication Capabilities still answers),
        Activate Payload is 0x81, and the sessions already open still answer and set access back."""
        admin = self.client()
        c = self.console()
        self.set_access(admin, 0x60)  # non-volatile (01b): alerting off, disabled
        try:
            self.assertEqual(self.access_modes(), ("always available", "disabled"))
            c.pump(0.6)
            self.assertFalse([p for p in c.sol_in if p[3] & 0x10], c.sol_in)
            self.assertEqual(self.active_instances(), 1)
        finally:
            self.set_access(admin, 0x62)
        self.set_access(admin, 0xA0)  # volatile (10b): disabled now
        try:
            self.assertDeactivated(c, admin, "channel disabled")
            self.assertEqual(c.activate()[0], 0x81)
            self.assertEqual(admin.command(0x06, 0x41, bytes([0x01, 0x80])), (0, bytes([0x20, 0x04])))
            # No new session, refused at once rather than with silence: Open Session gets status 01h
            # (insufficient resources); the discovery commands still answer.
            with RmcpClient(self.daemon.port) as fresh:
                self.assertEqual(fresh.open_session(), ("open", 0x01))
                rsp = fresh.exchange(get_channel_auth_caps_request())
                self.assertIsNotNone(rsp, "Get Channel Authentication Capabilities went unanswered")
                self.assertEqual(parse_ipmi_response(Rmcp15Client.payload15(rsp))[3], 0)
            r = self.assertFails(self.ipmitool("-N", "1", "-R", "1", "mc", "info", timeout=40))
            self.assertIn("insufficient resources for session", r.err, r.describe())
            self.assertIn("Unable to establish IPMI v2 / RMCP+ session", r.err, r.describe())
        finally:
            self.set_access(admin, 0xA2)  # always available
        self.assertEqual(self.access_modes(), ("always available", "always available"))
        self.assertEqual(c.activate()[0], 0)
        self.assertEqual(c.deactivate()[0], 0)
        self.assertDaemonAlive()

    def test_ipmiconsole_ends_when_the_channel_is_disabled(self):
        admin = self.client()
        p = self.ipmiconsole("-u", SOL_USER["name"], "-p", SOL_USER["password"])
        p.expect(rb"\[SOL established\]")
        p.send(b"\x03\r")
        p.expect(rb"(login: |root@simhost:~# )")
        self.set_access(admin, 0xA0)
        try:
            rc = p.wait(timeout=20)
            self.assertIsNotNone(rc, "ipmiconsole kept running\n" + p.text())
            # FreeIPMI reads the "SOL deactivating" status as its session being taken over.
            self.assertIn("[SOL session stolen]", p.text())
            self.assertEqual(admin.command(0x06, 0x4A, b"\x01"), (0, b"\x01\x00\x00"))
        finally:
            self.set_access(admin, 0xA2)

    def test_ipmitool_sol_set_enabled_false_ends_a_running_ipmitool(self):
        a = self.sol_activate("-N", "1", "-R", "2")
        a.expect(rb"\[SOL Session operational")
        a.send(b"\x03\r")
        a.expect(rb"(login: |root@simhost:~# )")
        try:
            self.assertOk(self.ipmitool("sol", "set", "enabled", "false", "1"))
            self.assertEqual(self.active_instances(), 0)
            # ipmitool ignores the "SOL deactivating" status; its next keystroke goes unanswered and it ends.
            a.send(b"x")
            self.assertIsNotNone(a.wait(timeout=40), "ipmitool kept running after SOL was disabled\n" + a.text())
            self.assertIn("SOL session closed by BMC", a.text())
            b = self.sol_activate()
            b.expect(b"SOL payload disabled")
            self.assertNotEqual(b.wait(), 0)
        finally:
            self.assertOk(self.ipmitool("sol", "set", "enabled", "true", "1"))
        c = self.sol_activate()
        c.expect(rb"\[SOL Session operational")
        c.send(b"\r~.")
        self.assertEqual(c.wait(), 0, c.text())

    def test_ipmiconsole_ends_when_its_users_payload_access_is_revoked(self):
        p = self.ipmiconsole("-u", SOL_USER["name"], "-p", SOL_USER["password"])
        p.expect(rb"\[SOL established\]")
        p.send(b"\x03\r")
        p.expect(rb"(login: |root@simhost:~# )")
        try:
            self.assertOk(self.ipmitool("sol", "payload", "disable", "1", str(self.uid)))
            rc = p.wait(timeout=20)
            self.assertIsNotNone(rc, "ipmiconsole kept running\n" + p.text())
            # FreeIPMI reads the "SOL deactivating" status as its session being taken over.
            self.assertIn("[SOL session stolen]", p.text())
            self.assertEqual(self.active_instances(), 0)
        finally:
            self.assertOk(self.ipmitool("sol", "payload", "enable", "1", str(self.uid)))


class SolSuspendResume(SolBase):
    """Suspend/Resume Payload Encryption (App 0x55, IPMI v2.0 §24.3 Table 24-4): operation 0 suspends, 1
    resumes, 2 regenerates the IV (AES-CBC-128 has a fresh one in every packet)."""

    sol_config = "history_bytes = 0"
    lan_config = dict(cipher_suites=[17, 3, 2])

    def suspend(self, client, op, instance=1, ptype=0x01):
        return client.command(0x06, 0x55, bytes([ptype, instance, op]))[0]

    def test_suspend_and_resume_change_the_packets(self):
        self.assertOk(self.ipmitool("sol", "set", "force-encryption", "false", "1"))
        try:
            c = self.client()
            self.assertEqual(c.activate()[0], 0)
            c.pump(0.3)
            c.sol(1, data=b"\r")
            c.pump(1.0)
            self.assertTrue(c.sol_in and all(c.sol_encrypted), c.sol_in)
            self.assertEqual(self.suspend(c, 0), 0)
            c.sol_in.clear()
            c.sol_encrypted.clear()
            c.sol(2, data=b"\r", encrypt=False)  # the console's packets follow the setting too
            c.pump(1.0, encrypt=False)
            self.assertTrue(any(p[1] == 2 for p in c.sol_in), c.sol_in)  # ACKed
            self.assertTrue(any(p[4] for p in c.sol_in), c.sol_in)       # and the host answered
            self.assertFalse(any(c.sol_encrypted), c.sol_in)
            self.assertEqual(self.suspend(c, 2), 0)  # regenerate the IV: nothing to do while suspended
            self.assertEqual(self.suspend(c, 1), 0)
            c.sol_in.clear()
            c.sol_encrypted.clear()
            c.sol(3, data=b"\r")
            c.pump(1.0)
            self.assertTrue(any(p[1] == 3 for p in c.sol_in), c.sol_in)
            self.assertTrue(c.sol_encrypted and all(c.sol_encrypted), c.sol_in)
            self.assertEqual(self.suspend(c, 2), 0)
            # Forcing encryption again ends a payload that is not encrypted; this one is, so it stays.
            self.assertOk(self.ipmitool("sol", "set", "force-encryption", "true", "1"))
            self.assertEqual(self.active_instances(), 1)
            self.assertEqual(self.suspend(c, 0), 0x81)  # parameter 2 forces encryption
            self.assertEqual(c.deactivate()[0], 0)
        finally:
            self.assertOk(self.ipmitool("sol", "set", "force-encryption", "true", "1"))

    def test_completion_codes_with_ipmitool_raw(self):
        def raw(*data):
            return self.ipmitool("raw", "0x06", "0x55", *["0x{:02x}".format(b) for b in data])
        for data, want in [((0x01, 0x01, 0x01), "rsp=0x83"),   # instance not active
                           ((0x01, 0x01, 0x00), "rsp=0x83"),
                           ((0x01, 0x01, 0x03), "rsp=0xcc"),   # reserved operation
                           ((0x01, 0x00, 0x01), "rsp=0xcc"),   # instance 0 is reserved
                           ((0x00, 0x01, 0x00), "rsp=0x80"),   # IPMI messages: not for that payload type
                           ((0x01, 0x01), "rsp=0xc7"),
                           ((0x01, 0x01, 0x01, 0x00), "rsp=0xc7")]:
            r = raw(*data)
            self.assertIn(want, r.err, r.describe())
        # Another session's active instance is not this session's to change.
        c = self.client()
        self.assertEqual(c.activate()[0], 0)
        r = raw(0x01, 0x01, 0x01)
        self.assertIn("rsp=0x81", r.err, r.describe())
        self.assertEqual(self.suspend(c, 1), 0)
        self.assertEqual(c.deactivate()[0], 0)
        r = raw(0x01, 0x01, 0x00)
        self.assertIn("rsp=0x83", r.err, r.describe())
        # A session whose cipher suite has no confidentiality (2: integrity only) has nothing to resume.
        self.assertOk(self.ipmitool("sol", "set", "force-encryption", "false", "1"))
        try:
            weak = self.client(suite=2)
            self.assertEqual(weak.activate(1, 0x40)[0], 0)
            for op in (0, 1, 2):
                self.assertEqual(self.suspend(weak, op), 0x82, op)
            self.assertEqual(weak.deactivate()[0], 0)
        finally:
            self.assertOk(self.ipmitool("sol", "set", "force-encryption", "true", "1"))
        self.assertDaemonAlive()


class SolSessionTimeout(SolBase):
    """A killed client's payload is freed by the session timeout (5 s here)."""

    lan_config = dict(session_timeout=5)

    def test_a_killed_client_frees_the_payload_within_the_session_timeout(self):
        p = self.sol_activate()
        p.expect(rb"\[SOL Session operational")
        self.assertEqual(self.active_instances(), 1)
        start = time.monotonic()
        p.kill()
        freed = poll(lambda: self.active_instances() == 0, tries=40, interval=0.5)
        self.assertTrue(freed, "the payload was not freed\n" + self.daemon.log()[-3000:])
        self.assertLess(time.monotonic() - start, 5 + 8)
        q = self.sol_activate()
        q.expect(rb"\[SOL Session operational")
        q.send(b"\r")
        q.expect(rb"(login: |root@simhost:~# |simBIOS)")
        q.send(b"\r~.")
        self.assertEqual(q.wait(), 0, q.text())


if __name__ == "__main__":
    main()
