#!/usr/bin/python3
"""Run the simbmc load matrix against simbmcd and, optionally, OpenIPMI's ipmi_sim; print a table.

Starts each BMC under test on a free 127.0.0.1 UDP port with a temporary state directory, drives it
with simbmc_bench_load (one process per step), samples the BMC's CPU and RSS from /proc, and prints
one table with a simbmcd / ipmi_sim ratio column. See README.md next to this file.

Safety: traffic only to 127.0.0.1; only the processes this script started are signalled, by PID;
every wait has a timeout. Not a test: the numbers depend on the machine and its load.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
LOOPBACK = "127.0.0.1"


def log(msg):
    print(f"[run_bench] {msg}", file=sys.stderr, flush=True)


def csv_ints(text):
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"expected comma separated integers: {text}") from e
    return values


def free_udp_ports(n):
    """n distinct free UDP ports on 127.0.0.1, found by binding port 0 (sockets held until all chosen)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((LOOPBACK, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def proc_sample(pid):
    """utime+stime in seconds, VmRSS and VmHWM in kB, or None if the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    ticks = int(fields[11]) + int(fields[12])  # proc(5) fields 14 and 15, counted after "comm"
    out = {"cpu_s": ticks / os.sysconf("SC_CLK_TCK"), "rss_kb": 0, "hwm_kb": 0}
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            out["rss_kb"] = int(line.split()[1])
        elif line.startswith("VmHWM:"):
            out["hwm_kb"] = int(line.split()[1])
    return out


class Bmc:
    """One BMC process this script started. Only ever signalled through its own PID."""

    def __init__(self, name, argv, port, workdir, workarounds=(), env=None):
        self.name = name
        self.argv = argv
        self.port = port
        self.workdir = workdir
        self.workarounds = list(workarounds)
        self.env = env
        self.proc = None
        self.logfile = workdir / "bmc.log"

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self, cpus=None):
        log(f"{self.name}: starting {' '.join(self.argv)} (port {self.port})")
        with open(self.logfile, "wb") as out:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                         cwd=self.workdir, env=self.env)
        if cpus:
            os.sched_setaffinity(self.proc.pid, cpus)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=5.0):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()  # SIGTERM to our own child's PID only
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log(f"{self.name}: no exit {timeout}s after SIGTERM, sending SIGKILL to pid {self.proc.pid}")
            self.proc.kill()
            self.proc.wait(timeout=timeout)

    def log_tail(self, lines=20):
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def make_simbmcd(path, port, workdir, user, password, extra, workarounds, sel_entries=0):
    state = workdir / "state"
    state.mkdir()
    argv = [str(path), "--bind", LOOPBACK, "--port", str(port), "--state-dir", str(state),
            "--user", f"{user}:{password}:administrator", *extra]
    if sel_entries > 0:
        # The embedded demo config with a SEL big enough for the SEL step ([bmc.sel] belongs to the
        # last [[bmc]] table above it).
        cp = subprocess.run([str(path), "--print-default-config"], capture_output=True, text=True, timeout=30)
        conf = workdir / "simbmcd.toml"
        conf.write_text(cp.stdout + f"\n[bmc.sel]\ncapacity = {min(max(sel_entries + 100, 3639), 65534)}\n")
        argv += ["--config", str(conf)]
    return Bmc("simbmcd", argv, port, workdir, workarounds=workarounds)


def make_ipmi_sim(name, path, port, workdir, user, password, sel_entries=0):
    """ipmi_sim with one BMC at 0x20 and one LAN channel on 127.0.0.1:port (see ipmi_lan(5)).

    ipmi_sim 2.0.33 offers RMCP+ with RAKP-HMAC-SHA1/MD5 only (cipher suites 0-3 and the MD5 ones),
    no HMAC-SHA256, so cipher 17 is reported as unsupported for it. lanserv offers every cipher
    suite it implements; lan.conf has no setting to restrict them.
    """
    for ch in "\"\\\n":
        if ch in password or ch in user:
            raise SystemExit("user/password for ipmi_sim must not contain quotes, backslashes or newlines")
    state = workdir / "state"
    state.mkdir()
    conf = workdir / "lan.conf"
    conf.write_text(f"""# generated by run_bench.py
name "bench"
set_working_mc 0x20
  startlan 1
    addr {LOOPBACK} {port}
    priv_limit admin
    allowed_auths_callback md5
    allowed_auths_user md5
    allowed_auths_operator md5
    allowed_auths_admin md5
    guid a123456789abcdefa123456789abcdef
  endlan
  # usernum enabled name password max-priv max-sessions allowed-auths
  user 2 true "{user}" "{password}" admin 64 md5
""")
    emu = workdir / "emu.cmds"
    emu.write_text("""# generated by run_bench.py: a bare BMC, enough for Get Device ID
mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
""" + (f"sel_enable 0x20 {max(sel_entries, 1000)} 0x0a\n" if sel_entries > 0 else "") + """mc_enable 0x20
""")
    argv = [str(path), "-c", str(conf), "-f", str(emu), "-s", str(state), "-n"]
    # ipmi_sim answers an Open Session Request for "highest privilege" (0) with maximum privilege 0,
    # which libfreeipmi rejects; FreeIPMI's `opensesspriv` workaround asks for the level explicitly.
    return Bmc(name, argv, port, workdir, workarounds=["opensesspriv"])


class Runner:
    def __init__(self, args):
        self.args = args
        self.bench_env = dict(os.environ, SIMBMC_BENCH_PASSWORD=args.password)
        self.client_cpus = None
        self.bmc_cpus = None
        if args.pin:
            cpus = sorted(os.sched_getaffinity(0))
            if len(cpus) >= 2:
                self.bmc_cpus = {cpus[0]}
                self.client_cpus = set(cpus[1:])
            else:
                log("--pin ignored: fewer than 2 CPUs available")

    def bench(self, bmc, extra, timeout, session_timeout_ms=None, lean=False):
        binary = self.args.lean_bench if lean else self.args.bench
        argv = [str(binary), "--host", LOOPBACK, "--port", str(bmc.port), "--user", self.args.user,
                "--privilege", "admin", "--session-timeout-ms", str(session_timeout_ms or self.args.session_timeout_ms),
                "--retransmit-ms", str(self.args.retransmit_ms), *extra]
        if lean:
            argv += ["--threads", str(self.args.lean_threads)]
        elif bmc.workarounds:  # libfreeipmi's; the lean client asks for the privilege level explicitly
            argv += ["--workaround", ",".join(bmc.workarounds)]
        preexec = (lambda: os.sched_setaffinity(0, self.client_cpus)) if self.client_cpus else None
        try:
            cp = subprocess.run(argv, env=self.bench_env, capture_output=True, text=True, timeout=timeout,
                                preexec_fn=preexec)
        except subprocess.TimeoutExpired:
            log(f"{bmc.name}: load generator timed out after {timeout:.0f}s: {' '.join(argv)}")
            return None, ""
        return cp, cp.stderr

    def wait_ready(self, bmc, auths):
        """Poll with one open + Get Device ID + close until it works, the process exits, or time is up."""
        deadline = time.monotonic() + self.args.start_timeout
        attempts = 0
        last_err = ""
        while time.monotonic() < deadline and attempts < 1000:
            attempts += 1
            if not bmc.alive():
                log(f"{bmc.name}: exited with code {bmc.proc.returncode} during start-up\n{bmc.log_tail()}")
                return False
            for auth in auths:
                # Short timeout: a BMC still starting up should cost little per attempt.
                cp, err = self.bench(bmc, ["--probe", *auth_flags(auth)], timeout=10, session_timeout_ms=1000)
                if cp is not None and cp.returncode == 0:
                    log(f"{bmc.name}: ready (pid {bmc.pid}, {auth} after {attempts} attempt(s))")
                    return True
                last_err = err.strip()
            time.sleep(0.2)
        log(f"{bmc.name}: not answering after {self.args.start_timeout}s: {last_err}\n{bmc.log_tail()}")
        return False

    def run_json(self, bmc, extra, n_configs, label, duration=None, lean=False):
        step_s = 2 * (duration or self.args.duration) + 10 + 2 * self.args.session_timeout_ms / 1000
        cp, err = self.bench(bmc, [*extra, "--json", "--bmc-pid", str(bmc.pid)], timeout=n_configs * step_s + 30,
                             lean=lean)
        rows = []
        if cp is not None:
            for line in cp.stdout.splitlines():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    log(f"{bmc.name}: unparsable output line: {line}")
        if err.strip():
            log(f"{bmc.name} {label}: {err.strip()}")
        for r in rows:
            msg = f"{r['mode']} {r['auth']} x{r['sessions']}: {r['rate_per_s']:.0f}/s p99={r['latency_us']['p99']}us"
            if r["errors"]:
                msg += f" errors={r['errors']} ({r['first_error']})"
            log(f"{bmc.name}: {msg}")
        return rows

    def walk(self, bmc, tool):
        """One full SEL listing by a real client: (seconds, exit code, entries printed)."""
        a = self.args
        if tool == "ipmitool sel list":
            argv = [a.ipmitool, "-I", "lanplus", "-C", "3", "-H", LOOPBACK, "-p", str(bmc.port), "-U", a.user,
                    "-P", a.password, "sel", "list"]
            row = re.compile(r"^\s*[0-9a-f]+ \|")
        else:
            argv = [a.ipmi_sel, "-D", "LAN_2_0", "-I", "3", "-h", f"{LOOPBACK}:{bmc.port}", "-u", a.user,
                    "-p", a.password, "--ignore-sdr-cache"]
            if bmc.workarounds:
                argv += ["-W", ",".join(bmc.workarounds)]
            row = re.compile(r"^\s*\d+\s*\|")
        t0 = time.monotonic()
        try:
            cp = subprocess.run(argv, capture_output=True, text=True, timeout=a.sel_walk_timeout,
                                env=dict(os.environ, TZ="UTC"))
        except subprocess.TimeoutExpired:
            log(f"{bmc.name}: {tool} timed out after {a.sel_walk_timeout}s")
            return {"seconds": None, "rc": -1, "entries": 0}
        seconds = time.monotonic() - t0
        n = sum(1 for line in cp.stdout.splitlines() if row.match(line))
        if cp.returncode != 0:
            log(f"{bmc.name}: {tool} exited {cp.returncode}: {cp.stderr.strip()[:200]}")
        log(f"{bmc.name}: {tool}: {n} entries in {seconds:.2f}s")
        return {"seconds": seconds, "rc": cp.returncode, "entries": n}

    def measure_sel(self, bmc):
        """The SEL step: fill with Add SEL Entry (4 sessions), Get SEL Entry rate, then full walks by
        ipmitool and ipmi-sel; the BMC's RSS around each."""
        a = self.args
        out = {"entries": a.sel_entries, "memory": {"before_fill": proc_sample(bmc.pid)}, "get": [], "walks": {}}
        rows = self.run_json(bmc, ["--mode", "cmd", "--command", "sel-add", "--sessions", "4", "--count",
                                   str(a.sel_entries), "--duration", str(a.sel_fill_max_seconds),
                                   *auth_flags("cipher3")], 1, "sel fill", duration=a.sel_fill_max_seconds)
        out["fill"] = rows[0] if rows else None
        out["memory"]["after_fill"] = proc_sample(bmc.pid)
        for n in a.sel_sessions:
            out["get"] += self.run_json(bmc, ["--mode", "cmd", "--command", "sel-get", "--sessions", str(n),
                                              "--duration", str(a.duration), *auth_flags("cipher3")], 1,
                                        f"sel-get x{n}")
        out["memory"]["after_get"] = proc_sample(bmc.pid)
        for tool in ("ipmitool sel list", "ipmi-sel"):
            out["walks"][tool] = self.walk(bmc, tool)
            out["memory"][f"after {tool}"] = proc_sample(bmc.pid)
        return out

    def measure(self, bmcs):
        """The whole matrix, interleaved: each configuration runs on every BMC back to back (the
        order alternating between repetitions), so that load from elsewhere on the machine hits
        all BMCs alike. Only one BMC is under load at any moment; the others idle."""
        a = self.args
        res = {b.name: {"name": b.name, "pid": b.pid, "port": b.port, "cmd": [], "session": [], "cycles": [],
                        "memory": {"start": proc_sample(b.pid)}, "alive_at_end": True} for b in bmcs}
        auths = ([] if a.no_v15 else ["v15"]) + [f"cipher{c}" for c in a.ciphers]
        steps = [("cmd", auth, n) for auth in auths for n in a.sessions]
        steps += [("session", auth, n) for auth in auths for n in a.session_threads]
        if a.sel_only:
            steps = []
        for rep in range(a.repeat):
            order = bmcs if rep % 2 == 0 else list(reversed(bmcs))
            for mode, auth, n in steps:
                for b in order:
                    if not b.alive():
                        continue
                    lean = a.lean_bench is not None and mode == "cmd" and auth != "v15"
                    rows = self.run_json(b, ["--mode", mode, "--sessions", str(n), "--duration", str(a.duration),
                                             *auth_flags(auth)], 1, f"{mode} {auth} x{n}", lean=lean)
                    for r in rows:
                        r["repeat"] = rep
                    res[b.name][mode] += rows
        for b in bmcs:
            res[b.name]["memory"]["after_matrix"] = proc_sample(b.pid)
        if a.sel_entries > 0:
            for b in bmcs:
                if b.alive():
                    res[b.name]["sel"] = self.measure_sel(b)
        done = {b.name: 0 for b in bmcs}
        for target in ([] if a.sel_only else sorted(set(a.cycles))):
            for b in bmcs:
                requested = target - done[b.name]
                if not b.alive() or requested <= 0:
                    continue
                t0 = time.monotonic()
                rows = self.run_json(b, ["--mode", "session", "--sessions", str(a.cycle_threads), "--count",
                                         str(requested), "--duration", str(a.cycle_max_seconds),
                                         *auth_flags(a.cycle_auth)], 1, f"cycles {target}",
                                     duration=a.cycle_max_seconds)
                completed = rows[0]["ops"] if rows else 0
                done[b.name] += completed
                if completed < requested:
                    log(f"{b.name}: only {done[b.name]} of {target} cycles completed "
                        f"(time cap {a.cycle_max_seconds}s or errors)")
                res[b.name]["cycles"].append({
                    "target": target, "completed_total": done[b.name], "auth": a.cycle_auth,
                    "seconds": time.monotonic() - t0, "rate_per_s": rows[0]["rate_per_s"] if rows else 0,
                    "errors": rows[0]["errors"] if rows else None, "memory": proc_sample(b.pid)})
        for b in bmcs:
            res[b.name]["memory"]["end"] = proc_sample(b.pid)
            res[b.name]["alive_at_end"] = b.alive()
            if not b.alive():
                log(f"{b.name}: DIED during the run (exit code {b.proc.returncode})\n{b.log_tail()}")
        return [res[b.name] for b in bmcs]


def auth_flags(auth):
    return ["--v15"] if auth == "v15" else ["--cipher", auth.removeprefix("cipher")]


# ---- report ------------------------------------------------------------------------------------

def fmt_num(v):
    if v is None:
        return "n/a"
    if isinstance(v, str):
        return v
    if isinstance(v, float):
        return f"{v:.1f}" if abs(v) < 1000 else f"{v:.0f}"
    return str(v)


def short_error(r):
    return "FAILED: " + (r["first_error"] or "no operation completed")[:60]


def bmc_cpu_per_op(r):
    """BMC CPU us per operation, or None when the window's CPU time is too small to mean anything:
    /proc counts CPU in clock ticks (10 ms), so at least 5 ticks are required."""
    bmc = r.get("bmc") or {}
    return bmc.get("cpu_us_per_op") if bmc.get("cpu_s", 0) >= 0.05 else None


def median(values):
    v = sorted(values)
    n = len(v)
    return None if n == 0 else (v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2)


def grouped(rows):
    """Rows of one mode grouped by configuration, in first-seen order: {(auth, sessions): [rows]}."""
    out = {}
    for r in rows:
        out.setdefault((r["auth"], r["sessions"]), []).append(r)
    return out


def table_rows(result):
    """(section, config, metric) -> value for one BMC; medians over the repetitions that completed
    operations. A configuration where none did gets one "status" row carrying the error."""
    rows = {}
    sections = (("cmd", "Get Device ID", [("cmd/s (+)", lambda r: r["rate_per_s"]),
                                          ("p50 us", lambda r: r["latency_us"]["p50"]),
                                          ("p90 us", lambda r: r["latency_us"]["p90"]),
                                          ("p99 us", lambda r: r["latency_us"]["p99"]),
                                          ("BMC CPU us/cmd", bmc_cpu_per_op)]),
                ("session", "Session open+close", [("setups/s (+)", lambda r: r["rate_per_s"]),
                                                   ("open p50 us", lambda r: r["open_latency_us"]["p50"]),
                                                   ("cycle p99 us", lambda r: r["latency_us"]["p99"]),
                                                   ("BMC CPU us/setup", bmc_cpu_per_op)]))
    for mode, section, metrics in sections:
        for (auth, n), runs in grouped(result[mode]).items():
            cfg = f"{auth} x{n}"
            good = [r for r in runs if r["ops"] > 0]
            if not good:
                rows[(section, cfg, "status")] = short_error(runs[0])
                continue
            for name, get in metrics:
                vals = [v for v in (get(r) for r in good) if v is not None and v >= 0]
                rows[(section, cfg, name)] = median(vals)
            if len(good) > 1:
                rates = [r["rate_per_s"] for r in good]
                rows[(section, cfg, "rate spread %")] = 100.0 * (max(rates) - min(rates)) / max(max(rates), 1e-9)
            if len(good) < len(runs):
                rows[(section, cfg, "failed runs")] = f"{len(runs) - len(good)}: {short_error(runs[0])}"
            if mode == "cmd" and min(r["sessions_open"] for r in good) != n:
                rows[(section, cfg, "sessions opened")] = min(r["sessions_open"] for r in good)
            if mode == "session" and any(r["errors"] for r in good):
                rows[(section, cfg, "failed opens")] = median([r["errors"] for r in good])
    sel = result.get("sel")
    if sel:
        section = f"SEL, {sel['entries']} entries"
        f = sel.get("fill")
        if f and f["ops"] > 0:
            rows[(section, "Add SEL Entry x4", "adds/s (+)")] = f["rate_per_s"]
            rows[(section, "Add SEL Entry x4", "p50 us")] = f["latency_us"]["p50"]
            rows[(section, "Add SEL Entry x4", "p99 us")] = f["latency_us"]["p99"]
            if f["ops"] < sel["entries"]:
                rows[(section, "Add SEL Entry x4", "failed runs")] = f"only {f['ops']} added: {short_error(f)}"
        elif f:
            rows[(section, "Add SEL Entry x4", "status")] = short_error(f)
        for g in sel["get"]:
            cfg = f"Get SEL Entry x{g['sessions']}"
            if g["ops"] == 0:
                rows[(section, cfg, "status")] = short_error(g)
                continue
            rows[(section, cfg, "cmd/s (+)")] = g["rate_per_s"]
            rows[(section, cfg, "p50 us")] = g["latency_us"]["p50"]
            rows[(section, cfg, "p99 us")] = g["latency_us"]["p99"]
            rows[(section, cfg, "BMC CPU us/cmd")] = bmc_cpu_per_op(g)
        for tool, w in sel["walks"].items():
            rows[(section, tool, "seconds")] = w["seconds"]
            rows[(section, tool, "entries listed")] = w["entries"]
        for key, label in (("before_fill", "before fill"), ("after_fill", "after fill"), ("after_get", "after gets"),
                           ("after ipmitool sel list", "after sel list"), ("after ipmi-sel", "after ipmi-sel")):
            if sel["memory"].get(key):
                rows[(section, "VmRSS kB", label)] = sel["memory"][key]["rss_kb"]
    mem = result["memory"]
    for key, label in (("start", "at start"), ("after_matrix", "after matrix")):
        if mem.get(key):
            rows[("Memory", "VmRSS kB", label)] = mem[key]["rss_kb"]
    for c in result["cycles"]:
        if c["memory"]:
            rows[("Memory", "VmRSS kB", f"after {c['completed_total']} cycles")] = c["memory"]["rss_kb"]
    if mem.get("end"):
        rows[("Memory", "VmRSS kB", "at end")] = mem["end"]["rss_kb"]
        rows[("Memory", "VmHWM kB", "peak")] = mem["end"]["hwm_kb"]
        if mem.get("start"):
            rows[("Memory", "BMC CPU s", "whole run")] = mem["end"]["cpu_s"] - mem["start"]["cpu_s"]
    return rows


NO_RATIO = {"status", "rate spread %", "failed runs", "sessions opened", "failed opens", "entries listed"}


def print_table(results, subject, baseline):
    per = {r["name"]: table_rows(r) for r in results}
    names = [r["name"] for r in results]
    keys = []
    for r in results:
        for k in per[r["name"]]:
            if k not in keys:
                keys.append(k)
    with_ratio = subject in per and baseline in per
    header = ["section", "config", "metric", *names] + ([f"{subject}/{baseline}"] if with_ratio else [])
    lines = []
    for k in keys:
        vals = [per[n].get(k) for n in names]
        row = [*k, *(fmt_num(v) for v in vals)]
        if with_ratio:
            s, b = per[subject].get(k), per[baseline].get(k)
            if k[2] in NO_RATIO:
                row.append("")
            elif isinstance(s, (int, float)) and isinstance(b, (int, float)) and b:
                row.append(f"{s / b:.2f}")
            else:
                row.append("n/a")
        lines.append(row)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines)]
    out = ["  ".join(str(x).ljust(w) for x, w in zip(header, widths))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(str(x).ljust(w) for x, w in zip(row, widths)) for row in lines]
    print("\n".join(out))
    print("(+) higher is better; for every other metric lower is better. n/a: not supported or no "
          "operation completed (see the log lines above).")


