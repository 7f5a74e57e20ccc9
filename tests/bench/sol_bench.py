#!/usr/bin/python3
"""SOL benchmark: throughput (characters/s, host -> client and client -> host) and keystroke-to-echo
latency, with 1 and with N concurrent SOL sessions, each on its own BMC instance of one simbmcd.

simbmcd runs N [[bmc]] instances on free 127.0.0.1 ports; each instance's host console is
sol_host.py (a `command` console: it echoes keystrokes and, on request, prints or swallows a given
number of bytes). One client process per instance speaks RMCP+ (cipher suite 17 by default) and SOL
(IPMI v2.0 §15.9) itself, like ipmitool: it ACKs every character packet, ignores repeated sequence
numbers and keeps one packet of its own outstanding, retransmitting it until ACKed. The phases run
in lock step across the sessions (a barrier), so the N-session numbers are N concurrent streams.

Not a test: nothing is asserted, numbers depend on the machine (and on Python for the client side).
Traffic only to 127.0.0.1; only processes started here are signalled, by PID; every wait is bounded.

    tests/bench/sol_bench.py --simbmcd build/release/bmc/daemon/simbmcd --sessions 1,16
"""

import argparse
import multiprocessing
import os
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.dont_write_bytecode = True  # importing the integration harness leaves no __pycache__ behind
sys.path.insert(0, str(HERE.parent / "integration"))

from harness import HOST, RMCP_IPMI, RmcpClient, asf_ping, ipmi_request_msg, is_pong, parse_ipmi_response  # noqa

USER, PASSWORD = "admin", "Bench-Sol-Pw42"


def log(msg):
    print("[sol_bench] " + msg, file=sys.stderr, flush=True)


# ---- the client ---------------------------------------------------------------------------------


class SolBenchClient(RmcpClient):
    def __init__(self, port):
        super().__init__(port, timeout=2.0)
        self.rx = bytearray()
        self.last_rx_seq = 0
        self.my_seq = 0
        self.acked = None  # (seq, accepted) of the last ACK for our packets

    def packet(self, payload, ptype):
        calg = {3: 1, 17: 1}.get(self.suite, 0)
        self.seq += 1
        body, pt = bytes(payload), ptype | 0x40
        if calg:
            from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
            pad = (16 - (len(body) + 1) % 16) % 16
            iv = os.urandom(16)
            enc = Cipher(algorithms.AES(self.k2[:16]), modes.CBC(iv)).encryptor()
            body = iv + enc.update(body + bytes(range(1, pad + 1)) + bytes([pad])) + enc.finalize()
            pt |= 0x80
        pkt = bytes([0x06, pt]) + struct.pack("<IIH", self.sid, self.seq, len(body)) + body
        pad = (4 - (len(pkt) + 2) % 4) % 4
        pkt += b"\xff" * pad + bytes([pad, 0x07])
        return RMCP_IPMI + pkt + self._integrity(pkt)

    def sol(self, seq, ack=0, accepted=0, data=b""):
        self.send(self.packet(bytes([seq, ack, accepted, 0]) + data, 0x01))

    def poll(self, timeout):
        """One datagram: SOL characters are ACKed and kept (once), ACKs recorded. Returns the IPMI payload
        of anything else, or None."""
        pkt = self.recv(timeout)
        if pkt is None or len(pkt) < 16 or pkt[4] != 0x06:
            return None
        payload = self._decode(pkt)
        if pkt[5] & 0x3F != 0x01:
            return payload
        seq, ack, accepted = payload[0] & 0x0F, payload[1] & 0x0F, payload[2]
        if ack:
            self.acked = (ack, accepted)
        if seq:
            data = payload[4:]
            if seq != self.last_rx_seq:
                self.rx += data
            self.last_rx_seq = seq
            self.sol(0, seq, len(data))
        return None

    def command(self, netfn, cmd, data=b"", timeout=None):
        self.rq_seq = (self.rq_seq + 1) & 0x3F
        self.send(self.session_packet(ipmi_request_msg(netfn, cmd, data, seq=self.rq_seq)))
        deadline = time.monotonic() + 5
        for _ in range(10000):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            p = self.poll(left)
            if p is not None:
                _, _, _, cc, rdata = parse_ipmi_response(p)
                return cc, rdata
        raise RuntimeError("no reply")

    def type(self, data, deadline):
        """Sends `data`, one outstanding packet of at most 255 characters, resending what was not accepted."""
        sent = 0
        while sent < len(data):
            chunk = data[sent:sent + 255]
            self.my_seq = self.my_seq % 15 + 1
            self.acked = None
            self.sol(self.my_seq, data=chunk)
            resend_at = time.monotonic() + 0.5
            for _ in range(1000000):
                now = time.monotonic()
                if now > deadline:
                    raise RuntimeError("timed out typing")
                if self.acked and self.acked[0] == self.my_seq:
                    break
                if now > resend_at:
                    self.sol(self.my_seq, data=chunk)
                    resend_at = now + 0.5
                self.poll(min(0.05, resend_at - now if resend_at > now else 0.001))
            sent += min(self.acked[1], len(chunk))

    def wait_for(self, marker, start, deadline):
        for _ in range(10000000):
            if self.rx.find(marker, start) >= 0:
                return True
            if time.monotonic() > deadline:
                return False
            self.poll(0.05)
        return False


