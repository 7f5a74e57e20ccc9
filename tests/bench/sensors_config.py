#!/usr/bin/python3
"""Writes a simbmcd config with N sensors (numbers 1..N) for the sensor benchmarks:

    tests/bench/sensors_config.py --sensors 200 --port 9623 --state-dir /tmp/bench-state \\
        --password secret > /tmp/bench.toml
    simbmcd --config /tmp/bench.toml &
    simbmc_bench_load --port 9623 --command sensor-reading --sensor-count 200 ...

A realistic mix: temperatures on waveforms, voltages and fans on random walks, power on a sine,
every fifth sensor discrete (presence). Each polls once a second, as a real BMC's scan does."""

import argparse
import json
import sys


def sensor(n):
    kind = n % 5
    lines = ["[[bmc.sensor]]", "number = {}".format(n)]
    if kind == 0:
        lines += ['name = "PSU{} Status"'.format(n), 'type = "power_supply"', 'source = { kind = "static", states = [0] }']
    elif kind == 1:
        lines += ['name = "Temp {}"'.format(n), 'type = "temperature"', "thresholds = { unc = 85, uc = 95, unr = 105 }",
                  "hysteresis = 2",
                  'source = {{ kind = "waveform", shape = "sine", min = 30, max = 60, period_ms = {} }}'.format(
                      60000 + 1000 * n)]
    elif kind == 2:
        lines += ['name = "Volt {}"'.format(n), 'type = "voltage"', "thresholds = { lc = 10.8, uc = 13.2 }",
                  'source = {{ kind = "waveform", shape = "random_walk", min = 11.8, max = 12.2, step = 0.1, '
                  "seed = {} }}".format(n)]
    elif kind == 3:
        lines += ['name = "Fan {}"'.format(n), 'type = "fan"', "thresholds = { lc = 400, lnc = 600 }",
                  'source = {{ kind = "waveform", shape = "random_walk", min = 4000, max = 6000, step = 50, '
                  "seed = {} }}".format(n)]
    else:
        lines += ['name = "Power {}"'.format(n), 'type = "power"', "thresholds = { uc = 800 }",
                  'source = {{ kind = "waveform", shape = "ramp", min = 100, max = 300, period_ms = {} }}'.format(
                      30000 + 100 * n)]
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sensors", type=int, default=200, help="number of sensors (1..254)")
    p.add_argument("--port", type=int, default=623)
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--state-dir", required=True)
    p.add_argument("--user", default="admin")
    p.add_argument("--password", required=True)
    a = p.parse_args()
    if not 1 <= a.sensors <= 254:
        p.error("--sensors must be 1..254")
    out = ['log_level = "warn"', "", "[[bmc]]", 'name = "bench"', "bind = {}".format(json.dumps(a.bind)),
           "port = {}".format(a.port), "state_dir = {}".format(json.dumps(a.state_dir)), "",
           "[[bmc.user]]", "name = {}".format(json.dumps(a.user)), "password = {}".format(json.dumps(a.password)),
           'privilege = "administrator"', ""]
    out += [sensor(n) + "\n" for n in range(1, a.sensors + 1)]
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