# ---- main --------------------------------------------------------------------------------------

def find_bench(name="simbmc_bench_load"):
    for preset in ("release", "ci", "dev"):
        p = REPO / "build" / preset / "tests" / "bench" / name
        if p.exists():
            return p
    return None


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bench", type=Path, help="simbmc_bench_load binary (default: build/{release,ci,dev}/...)")
    p.add_argument("--simbmcd", type=Path, help="simbmcd binary to measure (the subject)")
    p.add_argument("--simbmcd-arg", action="append", default=[], help="extra simbmcd argument (repeatable)")
    p.add_argument("--simbmcd-workaround", action="append", default=[],
                   help="FreeIPMI workaround for the simbmcd runs, e.g. opensesspriv (repeatable; normally none)")
    p.add_argument("--compare-ipmi-sim", action="store_true", help="also measure OpenIPMI ipmi_sim (the baseline)")
    p.add_argument("--subject-ipmi-sim", action="store_true",
                   help="use a second ipmi_sim as the subject instead of simbmcd (validates the harness)")
    p.add_argument("--ipmi-sim", type=Path, default=Path("/usr/bin/ipmi_sim"), help="ipmi_sim binary")
    p.add_argument("--user", default="admin")
    p.add_argument("--password", default="benchpass1", help="at most 16 characters (IPMI 1.5), no ':'")
    p.add_argument("--lean", action="store_true",
                   help="drive the RMCP+ Get Device ID steps with simbmc_bench_rmcpp (lean client: keyed-once "
                        "crypto contexts, recvmmsg/sendmmsg) instead of libfreeipmi, so that the client is not "
                        "the bottleneck; IPMI 1.5 and session steps keep simbmc_bench_load")
    p.add_argument("--lean-bench", type=Path, help="simbmc_bench_rmcpp binary (default: build/{release,ci,dev}/...)")
    p.add_argument("--lean-threads", type=int, default=1, help="client threads of the lean client (default 1)")
    p.add_argument("--duration", type=float, default=2.0, help="seconds per configuration (default 2)")
    p.add_argument("--repeat", type=int, default=1,
                   help="run the matrix this many times; the table shows medians (default 1)")
    p.add_argument("--sessions", type=csv_ints, default=[1, 4, 16, 64], help="cmd-mode session counts")
    p.add_argument("--ciphers", type=csv_ints, default=[3, 17], help="RMCP+ cipher suites (default 3,17)")
    p.add_argument("--no-v15", action="store_true", help="skip IPMI 1.5 (MD5) configurations")
    p.add_argument("--session-threads", type=csv_ints, default=[1, 4],
                   help="concurrent open+close loops for the session-rate step (default 1,4)")
    p.add_argument("--cycles", type=csv_ints, default=[100, 1000],
                   help="cumulative session open/close cycle counts after which RSS is sampled "
                        "(default 100,1000; a full run uses 1000,100000)")
    p.add_argument("--cycle-auth", default="cipher3", help="auth for the cycle step: v15 or cipherN (default cipher3)")
    p.add_argument("--cycle-threads", type=int, default=4, help="concurrent loops in the cycle step (default 4)")
    p.add_argument("--cycle-max-seconds", type=float, default=600, help="time cap for each cycle step (default 600)")
    p.add_argument("--session-timeout-ms", type=int, default=5000)
    p.add_argument("--retransmit-ms", type=int, default=500)
    p.add_argument("--start-timeout", type=float, default=15.0, help="seconds to wait for a BMC to answer")
    p.add_argument("--pin", action="store_true", help="pin each BMC to the first CPU, the load generator to the rest")
    p.add_argument("--sel-entries", type=int, default=0,
                   help="SEL step: fill the SEL with this many entries (Add SEL Entry), measure Get SEL Entry "
                        "and full `ipmitool sel list` / `ipmi-sel` walks (default 0 = skip; 10000 in the issue)")
    p.add_argument("--sel-sessions", type=csv_ints, default=[1, 4], help="Get SEL Entry session counts (default 1,4)")
    p.add_argument("--sel-only", action="store_true", help="only the SEL step: no Get Device ID/session matrix, "
                                                           "no cycles")
    p.add_argument("--sel-fill-max-seconds", type=float, default=900, help="time cap for the SEL fill (default 900)")
    p.add_argument("--sel-walk-timeout", type=float, default=600, help="time cap for one SEL walk (default 600)")
    p.add_argument("--ipmitool", default=shutil.which("ipmitool") or "/usr/bin/ipmitool")
    p.add_argument("--ipmi-sel", default=shutil.which("ipmi-sel") or "/usr/sbin/ipmi-sel")
    p.add_argument("--json-out", type=Path, help="write all raw results to this JSON file")
    p.add_argument("--keep-tmp", action="store_true", help="keep the temporary directory (configs, logs, state)")
    a = p.parse_args(argv)
    if a.lean:
        a.lean_bench = a.lean_bench or find_bench("simbmc_bench_rmcpp")
        if a.lean_bench is None or not a.lean_bench.exists():
            p.error("simbmc_bench_rmcpp not found: build it (target simbmc_bench_rmcpp) and pass --lean-bench PATH")
    else:
        a.lean_bench = None
    if a.bench is None:
        a.bench = find_bench()
    if a.bench is None or not a.bench.exists():
        p.error("simbmc_bench_load not found: build it (target simbmc_bench_load) and pass --bench PATH")
    if not (a.simbmcd or a.compare_ipmi_sim or a.subject_ipmi_sim):
        p.error("nothing to measure: give --simbmcd PATH and/or --compare-ipmi-sim")
    if a.simbmcd and a.subject_ipmi_sim:
        p.error("--simbmcd and --subject-ipmi-sim are exclusive")
    if ":" in a.password or len(a.password) > 16 or not a.password:
        p.error("--password: 1-16 characters, no ':'")
    if a.cycle_auth != "v15" and not (a.cycle_auth.startswith("cipher") and a.cycle_auth[6:].isdigit()):
        p.error("--cycle-auth: v15 or cipherN")
    if not 0 <= a.sel_entries <= 65534:
        p.error("--sel-entries: 0..65534")
    if a.sel_only and a.sel_entries <= 0:
        p.error("--sel-only needs --sel-entries")
    if not 1 <= a.repeat <= 100:
        p.error("--repeat: 1..100")
    if a.duration <= 0 or a.duration > 3600:
        p.error("--duration: (0, 3600]")
    return a