def worker(port, barrier, cfg, results):
    c = SolBenchClient(port)
    out = {"port": port}
    try:
        if c.open_session(user=USER, password=PASSWORD, suite=cfg["suite"]) != 0:
            raise RuntimeError("login failed")
        cc, data = c.command(0x06, 0x48, bytes([1, 1, 0xC6 if cfg["suite"] in (3, 17) else 0x46, 0, 0, 0]))
        if cc != 0 or len(data) != 12:
            raise RuntimeError("activate: cc=0x{:02x}".format(cc))
        # Keystroke -> echo.
        barrier.wait(timeout=60)
        lat = []
        for i in range(cfg["keystrokes"]):
            ch = bytes([0x61 + i % 26])
            mark = len(c.rx)
            t0 = time.monotonic()
            c.type(ch, t0 + 10)
            if not c.wait_for(ch, mark, t0 + 10):
                raise RuntimeError("no echo")
            lat.append(time.monotonic() - t0)
        out["latency"] = lat
        # Host -> client.
        barrier.wait(timeout=120)
        mark = len(c.rx)
        t0 = time.monotonic()
        c.type(b"\x02O%d\r" % cfg["out_bytes"], t0 + 10)
        if not c.wait_for(b"\x03", mark, t0 + cfg["timeout"]):
            raise RuntimeError("host output did not arrive")
        got = c.rx.find(b"\x03", mark) - mark
        out["out_rate"] = got / (time.monotonic() - t0)
        out["out_ok"] = got == cfg["out_bytes"]
        # Client -> host.
        barrier.wait(timeout=120)
        mark = len(c.rx)
        t0 = time.monotonic()
        c.type(b"\x02I%d\r" % cfg["in_bytes"] + b"x" * cfg["in_bytes"], t0 + cfg["timeout"])
        if not c.wait_for(b"\x03", mark, t0 + cfg["timeout"]):
            raise RuntimeError("host did not confirm the input")
        out["in_rate"] = cfg["in_bytes"] / (time.monotonic() - t0)
        c.command(0x06, 0x49, bytes([1, 1, 0, 0, 0, 0]))
        c.close_session()
    except Exception as e:  # reported, never raised across the process boundary
        out["error"] = repr(e)
        try:
            barrier.abort()
        except Exception:
            pass
    finally:
        c.close()
    results.put(out)


# ---- the daemon ---------------------------------------------------------------------------------


