"""Integration test harness for simbmcd.

- `Daemon`: starts simbmcd on 127.0.0.1 with a free port and a fresh state directory, waits for it to answer
  an ASF presence ping, stops it by PID (SIGTERM, then SIGKILL after a bounded wait) and removes its files.
- `run(cmd, timeout)`: runs a client with a hard timeout and returns (rc, stdout, stderr) (plus `.elapsed`).
- Command-line builders for ipmitool and FreeIPMI, a pyghmi runner (one subprocess per call, so pyghmi's
  global session cache never leaks between tests) and `RmcpClient`, a small RMCP/RMCP+ client used where no
  real client can do the job (holding sessions open, replaying packets, malformed datagrams).
- `DaemonTestCase`: one daemon per test class; on a failed test the daemon's log lines written during that
  test are printed.

Every loop here is bounded in iterations and time, nothing binds outside 127.0.0.1 and nothing kills a
process it did not start.
"""

import hashlib
import hmac
import json
import os
import random
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
SIMBMCD = os.environ.get("SIMBMCD") or os.path.join(SOURCE_ROOT, "build", "integ", "bmc", "daemon", "simbmcd")
PYTHON = "/usr/bin/python3"  # Debian's python: it has python3-pyghmi
IPMITOOL = shutil.which("ipmitool") or "/usr/bin/ipmitool"


def _freeipmi(tool):
    return shutil.which(tool) or os.path.join("/usr/sbin", tool)


IPMIPOWER = _freeipmi("ipmipower")
BMC_INFO = _freeipmi("bmc-info")
IPMI_CONFIG = _freeipmi("ipmi-config")
IPMI_CHASSIS = _freeipmi("ipmi-chassis")

HOST = "127.0.0.1"
ADMIN_USER = "admin"
ADMIN_PASSWORD = "Adm1n-Integ-Pw42"


# ----------------------------------------------------------------------------------------------------------------
# Processes


class RunResult(tuple):
    """(rc, stdout, stderr) with .elapsed (seconds) and .cmd; rc is -1 when the hard timeout killed it."""

    def __new__(cls, rc, out, err, elapsed, cmd):
        self = super().__new__(cls, (rc, out, err))
        self.elapsed = elapsed
        self.cmd = cmd
        return self

    rc = property(lambda self: self[0])
    out = property(lambda self: self[1])
    err = property(lambda self: self[2])

    def describe(self):
        return "command: {}\nrc={} elapsed={:.2f}s\n--- stdout ---\n{}\n--- stderr ---\n{}".format(
            " ".join(self.cmd), self.rc, self.elapsed, self.out, self.err)


