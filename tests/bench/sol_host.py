#!/usr/bin/python3
"""Host side of sol_bench.py: run by simbmcd as a `[bmc.console] kind = "command"` console, so its stdin
is what SOL clients type and its stdout is what they see.

Echoes every byte it reads (keystroke-to-echo latency), except two commands introduced by 0x02:
  0x02 'O' <decimal n> CR   writes n bytes of a repeating pattern, then 0x03 (host -> client throughput)
  0x02 'I' <decimal n> CR   reads n more bytes without echoing them, then writes 0x03 (client -> host)
"""

import os
import sys

PATTERN = bytes(range(0x20, 0x7F))


def main():
    out = sys.stdout.buffer
    pending = b""
    swallow = 0
    while True:  # until EOF
        data = os.read(0, 65536)
        if not data:
            return
        if swallow:
            take = min(swallow, len(data))
            swallow -= take
            data = data[take:]
            if swallow == 0:
                out.write(b"\x03")
                out.flush()
        pending += data
        while pending:
            if pending[0] != 0x02:
                cut = pending.find(b"\x02")
                chunk = pending if cut < 0 else pending[:cut]
                out.write(chunk)
                out.flush()
                pending = pending[len(chunk):]
                continue
            end = pending.find(b"\r")
            if end < 0:
                break
            cmd, pending = pending[1:end], pending[end + 1:]
            n = int(cmd[1:] or b"0")
            if cmd[:1] == b"O":
                full, rest = divmod(n, len(PATTERN))
                out.write(PATTERN * full + PATTERN[:rest] + b"\x03")
                out.flush()
            elif cmd[:1] == b"I":
                take = min(n, len(pending))
                pending = pending[take:]
                swallow = n - take
                if swallow == 0:
                    out.write(b"\x03")
                    out.flush()


if __name__ == "__main__":
    main()