def free_ports(n):
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((HOST, 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def config_text(ports, state_root, accumulate_ms, threshold):
    host = "exec /usr/bin/python3 -u {}".format(HERE / "sol_host.py")
    parts = ['log_level = "warn"']
    for i, port in enumerate(ports):
        parts.append("""
[[bmc]]
name = "sol{i}"
bind = "127.0.0.1"
port = {port}
state_dir = "{state}/sol{i}"
[bmc.lan]
max_sessions = 4
[bmc.console]
kind = "command"
command = "{host}"
[bmc.sol]
history_bytes = 0
accumulate_ms = {acc}
send_threshold = {thr}
[[bmc.user]]
name = "{user}"
password = "{pw}"
privilege = "administrator"
""".format(i=i, port=port, state=state_root, host=host, acc=accumulate_ms, thr=threshold, user=USER, pw=PASSWORD))
    return "\n".join(parts)


def wait_ready(proc, ports, seconds=30):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((HOST, 0))
    s.settimeout(0.1)
    try:
        pending = set(ports)
        deadline = time.monotonic() + seconds
        while pending and time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("simbmcd exited with {}".format(proc.returncode))
            for p in list(pending):
                s.sendto(asf_ping(1), (HOST, p))
                try:
                    data, _ = s.recvfrom(2048)
                    if is_pong(data):
                        pending.discard(p)
                except socket.timeout:
                    pass
        if pending:
            raise RuntimeError("instances not ready: {}".format(sorted(pending)))
    finally:
        s.close()


def cpu_seconds(pid):
    with open("/proc/{}/stat".format(pid)) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    with open("/proc/{}/status".format(pid)) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def run(simbmcd, sessions, cfg):
    tmp = tempfile.mkdtemp(prefix="simbmc-solbench-")
    ports = free_ports(sessions)
    conf = os.path.join(tmp, "simbmc.toml")
    with open(conf, "w") as f:
        f.write(config_text(ports, tmp, cfg["accumulate_ms"], cfg["threshold"]))
    err = open(os.path.join(tmp, "stderr.log"), "wb")
    proc = subprocess.Popen([simbmcd, "--config", conf], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=err, start_new_session=True)
    try:
        wait_ready(proc, ports)
        cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
        barrier = multiprocessing.Barrier(sessions)
        results = multiprocessing.Queue()
        workers = [multiprocessing.Process(target=worker, args=(p, barrier, cfg, results)) for p in ports]
        for w in workers:
            w.start()
        outs = []
        for _ in workers:
            try:
                outs.append(results.get(timeout=cfg["timeout"] * 3 + 120))
            except Exception:
                break
        for w in workers:
            w.join(timeout=10)
            if w.is_alive():
                w.kill()  # our own child process
        cpu = cpu_seconds(proc.pid) - cpu0
        wall = time.monotonic() - t0
        rss = rss_kib(proc.pid)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        err.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return outs, cpu, wall, rss


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--simbmcd", required=True)
    ap.add_argument("--sessions", default="1,16", help="comma separated session (instance) counts")
    ap.add_argument("--accumulate-ms", default="50,5", help="SOL character accumulate intervals to run")
    ap.add_argument("--threshold", type=int, default=96, help="SOL character send threshold")
    ap.add_argument("--suite", type=int, default=17, choices=(3, 17))
    ap.add_argument("--keystrokes", type=int, default=100)
    ap.add_argument("--out-bytes", type=int, default=200000)
    ap.add_argument("--in-bytes", type=int, default=50000)
    ap.add_argument("--timeout", type=float, default=120.0)
    args = ap.parse_args()
    cfg = dict(suite=args.suite, keystrokes=args.keystrokes, out_bytes=args.out_bytes, in_bytes=args.in_bytes,
               timeout=args.timeout, threshold=args.threshold)
    rows = []
    for acc in [int(x) for x in args.accumulate_ms.split(",")]:
        for n in [int(x) for x in args.sessions.split(",")]:
            cfg["accumulate_ms"] = acc
            log("sessions={} accumulate={} ms ...".format(n, acc))
            outs, cpu, wall, rss = run(args.simbmcd, n, cfg)
            errors = [o["error"] for o in outs if "error" in o]
            good = [o for o in outs if "error" not in o]
            if errors or len(good) != n:
                log("errors: {} (of {} sessions, {} results)".format(errors, n, len(outs)))
            if not good:
                continue
            lat = [x * 1000 for o in good for x in o["latency"]]
            out_rates = [o["out_rate"] for o in good]
            in_rates = [o["in_rate"] for o in good]
            rows.append((n, acc, len(good), statistics.median(out_rates), sum(out_rates), statistics.median(in_rates),
                         sum(in_rates), statistics.median(lat), pct(lat, 0.95), pct(lat, 0.99),
                         all(o["out_ok"] for o in good), cpu / wall * 100, rss))
    hdr = ("sessions", "acc_ms", "ok", "out c/s/sess", "out c/s total", "in c/s/sess", "in c/s total",
           "echo p50 ms", "p95 ms", "p99 ms", "exact", "bmc cpu %", "bmc rss KiB")
    print(" | ".join(hdr))
    for r in rows:
        print(" | ".join([str(r[0]), str(r[1]), str(r[2]), "{:.0f}".format(r[3]), "{:.0f}".format(r[4]),
                          "{:.0f}".format(r[5]), "{:.0f}".format(r[6]), "{:.1f}".format(r[7]), "{:.1f}".format(r[8]),
                          "{:.1f}".format(r[9]), "yes" if r[10] else "NO", "{:.0f}".format(r[11]), str(r[12])]))


if __name__ == "__main__":
    main()