def run(cmd, timeout=30, input=None, env=None):
    """Runs cmd (a list) with a hard timeout; returns RunResult (rc, stdout, stderr)."""
    cmd = [str(c) for c in cmd]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True,
                            text=True, errors="replace")
    try:
        out, err = proc.communicate(input=input, timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the process group we created for this command only
        except ProcessLookupError:
            pass
        out, err = proc.communicate(timeout=10)
        rc = -1
        err = (err or "") + "\n[harness: killed after the {} s hard timeout]\n".format(timeout)
    return RunResult(rc, out or "", err or "", time.monotonic() - start, cmd)


def free_port():
    """A UDP port on 127.0.0.1 that was free a moment ago (bind port 0, read it, close)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((HOST, 0))
        return s.getsockname()[1]
    finally:
        s.close()


# ----------------------------------------------------------------------------------------------------------------
# Config


def _toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError("cannot write {!r} as TOML".format(v))


def make_config(port, state_dir, lan=None, power=None, lockout=None, users=None, name="integ", **bmc_keys):
    """A one-instance config. users: list of dicts (name, password, privilege, enabled)."""
    if users is None:
        users = [dict(name=ADMIN_USER, password=ADMIN_PASSWORD, privilege="administrator")]
    power_defaults = dict(initially_on=True, on_delay_ms=0, off_delay_ms=0, cycle_off_ms=200, soft_shutdown_ms=200)
    power_defaults.update(power or {})
    lines = ['log_level = "debug"', "", "[[bmc]]", "name = {}".format(_toml_value(name)),
             'bind = "127.0.0.1"', "port = {}".format(port), "state_dir = {}".format(_toml_value(state_dir))]
    for k, v in bmc_keys.items():
        lines.append("{} = {}".format(k, _toml_value(v)))
    for table, values in (("lan", lan), ("power", power_defaults), ("lockout", lockout)):
        if values:
            lines += ["", "[bmc.{}]".format(table)] + ["{} = {}".format(k, _toml_value(v)) for k, v in values.items()]
    for u in users:
        lines += ["", "[[bmc.user]]"] + ["{} = {}".format(k, _toml_value(v)) for k, v in u.items()]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------------------------
# Daemon


ASF_PING_TEMPLATE = bytes([0x06, 0x00, 0xFF, 0x06, 0x00, 0x00, 0x11, 0xBE, 0x80, 0x00, 0x00, 0x00])


def asf_ping(tag=0):
    p = bytearray(ASF_PING_TEMPLATE)
    p[9] = tag & 0xFF
    return bytes(p)


def is_pong(data, tag=None):
    return (len(data) >= 12 and data[0] == 0x06 and data[3] == 0x06 and data[8] == 0x40
            and (tag is None or data[9] == tag))


class DaemonError(Exception):
    pass


class Daemon:
    """One simbmcd process. config: TOML text, a dict of make_config() keyword arguments, or None for the
    embedded default config (then --port/--state-dir/--user are passed on the command line)."""

    def __init__(self, config=None, args=(), users=None, state_dir=None, port=None, label="simbmcd"):
        self.label = label
        self.workdir = tempfile.mkdtemp(prefix="simbmc-integ-")
        self.own_state_dir = state_dir is None
        self.state_dir = state_dir or tempfile.mkdtemp(prefix="simbmc-state-")
        self.auto_port = port is None
        self.port = port or free_port()
        self.config = config
        self.extra_args = list(args)
        self.users = users  # list of "NAME:PASSWORD[:PRIV]" for --user
        self.proc = None
        self.starts = 0
        self.returncode = None
        self.log_path = None
        self.out_path = None
        self._saved = {}  # log path -> text, kept after cleanup() removed the files

    # -- lifecycle

    def command(self):
        cmd = [SIMBMCD]
        if self.config is not None:
            text = self.config if isinstance(self.config, str) else make_config(self.port, self.state_dir,
                                                                                **self.config)
            path = os.path.join(self.workdir, "simbmc.toml")
            with open(path, "w") as f:
                f.write(text)
            cmd += ["--config", path]
        else:
            cmd += ["--bind", HOST, "--port", str(self.port), "--state-dir", self.state_dir, "--log-level", "debug"]
        for u in self.users or []:
            cmd += ["--user", u]
        return cmd + self.extra_args

    def start(self, wait=True):
        """Starts the process (stdout/stderr to files); with wait, returns once it answers an ASF ping.
        If another process grabbed our automatically chosen port in the meantime, retries on a new port
        (first start only, at most 3 times)."""
        for attempt in range(3):
            try:
                return self._start(wait)
            except DaemonError:
                lost_race = (self.auto_port and self.starts == 1 and not isinstance(self.config, str)
                             and "cannot bind" in self.log())
                if not lost_race or attempt == 2:
                    raise
                self.starts = 0
                self.port = free_port()

    def _start(self, wait):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        self.log_path = os.path.join(self.workdir, "stderr.{}.log".format(self.starts))
        self.out_path = os.path.join(self.workdir, "stdout.{}.log".format(self.starts))
        with open(self.log_path, "wb") as err, open(self.out_path, "wb") as out:
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                         start_new_session=True)
        self.returncode = None
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, tries=100, interval=0.05):
        """ASF presence ping until the pong comes back: at most tries x interval seconds."""
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((HOST, 0))
            for i in range(tries):
                if self.proc.poll() is not None:
                    raise DaemonError("simbmcd exited with {} before it was ready\n{}".format(
                        self.proc.returncode, self.log()))
                s.sendto(asf_ping(i), (HOST, self.port))
                deadline = time.monotonic() + interval
                for _ in range(16):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    r, _, _ = select.select([s], [], [], left)
                    if not r:
                        break
                    data, _ = s.recvfrom(2048)
                    if is_pong(data) and self._owns_port():
                        return
        finally:
            s.close()
        raise DaemonError("simbmcd did not answer an ASF ping on {}:{} within {:.1f} s\n{}".format(
            HOST, self.port, tries * interval, self.log()))

    def _owns_port(self):
        """True if our process holds the UDP socket on 127.0.0.1:port, so the pong did not come from some
        other daemon that owns the port (then ours is about to fail with "address in use")."""
        if not os.path.exists("/proc/net/udp"):
            return True
        want = "0100007F:{:04X}".format(self.port)
        inodes = set()
        with open("/proc/net/udp") as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                if len(cols) > 9 and cols[1] == want:
                    inodes.add("socket:[{}]".format(cols[9]))
        try:
            fds = os.listdir("/proc/{}/fd".format(self.proc.pid))
        except OSError:
            return False
        for fd in fds:
            try:
                if os.readlink("/proc/{}/fd/{}".format(self.proc.pid, fd)) in inodes:
                    return True
            except OSError:
                pass
        return False

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Sends sig to our PID, waits at most timeout seconds, then SIGKILL. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.returncode = self.proc.returncode
        return self.returncode

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def restart(self, sig=signal.SIGTERM):
        rc = self.stop(sig)
        self.start()
        return rc

    def cleanup(self):
        """Stops the process and removes its files; the logs stay readable (kept in memory)."""
        self.stop()
        for path in (self.log_path, self.out_path):
            if path and path not in self._saved:
                self._saved[path] = self._read(path)
        shutil.rmtree(self.workdir, ignore_errors=True)
        if self.own_state_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    # -- output

    def _read(self, path):
        if path in self._saved:
            return self._saved[path]
        if not path or not os.path.exists(path):
            return ""
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log(self):
        """stderr of the current (last) run."""
        return self._read(self.log_path)

    def stdout(self):
        return self._read(self.out_path)

    def log_size(self):
        return len(self.log().encode())

    # -- clients

    def ipmitool(self, *args, iface="lanplus", user=ADMIN_USER, password=ADMIN_PASSWORD, cipher=None, auth=None,
                 priv=None, timeout=60):
        return run(ipmitool_cmd(self.port, *args, iface=iface, user=user, password=password, cipher=cipher,
                                auth=auth, priv=priv), timeout=timeout)

    def freeipmi(self, tool, *args, driver="LAN_2_0", user=ADMIN_USER, password=ADMIN_PASSWORD, timeout=60):
        return run(freeipmi_cmd(tool, self.port, *args, driver=driver, user=user, password=password),
                   timeout=timeout)

    def pyghmi(self, body, user=ADMIN_USER, password=ADMIN_PASSWORD, timeout=120):
        return run_pyghmi(self.port, body, user=user, password=password, timeout=timeout)


def ipmitool_cmd(port, *args, iface="lanplus", user=ADMIN_USER, password=ADMIN_PASSWORD, cipher=None, auth=None,
                 priv=None):
    cmd = [IPMITOOL, "-I", iface, "-H", HOST, "-p", str(port)]
    if user is not None:
        cmd += ["-U", user]
    if password is not None:
        cmd += ["-P", password]
    if cipher is not None:
        cmd += ["-C", str(cipher)]
    if auth is not None:
        cmd += ["-A", auth]
    if priv is not None:
        cmd += ["-L", priv]
    return cmd + [str(a) for a in args]


def freeipmi_cmd(tool, port, *args, driver="LAN_2_0", user=ADMIN_USER, password=ADMIN_PASSWORD):
    path = {"ipmipower": IPMIPOWER, "bmc-info": BMC_INFO, "ipmi-config": IPMI_CONFIG,
            "ipmi-chassis": IPMI_CHASSIS}.get(tool) or _freeipmi(tool)
    cmd = [path, "-D", driver, "-h", "{}:{}".format(HOST, port)]
    if user is not None:
        cmd += ["-u", user]
    if password is not None:
        cmd += ["-p", password]
    return cmd + [str(a) for a in args]


PYGHMI_PRELUDE = """
import json, sys
from pyghmi.ipmi import command as _command
out = {}
cmd = _command.Command(bmc=%(host)r, userid=%(user)r, password=%(password)r, port=%(port)d)
try:
%(body)s
finally:
    try:
        cmd.ipmi_session.logout()
    except Exception as e:
        out.setdefault("logout_error", repr(e))
    print("RESULT " + json.dumps(out, default=repr))
"""


def run_pyghmi(port, body, user=ADMIN_USER, password=ADMIN_PASSWORD, timeout=120):
    """Runs `body` (python code using `cmd`, filling the dict `out`) in a fresh /usr/bin/python3 process.
    Returns (RunResult, out-dict or None)."""
    script = PYGHMI_PRELUDE % dict(host=HOST, user=user, password=password, port=port,
                                   body=textwrap.indent(textwrap.dedent(body), "    "))
    r = run([PYTHON, "-c", script], timeout=timeout)
    result = None
    for line in r.out.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
    return r, result


# ----------------------------------------------------------------------------------------------------------------
# Output parsing


def fields(text, sep=":"):
    """'Key   : value' lines -> {key: value} (first occurrence wins)."""
    d = {}
    for line in text.splitlines():
        if sep in line:
            k, v = line.split(sep, 1)
            d.setdefault(k.strip(), v.strip())
    return d


def raw_bytes(text):
    """ipmitool raw output (hex bytes, maybe over several lines) -> list of ints."""
    return [int(x, 16) for x in text.split()]


def poll(fn, tries=50, interval=0.1):
    """Calls fn() until it returns a truthy value, at most tries times; returns the last value."""
    v = None
    for _ in range(tries):
        v = fn()
        if v:
            return v
        time.sleep(interval)
    return v


# ----------------------------------------------------------------------------------------------------------------
# Test case base


class DaemonTestCase(unittest.TestCase):
    """One simbmcd per class, configured by `config`: make_config() keyword arguments, or TOML text."""

    config = {}
    daemon = None
    class_daemon = True  # False: no shared daemon, tests start their own with new_daemon()

    @classmethod
    def make_daemon(cls):
        config = cls.config if isinstance(cls.config, str) else dict(cls.config)
        return Daemon(config=config, label=cls.__name__)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not cls.class_daemon:
            return
        cls.daemon = cls.make_daemon()
        try:
            cls.daemon.start()
        except Exception:
            cls.daemon.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.daemon is not None:
            if not cls.daemon.alive() and cls.daemon.proc is not None:
                sys.stderr.write("\n[harness] {}: simbmcd (pid {}) is not running at teardown (rc={})\n{}\n".format(
                    cls.__name__, cls.daemon.pid, cls.daemon.proc.returncode, cls.daemon.log()))
            cls.daemon.cleanup()
        super().tearDownClass()

    def new_daemon(self, config=None, start=True, **kw):
        """A daemon for this test only: stopped and removed at the end of the test, its log printed on
        failure."""
        d = Daemon(config=config, label=self.id(), **kw)
        self._test_daemons.append(d)
        self.addCleanup(d.cleanup)
        if start:
            d.start()
        return d

    def run(self, result=None):
        """On failure, prints the log lines the daemons wrote while this test ran."""
        self._test_daemons = []
        if result is None:
            return super().run(result)
        before = len(result.failures) + len(result.errors)
        cls_daemon = self.daemon
        offset = (cls_daemon.log_path, cls_daemon.log_size()) if cls_daemon else None
        out = super().run(result)
        if len(result.failures) + len(result.errors) > before:
            reports = []
            if cls_daemon is not None:
                text = cls_daemon.log()
                if cls_daemon.log_path == offset[0]:
                    text = text.encode()[offset[1]:].decode("utf-8", "replace")
                reports.append((cls_daemon, text))
            for d in self._test_daemons:
                reports.append((d, "\n".join("[stdout] " + l for l in d.stdout().splitlines()) + "\n" + d.log()))
            for d, text in reports:
                lines = text.splitlines()
                if len(lines) > 300:
                    lines = ["... ({} earlier lines)".format(len(lines) - 300)] + lines[-300:]
                sys.stderr.write("\n[harness] simbmcd log during {} (pid {}, port {}):\n{}\n".format(
                    self.id(), d.pid, d.port, "\n".join(lines)))
        return out

    # -- assertion helpers

    def assertOk(self, r, msg=None):
        self.assertEqual(r.rc, 0, (msg or "command failed") + "\n" + r.describe())
        return r

    def assertFails(self, r, msg=None):
        self.assertNotEqual(r.rc, 0, (msg or "command unexpectedly succeeded") + "\n" + r.describe())
        self.assertNotEqual(r.rc, -1, "command hit the harness timeout\n" + r.describe())
        return r

    def assertField(self, text, key, value, r=None):
        got = fields(text).get(key)
        self.assertEqual(got, value, "field {!r}: expected {!r}, got {!r}\n{}".format(
            key, value, got, r.describe() if r is not None else text))

    def assertDaemonAlive(self):
        self.assertTrue(self.daemon.alive(), "simbmcd died (rc={})\n{}".format(
            self.daemon.proc.poll(), self.daemon.log()))


def main():
    unittest.main(verbosity=2)


# ----------------------------------------------------------------------------------------------------------------
# A small RMCP / RMCP+ client (IPMI v2.0 §13) for what the real clients cannot do.


class IpmiError(Exception):
    pass


def _checksum(data):
    return (-sum(data)) & 0xFF


def ipmi_request_msg(netfn, cmd, data=b"", seq=0, rs_addr=0x20, rq_addr=0x81, lun=0):
    hdr = bytes([rs_addr, (netfn << 2) | lun])
    body = bytes([rq_addr, (seq << 2) | 0, cmd]) + bytes(data)
    return hdr + bytes([_checksum(hdr)]) + body + bytes([_checksum(body)])


def parse_ipmi_response(msg):
    """-> (netfn, seq, cmd, cc, data) of a response message."""
    if len(msg) < 8:
        raise IpmiError("short IPMI response: " + msg.hex())
    return msg[1] >> 2, msg[4] >> 2, msg[5], msg[6], bytes(msg[7:-1])


RMCP_IPMI = bytes([0x06, 0x00, 0xFF, 0x07])

# cipher suite -> (auth alg, integrity alg, confidentiality alg)
CIPHER_SUITES = {0: (0, 0, 0), 1: (1, 0, 0), 2: (1, 1, 0), 3: (1, 1, 1), 6: (2, 0, 0), 7: (2, 2, 0), 8: (2, 2, 1),
                 11: (2, 3, 0), 12: (2, 3, 1), 15: (3, 0, 0), 16: (3, 4, 0), 17: (3, 4, 1)}


def v15_sessionless(msg):
    """IPMI 1.5 framing, auth type none, session 0 (Get Channel Auth Caps and friends)."""
    return RMCP_IPMI + bytes([0x00]) + b"\0" * 8 + bytes([len(msg)]) + msg


def v20_sessionless(payload_type, payload):
    """RMCP+ framing, session 0, unauthenticated (Open Session, RAKP, Get Channel Cipher Suites)."""
    return RMCP_IPMI + bytes([0x06, payload_type]) + b"\0" * 8 + struct.pack("<H", len(payload)) + payload


def get_channel_auth_caps_request(seq=0, v2=True, priv=4):
    return v15_sessionless(ipmi_request_msg(0x06, 0x38, bytes([0x8E if v2 else 0x0E, priv]), seq=seq))


def get_cipher_suites_request(index=0, seq=0):
    return v20_sessionless(0x00, ipmi_request_msg(0x06, 0x54, bytes([0x0E, 0x00, 0x80 | index]), seq=seq))


def open_session_request(console_sid, suite=17, priv=0, tag=0):
    a, i, c = CIPHER_SUITES[suite]
    return v20_sessionless(0x10, bytes([tag, priv, 0, 0]) + struct.pack("<I", console_sid)
                           + bytes([0, 0, 0, 8, a, 0, 0, 0]) + bytes([1, 0, 0, 8, i, 0, 0, 0])
                           + bytes([2, 0, 0, 8, c, 0, 0, 0]))


class RmcpClient:
    """Session-less requests and one RMCP+ session (suites 2, 3, 7, 8, 16, 17 and the no-integrity ones)."""

    def __init__(self, port, timeout=1.0):
        self.port = port
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, 0))
        self.sid = 0          # BMC (managed system) session id
        self.console_sid = 0
        self.seq = 0          # outbound session sequence number
        self.rq_seq = 0
        self.suite = None
        self.k1 = self.k2 = None
        self.last_packet = None

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- datagrams

    def send(self, data):
        self.sock.sendto(bytes(data), (HOST, self.port))

    def recv(self, timeout=None):
        """One datagram or None after timeout seconds."""
        r, _, _ = select.select([self.sock], [], [], self.timeout if timeout is None else timeout)
        if not r:
            return None
        data, _ = self.sock.recvfrom(65536)
        return data

    def drain(self, timeout=0.0):
        got = []
        for _ in range(10000):
            d = self.recv(timeout)
            if d is None:
                break
            got.append(d)
        return got

    def exchange(self, data, timeout=None):
        self.send(data)
        return self.recv(timeout)

    def barrier(self, tag=0x5A, max_datagrams=10000):
        """Sends an ASF ping and reads until its pong: returns the datagrams that arrived before the pong.
        The daemon answers in order, so anything listed is a reply to something sent earlier."""
        self.send(asf_ping(tag))
        before = []
        deadline = time.monotonic() + 10
        for _ in range(max_datagrams):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            d = self.recv(min(left, 5))
            if d is None:
                break
            if is_pong(d, tag):
                return before
            before.append(d)
        raise IpmiError("no pong to the barrier ping (got {} other datagrams)".format(len(before)))

    # -- RMCP+ session

    def _hash(self):
        return {1: hashlib.sha1, 2: hashlib.md5, 3: hashlib.sha256}[CIPHER_SUITES[self.suite][0]]

    def open_session(self, user=ADMIN_USER, password=ADMIN_PASSWORD, suite=17, priv=4, kg=None, set_priv=True):
        """Open Session + RAKP 1..4 (+ Set Session Privilege to priv). Returns 0 on success, else
        (stage, status or completion code) of the failing step."""
        a, i, c = CIPHER_SUITES[suite]
        self.suite = suite
        self.console_sid = random.getrandbits(32) | 1
        rsp = self.exchange(open_session_request(self.console_sid, suite, priv=0))
        if rsp is None:
            return ("open", None)
        payload = rsp[16:]
        if payload[1] != 0:
            return ("open", payload[1])
        self.sid = struct.unpack("<I", payload[8:12])[0]
        rc = os.urandom(16)
        uname = user.encode()
        role = priv | 0x10
        rakp1 = bytes([0, 0, 0, 0]) + struct.pack("<I", self.sid) + rc + bytes([role, 0, 0, len(uname)]) + uname
        rsp = self.exchange(v20_sessionless(0x12, rakp1))
        if rsp is None:
            return ("rakp2", None)
        p = rsp[16:]
        if p[1] != 0:
            return ("rakp2", p[1])
        rm, guid = p[8:24], p[24:40]
        kuid = password.encode().ljust(20, b"\0")
        if a == 0:
            auth3 = b""
            sik = b""
        else:
            h = self._hash()
            auth3 = hmac.new(kuid, rm + struct.pack("<I", self.console_sid) + bytes([role, len(uname)]) + uname,
                             h).digest()
            kg_key = kg if kg is not None else kuid
            sik = hmac.new(kg_key, rc + rm + bytes([role, len(uname)]) + uname, h).digest()
            self.k1 = hmac.new(sik, b"\x01" * 20, h).digest()  # the constants are 20 bytes for every algorithm
            self.k2 = hmac.new(sik, b"\x02" * 20, h).digest()
        rakp3 = bytes([0, 0, 0, 0]) + struct.pack("<I", self.sid) + auth3
        rsp = self.exchange(v20_sessionless(0x14, rakp3))
        if rsp is None:
            return ("rakp4", None)
        p = rsp[16:]
        if p[1] != 0:
            return ("rakp4", p[1])
        if a != 0:  # the BMC proves it derived the same SIK: ICV = HMAC_SIK(Rc | SIDm | GUID), truncated
            h = self._hash()
            icv = hmac.new(sik, rc + struct.pack("<I", self.sid) + guid, h).digest()
            icv = icv[:{1: 12, 2: 16, 3: 16}[a]]
            if p[8:8 + len(icv)] != icv or len(p) != 8 + len(icv):
                return ("rakp4-icv", p[8:].hex())
        self.seq = 0
        if set_priv and priv > 2:  # a session starts at User level (§13.x); raise it like ipmitool does
            cc, _ = self.command(0x06, 0x3B, bytes([priv]))
            if cc != 0:
                return ("setpriv", cc)
        return 0

    def _integrity(self, data):
        alg = CIPHER_SUITES[self.suite][1]
        if alg == 1:
            return hmac.new(self.k1, data, hashlib.sha1).digest()[:12]
        if alg == 2:
            return hmac.new(self.k1, data, hashlib.md5).digest()[:12]
        if alg == 4:
            return hmac.new(self.k1, data, hashlib.sha256).digest()[:16]
        if alg == 3:
            raise IpmiError("MD5-128 integrity not implemented in the test client")
        return b""

    def session_packet(self, msg, seq=None, sid=None, payload_len=None):
        """An IPMI payload inside the session, with the negotiated integrity and confidentiality."""
        _, ialg, calg = CIPHER_SUITES[self.suite]
        if seq is None:
            self.seq += 1
            seq = self.seq
        ptype = 0x00
        payload = bytes(msg)
        if calg == 1:
            from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
            pad = (16 - (len(payload) + 1) % 16) % 16
            plain = payload + bytes(range(1, pad + 1)) + bytes([pad])
            iv = os.urandom(16)
            enc = Cipher(algorithms.AES(self.k2[:16]), modes.CBC(iv)).encryptor()
            payload = iv + enc.update(plain) + enc.finalize()
            ptype |= 0x80
        if ialg:
            ptype |= 0x40
        length = len(payload) if payload_len is None else payload_len
        body = bytes([0x06, ptype]) + struct.pack("<IIH", self.sid if sid is None else sid, seq, length) + payload
        if ialg:
            pad = (4 - (len(body) + 2) % 4) % 4
            body += b"\xff" * pad + bytes([pad, 0x07])
            body += self._integrity(body)
        pkt = RMCP_IPMI + body
        self.last_packet = pkt
        return pkt

    def _decode(self, pkt):
        if pkt is None or len(pkt) < 16 or pkt[4] != 0x06:
            raise IpmiError("not an RMCP+ reply: {}".format(pkt.hex() if pkt else None))
        ptype = pkt[5]
        length = struct.unpack("<H", pkt[14:16])[0]
        payload = pkt[16:16 + length]
        if ptype & 0x80:
            from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
            dec = Cipher(algorithms.AES(self.k2[:16]), modes.CBC(payload[:16])).decryptor()
            plain = dec.update(payload[16:]) + dec.finalize()
            payload = plain[:len(plain) - 1 - plain[-1]]
        return payload

    def command(self, netfn, cmd, data=b"", timeout=None):
        """A request in the session; returns (cc, data) or raises IpmiError on silence."""
        self.rq_seq = (self.rq_seq + 1) & 0x3F
        rsp = self.exchange(self.session_packet(ipmi_request_msg(netfn, cmd, data, seq=self.rq_seq)), timeout)
        if rsp is None:
            raise IpmiError("no reply to netfn 0x{:02x} cmd 0x{:02x}".format(netfn, cmd))
        _, _, _, cc, rdata = parse_ipmi_response(self._decode(rsp))
        return cc, rdata

    def close_session(self):
        return self.command(0x06, 0x3C, struct.pack("<I", self.sid))


class Rmcp15Client(RmcpClient):
    """An IPMI v1.5 session (MD5 or straight password or none): Get Session Challenge, Activate Session,
    Set Session Privilege, then per-message authenticated requests."""

    AUTH = {"none": 0, "md5": 2, "password": 4}

    def _authcode(self, sid, msg, seq):
        if self.auth == 0:
            return b""
        if self.auth == 4:
            return self.key
        return hashlib.md5(self.key + struct.pack("<I", sid) + msg + struct.pack("<I", seq) + self.key).digest()

    def packet15(self, msg, seq=None, sid=None, authcode=None):
        sid = self.sid if sid is None else sid
        if seq is None:
            seq = self.seq
            self.seq = (self.seq + 1) & 0xFFFFFFFF
        code = self._authcode(sid, msg, seq) if authcode is None else authcode
        pkt = RMCP_IPMI + bytes([self.auth]) + struct.pack("<II", seq, sid) + code + bytes([len(msg)]) + msg
        self.last_packet = pkt
        return pkt

    @staticmethod
    def payload15(pkt):
        if pkt is None or len(pkt) < 14:
            raise IpmiError("not an IPMI 1.5 reply: {}".format(pkt.hex() if pkt else None))
        off = 13 + (16 if pkt[4] != 0 else 0)
        return pkt[off + 1:off + 1 + pkt[off]]

    def open_session15(self, user=ADMIN_USER, password=ADMIN_PASSWORD, auth="md5", priv=4):
        """Returns 0 on success, else (stage, completion code or None)."""
        self.auth = self.AUTH[auth]
        self.key = password.encode().ljust(16, b"\0")[:16]
        name = user.encode().ljust(16, b"\0")
        rsp = self.exchange(v15_sessionless(ipmi_request_msg(0x06, 0x39, bytes([self.auth]) + name)))
        if rsp is None:
            return ("challenge", None)
        _, _, _, cc, data = parse_ipmi_response(self.payload15(rsp))
        if cc != 0:
            return ("challenge", cc)
        temp_sid, challenge = struct.unpack("<I", data[:4])[0], data[4:20]
        initial_out = random.getrandbits(31) | 1
        msg = ipmi_request_msg(0x06, 0x3A, bytes([self.auth, priv]) + challenge + struct.pack("<I", initial_out))
        rsp = self.exchange(self.packet15(msg, seq=0, sid=temp_sid))
        if rsp is None:
            return ("activate", None)
        _, _, _, cc, data = parse_ipmi_response(self.payload15(rsp))
        if cc != 0:
            return ("activate", cc)
        self.sid = struct.unpack("<I", data[1:5])[0]
        self.seq = struct.unpack("<I", data[5:9])[0]
        if priv > 2:
            cc, _ = self.command(0x06, 0x3B, bytes([priv]))
            if cc != 0:
                return ("setpriv", cc)
        return 0

    def command(self, netfn, cmd, data=b"", timeout=None):
        self.rq_seq = (self.rq_seq + 1) & 0x3F
        rsp = self.exchange(self.packet15(ipmi_request_msg(netfn, cmd, data, seq=self.rq_seq)), timeout)
        if rsp is None:
            raise IpmiError("no reply to netfn 0x{:02x} cmd 0x{:02x}".format(netfn, cmd))
        _, _, _, cc, rdata = parse_ipmi_response(self.payload15(rsp))
        return cc, rdata