def main(argv):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = Path(tempfile.mkdtemp(prefix="simbmc-bench-"))
    bmcs = []
    results = []
    status = 0
    try:
        ports = free_udp_ports(2)
        subject = baseline = None
        if args.simbmcd:
            d = tmp / "simbmcd"
            d.mkdir()
            bmcs.append(make_simbmcd(args.simbmcd.resolve(), ports[0], d, args.user, args.password, args.simbmcd_arg,
                                     args.simbmcd_workaround, args.sel_entries))
            subject = "simbmcd"
        elif args.subject_ipmi_sim:
            d = tmp / "ipmi_sim-subject"
            d.mkdir()
            bmcs.append(make_ipmi_sim("ipmi_sim#2", args.ipmi_sim, ports[0], d, args.user, args.password,
                                      args.sel_entries))
            subject = "ipmi_sim#2"
        if args.compare_ipmi_sim:
            d = tmp / "ipmi_sim"
            d.mkdir()
            bmcs.append(make_ipmi_sim("ipmi_sim", args.ipmi_sim, ports[1], d, args.user, args.password,
                                      args.sel_entries))
            baseline = "ipmi_sim"
        runner = Runner(args)
        probe_auths = [f"cipher{c}" for c in args.ciphers] + ([] if args.no_v15 else ["v15"])
        ready = []
        for bmc in bmcs:
            bmc.start(runner.bmc_cpus)
            if runner.wait_ready(bmc, probe_auths):
                ready.append(bmc)
            else:
                status = 1
                bmc.stop()
        if ready:
            results = runner.measure(ready)
            status |= 0 if all(r["alive_at_end"] for r in results) else 1
        for bmc in bmcs:
            bmc.stop()
        if results:
            print()
            print_table(results, subject, baseline)
        if args.json_out:
            args.json_out.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items() if k != "password"},
                                                 "results": results}, indent=2))
            log(f"raw results written to {args.json_out}")
    finally:
        for bmc in bmcs:
            bmc.stop()
        if args.keep_tmp:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
