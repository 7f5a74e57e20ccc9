#!/usr/bin/python3
"""Memory of simbmcd as its SEL and SDR repository grow: VmRSS at start, after 1,000 and 10,000 SEL entries,
after full walks of the SEL, with 1,000 SDRs in the repository and after full walks of those. Both stores
live on disk (SQLite), so RSS should stay flat; this script shows whether it does.

simbmcd runs with the embedded demo config (its sensors, FRU and Power Unit) plus a SEL big enough for the
entries. SEL entries are added with `simbmc_bench_load --command sel-add` (4 sessions), SDRs (48-byte OEM
records) with Add SDR over one RMCP+ session (the integration tests' RmcpClient). Walks: `ipmitool sel list`,
`ipmitool sdr elist all`, `ipmi-sensors --sdr-cache-recreate`.

Usage (release build):
    tests/bench/memory_bench.py --simbmcd build/release/bmc/daemon/simbmcd \\
        --bench build/release/tests/bench/simbmc_bench_load [--sel-entries 10000] [--sdrs 1000] [--json-out F]

Not a test: nothing is asserted. Traffic only to 127.0.0.1; only the process this script started is
signalled, by PID; every wait has a timeout.
"""

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent / "integration"))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from run_bench import LOOPBACK, Bmc, free_udp_ports, proc_sample  # noqa: E402
from harness import RmcpClient  # noqa: E402

USER = "admin"
PASSWORD = "mem-bench-pw1"


def log(msg):
    print(f"[memory_bench] {msg}", file=sys.stderr, flush=True)


def run(argv, timeout, env=None):
    t0 = time.monotonic()
    cp = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout, env=env)
    return cp, time.monotonic() - t0


def oem_record(i):
    """A 48-byte OEM SDR (type C0h, manufacturer 001357h) tagged with i (IPMI v2.0 §43.12)."""
    body = bytes([0x57, 0x13, 0x00]) + struct.pack("<H", i & 0xFFFF) + bytes((i + k) & 0xFF for k in range(38))
    return bytes([0x00, 0x00, 0x51, 0xC0, len(body)]) + body


class Run:
    def __init__(self, a, workdir):
        self.a = a
        self.workdir = workdir
        self.port = free_udp_ports(1)[0]
        state = workdir / "state"
        state.mkdir()
        cp = subprocess.run([str(a.simbmcd), "--print-default-config"], capture_output=True, text=True, timeout=30)
        conf = workdir / "simbmcd.toml"
        conf.write_text(cp.stdout + f"\n[bmc.sel]\ncapacity = {min(max(a.sel_entries + 100, 3639), 65534)}\n")
        argv = [str(a.simbmcd), "--config", str(conf), "--bind", LOOPBACK, "--port", str(self.port),
                "--state-dir", str(state), "--user", f"{USER}:{PASSWORD}:administrator", "--log-level", "warn"]
        self.bmc = Bmc("simbmcd", argv, self.port, workdir)
        self.rows = []
        self.env = dict(os.environ, SIMBMC_BENCH_PASSWORD=PASSWORD)

    def sample(self, what, seconds=None, note=""):
        time.sleep(0.3)  # let the io thread settle (sensor polls, SQLite checkpoints)
        p = proc_sample(self.bmc.pid)
        if p is None:
            raise SystemExit(f"simbmcd died:\n{self.bmc.log_tail()}")
        row = dict(step=what, rss_kb=p["rss_kb"], hwm_kb=p["hwm_kb"], seconds=seconds, note=note)
        self.rows.append(row)
        log(f"{what}: VmRSS {p['rss_kb'] / 1024:.2f} MB (peak {p['hwm_kb'] / 1024:.2f} MB)"
            + (f", {seconds:.1f} s" if seconds is not None else "") + (f", {note}" if note else ""))

    def ipmitool(self, *args, timeout=600):
        return run(["ipmitool", "-I", "lanplus", "-C", "3", "-H", LOOPBACK, "-p", self.port, "-U", USER,
                    "-P", PASSWORD, *args], timeout)

    def wait_ready(self):
        for _ in range(100):
            if not self.bmc.alive():
                raise SystemExit(f"simbmcd exited:\n{self.bmc.log_tail()}")
            cp, _ = run([self.a.bench, "--host", LOOPBACK, "--port", self.port, "--user", USER, "--probe",
                         "--cipher", "3"], 30, self.env)
            if cp.returncode == 0:
                return
            time.sleep(0.1)
        raise SystemExit("simbmcd did not answer")

    def add_sel(self, count):
        cp, secs = run([self.a.bench, "--host", LOOPBACK, "--port", self.port, "--user", USER, "--mode", "cmd",
                        "--command", "sel-add", "--count", count, "--sessions", "4", "--cipher", "3",
                        "--duration", "3600"], 3600, self.env)
        if cp.returncode != 0:
            raise SystemExit(f"sel-add failed:\n{cp.stdout}\n{cp.stderr}")
        return secs

    def add_sdrs(self, count, first_tag):
        t0 = time.monotonic()
        with RmcpClient(self.port, timeout=5.0) as c:
            if c.open_session(user=USER, password=PASSWORD) != 0:
                raise SystemExit("RMCP+ session refused")
            for i in range(count):
                cc, _ = c.command(0x0A, 0x24, oem_record(first_tag + i))
                if cc != 0:
                    raise SystemExit(f"Add SDR #{i} failed with 0x{cc:02x}")
        return time.monotonic() - t0

    def sdr_count(self):
        cp, _ = self.ipmitool("sdr", "info", timeout=60)
        for line in cp.stdout.splitlines():
            if line.strip().startswith("Record Count"):
                return int(line.split(":")[1])
        raise SystemExit(f"sdr info:\n{cp.stdout}\n{cp.stderr}")

    def go(self):
        a = self.a
        self.bmc.start()
        try:
            self.wait_ready()
            self.sample("start (demo config, empty SEL)")
            done = 0
            for target in sorted({min(1000, a.sel_entries), min(10000, a.sel_entries), a.sel_entries}):
                secs = self.add_sel(target - done)
                done = target
                self.sample(f"SEL at {done} entries", secs)
            cp, secs = self.ipmitool("sel", "list")
            self.sample("after ipmitool sel list", secs, f"{len(cp.stdout.splitlines())} lines")
            cp, secs = run(["ipmi-sel", "-D", "LAN_2_0", "-h", f"{LOOPBACK}:{self.port}", "-u", USER, "-p", PASSWORD,
                            "-l", "ADMIN", "--ignore-sdr-cache"], 600)
            self.sample("after ipmi-sel", secs, f"{len(cp.stdout.splitlines()) - 1} lines")

            have = self.sdr_count()
            secs = self.add_sdrs(max(0, a.sdrs - have), 1)
            self.sample(f"{self.sdr_count()} SDRs", secs)
            cp, secs = self.ipmitool("sdr", "elist", "all")
            self.sample("after ipmitool sdr elist all", secs, f"{len(cp.stdout.splitlines())} lines")
            cache = tempfile.mkdtemp(prefix="memory-bench-sdr-")
            try:
                cp, secs = run(["ipmi-sensors", "-D", "LAN_2_0", "-h", f"{LOOPBACK}:{self.port}", "-u", USER, "-p",
                                PASSWORD, "-l", "ADMIN", "--sdr-cache-directory", cache, "--quiet-cache",
                                "--sdr-cache-recreate"], 600)
            finally:
                shutil.rmtree(cache, ignore_errors=True)
            self.sample("after ipmi-sensors --sdr-cache-recreate", secs, f"{len(cp.stdout.splitlines()) - 1} sensors")
        finally:
            self.bmc.stop()
        return self.rows


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--simbmcd", type=Path, required=True)
    p.add_argument("--bench", type=Path, required=True, help="simbmc_bench_load")
    p.add_argument("--sel-entries", type=int, default=10000)
    p.add_argument("--sdrs", type=int, default=1000, help="repository size to reach with Add SDR")
    p.add_argument("--json-out", type=Path)
    p.add_argument("--keep-tmp", action="store_true")
    a = p.parse_args()
    a.simbmcd, a.bench = a.simbmcd.resolve(), a.bench.resolve()  # simbmcd runs in its work directory
    if not 1 <= a.sel_entries <= 65000 or not 1 <= a.sdrs <= 4000:
        raise SystemExit("--sel-entries 1..65000, --sdrs 1..4000")
    workdir = Path(tempfile.mkdtemp(prefix="memory-bench-"))
    try:
        rows = Run(a, workdir).go()
    finally:
        if a.keep_tmp:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"| step | VmRSS MB | peak MB | seconds | |\n| --- | --- | --- | --- | --- |")
    for r in rows:
        secs = "" if r["seconds"] is None else f"{r['seconds']:.1f}"
        print(f"| {r['step']} | {r['rss_kb'] / 1024:.2f} | {r['hwm_kb'] / 1024:.2f} | {secs} | {r['note']} |")
    if a.json_out:
        a.json_out.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
