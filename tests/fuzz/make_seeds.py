#!/usr/bin/env python3
"""Writes the hand-made seed inputs of the three fuzz targets into corpus/<target>/seed_*.

Seeds are valid (or deliberately almost valid) protocol exchanges so the fuzzer starts from packets
that get past the parsers. The session fuzzer's seeds are record scripts for its harness (see the
comment at the top of lan_session_fuzzer.cpp); the harness does the crypto. Re-running this script
rewrites the seed_* files only; files the fuzzer found (named by their SHA-1) and regression_*
inputs are left alone.

Usage: tests/fuzz/make_seeds.py [corpus-dir]   (default: the corpus/ folder beside this script)
"""
import pathlib
import struct
import sys

APP, CHASSIS, TRANSPORT = 0x06, 0x00, 0x0C


def checksum(data):
    return (-sum(data)) & 0xFF


def lan_request(netfn, cmd, data=b"", rq_seq=1, lun=0):
    """An IPMI LAN request message, IPMI v2.0 §13.8."""
    head = bytes([0x20, (netfn << 2) | lun])
    body = bytes([0x81, rq_seq << 2, cmd]) + bytes(data)
    return head + bytes([checksum(head)]) + body + bytes([checksum(body)])


RMCP_IPMI = bytes([0x06, 0x00, 0xFF, 0x07])


def v15(message, auth_type=0, seq=0, sid=0, code=b""):
    """IPMI 1.5 session framing, IPMI v2.0 §13.6 Table 13-4."""
    return RMCP_IPMI + struct.pack("<BII", auth_type, seq, sid) + code + bytes([len(message)]) + message


def v20(payload_type, payload, sid=0, seq=0):
    """RMCP+ session-less framing, IPMI v2.0 §13.6 Table 13-8."""
    return RMCP_IPMI + struct.pack("<BBIIH", 0x06, payload_type, sid, seq, len(payload)) + payload


def open_session(auth, integrity, conf, priv=0, console_id=0xA0A1A2A3, tag=0x01):
    p = struct.pack("<BBHI", tag, priv, 0, console_id)
    for i, alg in enumerate((auth, integrity, conf)):
        p += struct.pack("<BHBB3x", i, 0, 8, alg)
    return p


def rakp1(bmc_id, name=b"admin", role=0x04):
    return struct.pack("<B3xI", 0x02, bmc_id) + bytes(range(16)) + struct.pack("<BHB", role, 0, len(name)) + name


def name16(name):
    return name + bytes(16 - len(name))


def packet_seeds():
    s = {}
    s["asf_ping"] = bytes([0x06, 0x00, 0xFF, 0x06]) + struct.pack(">I", 0x11BE) + bytes([0x80, 0x07, 0x00, 0x00])
    s["asf_pong"] = bytes([0x06, 0x00, 0xFF, 0x06]) + struct.pack(">I", 0x11BE) + bytes([0x40, 0x07, 0x00, 0x00])
    s["auth_caps_v15"] = v15(lan_request(APP, 0x38, [0x0E, 0x04]))
    s["auth_caps_v15_ext"] = v15(lan_request(APP, 0x38, [0x8E, 0x04]))
    s["auth_caps_v20"] = v20(0x00, lan_request(APP, 0x38, [0x8E, 0x04]))
    s["auth_caps_v15_pad"] = v15(lan_request(APP, 0x38, [0x0E, 0x04])) + b"\x00"
    s["cipher_suites_v15"] = v15(lan_request(APP, 0x54, [0x0E, 0x00, 0x80]))
    s["cipher_suites_v20_idx1"] = v20(0x00, lan_request(APP, 0x54, [0x0E, 0x00, 0x81]))
    s["cipher_suites_algs"] = v20(0x00, lan_request(APP, 0x54, [0x01, 0x00, 0x00]))
    s["system_guid_v15"] = v15(lan_request(APP, 0x37))
    s["system_guid_v20"] = v20(0x00, lan_request(APP, 0x37))
    s["device_id_outside_session"] = v20(0x00, lan_request(APP, 0x01))
    s["open_session_17"] = v20(0x10, open_session(3, 4, 1))
    s["open_session_3"] = v20(0x10, open_session(1, 1, 1, priv=4))
    s["open_session_0"] = v20(0x10, open_session(0, 0, 0))
    s["open_session_bad_suite"] = v20(0x10, open_session(3, 4, 2))
    s["rakp1"] = v20(0x12, rakp1(0x12345678))
    s["rakp3"] = v20(0x14, struct.pack("<BBHI", 0x03, 0, 0, 0x12345678) + bytes(32))
    s["session_challenge_md5"] = v15(lan_request(APP, 0x39, bytes([0x02]) + name16(b"admin")))
    s["session_challenge_none"] = v15(lan_request(APP, 0x39, bytes([0x00]) + name16(b"user")))
    s["session_challenge_md2"] = v15(lan_request(APP, 0x39, bytes([0x01]) + name16(b"operator")))
    activate = lan_request(APP, 0x3A, bytes([0x02, 0x04]) + bytes(16) + struct.pack("<I", 1))
    s["activate_unknown_session"] = v15(activate, auth_type=2, sid=0x01020304, code=bytes(16))
    s["v20_in_unknown_session"] = RMCP_IPMI + struct.pack("<BBIIH", 0x06, 0xC0, 0x01020304, 1, 32) + bytes(32) + \
        bytes([0xFF, 0xFF, 0x02, 0x07]) + bytes(16)
    return s


def record(selector, time, body):
    rec = bytes([selector, time]) + bytes(body)
    return struct.pack("<H", len(rec)) + rec


def session_script(*records, store=False):
    return bytes([0x01 if store else 0x00]) + b"".join(records)


# Session indexes the harness starts with: 0 = suite 17 admin, 1 = suite 3 operator, 2 = IPMI 1.5 MD5 admin.
# Mode 1 indexes the ids seen so far (the three logins' first, then later handshakes') and then those
# sessions: right after start, 0..2 are the logins' ids as seen, 3..5 the same three sessions.
def sel(mode, which=0):
    return (which << 3) | mode


def req(netfn, cmd, data=b"", lun=0):
    return bytes([(netfn << 2) | lun, cmd]) + bytes(data)


def session_seeds():
    s = {}
    # mode 2: well-formed requests in each session.
    for which, name in ((0, "s17"), (1, "s3"), (2, "v15")):
        s[f"device_id_{name}"] = session_script(record(sel(2, which), 0, req(APP, 0x01)))
        s[f"session_info_{name}"] = session_script(record(sel(2, which), 0, req(APP, 0x3D, [0x00])))
    s["app_tour"] = session_script(*[record(sel(2, 0), 0, r) for r in (
        req(APP, 0x04), req(APP, 0x07), req(APP, 0x08), req(APP, 0x2F), req(APP, 0x31), req(APP, 0x42, [0x0E]),
        req(APP, 0x44, [0x01, 0x02]), req(APP, 0x46, [0x02]), req(APP, 0x4D, [0x01, 0x02]), req(APP, 0x4E, [0x01]),
        req(APP, 0x4F, [0x01, 0x00]), req(APP, 0x54, [0x0E, 0x00, 0x80]), req(APP, 0x3D, [0xFE, 0x01]),
        req(APP, 0x3D, [0x02]), req(APP, 0x59, [0x00, 0x01, 0x00, 0x00]), req(APP, 0x41, [0x01, 0x40]))],
        store=True)
    s["user_admin"] = session_script(*[record(sel(2, 0), 0, r) for r in (
        req(APP, 0x45, [0x05] + list(name16(b"fuzzer"))), req(APP, 0x47, [0x05, 0x02] + list(name16(b"pw"))),
        req(APP, 0x47, [0x05, 0x01]), req(APP, 0x43, [0x91, 0x05, 0x04]), req(APP, 0x4C, [0x01, 0x05, 0x02, 0, 0, 0]),
        req(APP, 0x47, [0x05, 0x03] + list(name16(b"pw"))), req(APP, 0x46, [0x05]))],
        record(sel(5), 0, [12, 0, 0x04, 0x28]), store=True)
    s["chassis_tour"] = session_script(*[record(sel(2, 1), t, r) for t, r in (
        (0, req(CHASSIS, 0x00)), (0, req(CHASSIS, 0x01)), (0, req(CHASSIS, 0x02, [0x02])), (0, req(CHASSIS, 0x01)),
        (0x82, req(CHASSIS, 0x01)), (0, req(CHASSIS, 0x04, [0x05])), (0, req(CHASSIS, 0x06, [0x01])),
        (0, req(CHASSIS, 0x07)), (0, req(CHASSIS, 0x08, [0x05, 0x80, 0x04, 0, 0, 0])),
        (0, req(CHASSIS, 0x09, [0x05, 0, 0])), (0, req(CHASSIS, 0x0F)), (0, req(CHASSIS, 0x02, [0x05])),
        (0xC1, req(CHASSIS, 0x01)))], store=True)
    s["lan_config"] = session_script(*[record(sel(2, 0), 0, r) for r in (
        req(TRANSPORT, 0x02, [0x01, 0x00, 0x00, 0x00]), req(TRANSPORT, 0x02, [0x01, 0x17, 0x00, 0x00]),
        req(TRANSPORT, 0x02, [0x01, 0x18, 0x00, 0x00]), req(TRANSPORT, 0x02, [0x01, 0x1A, 0x00, 0x00]),
        req(TRANSPORT, 0x01, [0x01, 0x1A, 0x00, 0x03, 0x01, 0x00, 0x01, 0x00]), req(APP, 0x40, [0x01, 0x42, 0x44]))])
    s["privilege_and_close"] = session_script(*[record(sel(2, w), 0, r) for w, r in (
        (0, req(APP, 0x3B, [0x02])), (0, req(APP, 0x43, [0x91, 0x03, 0x04])), (0, req(APP, 0x3B, [0x04])),
        (1, req(APP, 0x3B, [0x04])), (0, req(APP, 0x3C, [0x00, 0x00, 0x00, 0x00, 0x02])), (1, req(APP, 0x01)),
        (2, req(APP, 0x3C, [0x00, 0x00, 0x00, 0x00])), (2, req(APP, 0x01)))])
    s["bad_requests"] = session_script(*[record(sel(2, 0), 0, r) for r in (
        req(APP, 0x01, [0x00]), req(APP, 0x38, [0x0E]), req(APP, 0x42), req(0x30, 0x01), req(APP, 0xFF),
        req(APP, 0x01, lun=1), req(CHASSIS, 0x02, [0x09]))])
    # mode 0 and 1: raw datagrams, and raw datagrams in a real session.
    ping = bytes([0x06, 0x00, 0xFF, 0x06]) + struct.pack(">I", 0x11BE) + bytes([0x80, 0x07, 0x00, 0x00])
    s["raw"] = session_script(record(sel(0), 0, ping), record(sel(0), 0, v15(lan_request(APP, 0x38, [0x8E, 0x04]))))
    s["raw_in_session"] = session_script(
        record(sel(1, 3), 0, v20(0x00, lan_request(APP, 0x01), sid=1, seq=5)),
        record(sel(1, 5), 0, v15(lan_request(APP, 0x01), auth_type=2, sid=1, seq=5, code=bytes(16))))
    # mode 5 then 1: a handshake the harness stops, continued by raw RAKP messages.
    s["raw_rakp"] = session_script(
        record(sel(5), 0, [11, 0, 0x04, 0x02]),
        record(sel(1, 3), 0, v20(0x12, rakp1(1))),
        record(sel(1, 3), 0, v20(0x14, struct.pack("<BBHI", 0x03, 0, 0, 1) + bytes(32))))
    s["raw_activate"] = session_script(
        record(sel(5), 0, [12, 0, 0x04, 0x22]),
        record(sel(1, 3), 0, v15(lan_request(APP, 0x3A, bytes([0x02, 0x04]) + bytes(16) + struct.pack("<I", 1)),
                                 auth_type=2, sid=1, code=bytes(16))))
    # mode 3: raw payloads, signed and encrypted.
    s["payloads"] = session_script(
        record(sel(3, 0), 0, bytes([0x00]) + lan_request(APP, 0x01)),
        record(sel(3, 0), 0, bytes([0x01, 0x01, 0x00, 0x00, 0x00]) + b"sol"),
        record(sel(3, 1), 0, bytes([0x00]) + lan_request(APP, 0x01)[:-1] + b"\x00"),
        record(sel(3, 2), 0, bytes([0x00]) + lan_request(APP, 0x01)))
    # mode 4: sequence numbers and the retry cache.
    s["sequence"] = session_script(
        record(sel(4, 0), 0, bytes([0x00, 0x05]) + req(APP, 0x01)),
        record(sel(4, 0), 0, bytes([0xFF, 0x05]) + req(APP, 0x01)),
        record(sel(4, 0), 0, bytes([0x00, 0x05]) + req(APP, 0x01)),
        record(sel(4, 0), 0, bytes([0x00, 0x05]) + req(APP, 0x01, lun=1)),
        record(sel(4, 0), 0, bytes([0x20, 0x06]) + req(APP, 0x01)),
        record(sel(4, 2), 0, bytes([0x00, 0x07]) + req(APP, 0x01)),
        record(sel(4, 2), 0, bytes([0xFE, 0x07]) + req(APP, 0x01)),
        record(sel(4, 2), 0, bytes([0x09, 0x08]) + req(APP, 0x01)))
    # mode 5: every suite, every 1.5 auth type, wrong passwords up to the lockout, unknown user.
    s["logins"] = session_script(*[record(sel(5), 0, [k, k % 3, (0x04, 0x03, 0x02)[k % 3], 0x08]) for k in range(12)],
                                 *[record(sel(5), 0, [12, 2, 0x02, 0x08 | (t << 4)]) for t in range(4)],
                                 *[record(sel(2, 3 + i), 0, req(APP, 0x01)) for i in range(9)])
    s["lockout"] = session_script(*[record(sel(5), 0, [11, 1, 0x03, 0x01]) for _ in range(6)],
                                  record(sel(5), 0, [11, 1, 0x03, 0x00]), record(sel(5), 0xC7, [11, 1, 0x03, 0x00]),
                                  record(sel(5), 0, [12, 0, 0x04, 0x21]), record(sel(5), 0, [3, 3, 0x04, 0x00]))
    s["role_name_only"] = session_script(record(sel(5), 0, [11, 0, 0x14, 0x08, 0x04]),
                                         record(sel(2, 3), 0, req(APP, 0x3D, [0x00])))
    # Serial over LAN: activate, type, let the simulated host boot, ACK, configuration, deactivate.
    s["sol"] = session_script(
        record(sel(2, 0), 0, req(APP, 0x48, [0x01, 0x01, 0x80, 0, 0, 0])),
        record(sel(3, 0), 0, bytes([0x01, 0x01, 0x00, 0x00, 0x00]) + b"root\r"),
        record(sel(3, 0), 0x83, bytes([0x01, 0x02, 0x00, 0x00, 0x00]) + b"simbmc\r"),
        record(sel(3, 0), 0x41, bytes([0x01, 0x00, 0x01, 0x40, 0x00])),
        record(sel(2, 0), 0, req(APP, 0x4A, [0x01])),
        record(sel(2, 0), 0, req(APP, 0x4B, [0x01, 0x01])),
        record(sel(2, 0), 0, req(APP, 0x55, [0x01, 0x01, 0x01])),
        record(sel(2, 0), 0, req(TRANSPORT, 0x22, [0x01, 0x01, 0x00, 0x00])),
        record(sel(2, 0), 0, req(TRANSPORT, 0x21, [0x01, 0x05, 0x0A])),
        record(sel(2, 1), 0, req(APP, 0x48, [0x01, 0x01, 0x00, 0, 0, 0])),
        record(sel(2, 0), 0x82, req(APP, 0x49, [0x01, 0x01, 0, 0, 0, 0])),
        record(sel(3, 0), 0, bytes([0x01, 0x03, 0x00, 0x00, 0x00]) + b"x"), store=True)
    # Hostile SOL in an active instance: short, header-only, every operation bit, NACKs, the largest
    # accepted packets and oversized ones, duplicates, plaintext in an encrypted activation, retries and
    # the stalled probe (time), then packets after the deactivation and other payload types.
    sol1 = lambda seq, ack=0, count=0, op=0, data=b"", plain=False: record(
        sel(3, 0), 0, bytes([0x81 if plain else 0x01, seq, ack, count, op]) + data)
    s["sol_hostile"] = session_script(
        record(sel(2, 0), 0, req(APP, 0x48, [0x01, 0x01, 0xC6, 0, 0, 0])),
        record(sel(3, 0), 0x41, b"\x01"), record(sel(3, 0), 0x88, b"\x01" + bytes(4)),  # retries, stall, probe
        record(sel(3, 0), 0, b"\x01\x01"), record(sel(3, 0), 0, b"\x01\x01\x00"),
        record(sel(3, 0), 0, b"\x01\x01\x00\x00"), sol1(0x01),
        sol1(0x02, op=0x10, data=b"x"), sol1(0x03, op=0x08, data=b"y"), record(sel(3, 0), 0x42, b"\x01" + bytes(4)),
        sol1(0x04, data=b"z"), sol1(0x05, op=0x03, data=b"q"), sol1(0x06, op=0x24, data=b"r"),
        sol1(0x00, ack=0x01, op=0x40), sol1(0x00, ack=0x01, count=0xFF), sol1(0x00, ack=0x0F, count=0x01),
        sol1(0x07, data=b"C" * 255), sol1(0x08, data=b"D" * 259), sol1(0x09, data=b"E" * 260),
        sol1(0x0A, data=b"F" * 1000), sol1(0x0A, data=b"F" * 1000), sol1(0x0B, data=b"G"), sol1(0x0B, data=b"G"),
        sol1(0xFF, ack=0xFF, count=0xFF, op=0xFF, data=b"H"), sol1(0x0C, data=b"I", plain=True),
        record(sel(3, 0), 0x86, b"\x01" + bytes(4)), record(sel(3, 0), 0xC1, bytes([0x01, 0x00, 0x02, 0x01, 0x00])),
        record(sel(2, 0), 0, req(APP, 0x49, [0x01, 0x01, 0, 0, 0, 0])),
        sol1(0x0D, data=b"J"), record(sel(3, 0), 0, bytes([0x02, 0x01, 0x00, 0x00, 0x00])),
        record(sel(3, 0), 0, bytes([0x3F, 0x01, 0x00])), record(sel(3, 2), 0, bytes([0x01, 0x01, 0x00, 0x00, 0x00])))
    # Suspend/Resume Payload Encryption (App 0x55): an unencrypted activation, start, suspend, the IV
    # regeneration, reserved operations and other types, then encryption forced while suspended (the
    # payload ends); a suite-2 session (integrity only) asking for encryption it cannot have.
    s["sol_suspend"] = session_script(
        record(sel(2, 0), 0, req(TRANSPORT, 0x21, [0x01, 0x02, 0x02])),
        record(sel(2, 0), 0, req(APP, 0x48, [0x01, 0x01, 0x00, 0, 0, 0])),
        sol1(0x01, data=b"\r", plain=True),
        record(sel(2, 0), 0, req(APP, 0x55, [0x01, 0x01, 0x01])), sol1(0x02, data=b"a"), sol1(0x03, data=b"b", plain=True),
        record(sel(2, 0), 0, req(APP, 0x55, [0x01, 0x01, 0x00])), sol1(0x04, data=b"c", plain=True),
        record(sel(2, 0), 0x41, req(APP, 0x55, [0x01, 0x01, 0x02])),
        *[record(sel(2, 0), 0, req(APP, 0x55, d)) for d in ([0x01, 0x01, 0x03], [0x00, 0x01, 0x00], [0x01, 0x00, 0x01],
                                                            [0x01, 0x02, 0x01], [0x01, 0x01], [0x01, 0x01, 0x01, 0x00])],
        record(sel(2, 1), 0, req(APP, 0x55, [0x01, 0x01, 0x01])),
        record(sel(2, 0), 0, req(TRANSPORT, 0x21, [0x01, 0x02, 0xC2])), sol1(0x05, data=b"d", plain=True),
        record(sel(2, 0), 0, req(TRANSPORT, 0x21, [0x01, 0x02, 0x02])),
        record(sel(5), 0, [2, 0, 0x04, 0x08]),
        record(sel(2, 3), 0, req(APP, 0x48, [0x01, 0x01, 0x40, 0, 0, 0])),
        record(sel(3, 3), 0, bytes([0x01, 0x01, 0x00, 0x00, 0x00]) + b"w"),
        record(sel(2, 3), 0, req(APP, 0x55, [0x01, 0x01, 0x01])), store=True)
    # Revocation: session 0 (admin, user 2) holds SOL; session 2 (1.5, admin) takes away what it relied on,
    # then gives it back and session 0 activates again.
    act = record(sel(2, 0), 0, req(APP, 0x48, [0x01, 0x01, 0xC6, 0, 0, 0]))
    revoke = lambda which, netfn, cmd, data: record(sel(2, which), 0, req(netfn, cmd, data))
    s["sol_revoke"] = session_script(
        act, sol1(0x01, data=b"\r"),
        revoke(2, APP, 0x4C, [0x01, 0x42, 0x02, 0, 0, 0]), sol1(0x02, data=b"x"), revoke(2, APP, 0x4C, [0x01, 0x02, 0x02, 0, 0, 0]),
        act, revoke(2, APP, 0x43, [0x91, 0x02, 0x03]), revoke(2, APP, 0x43, [0x91, 0x02, 0x04]),
        act, revoke(2, APP, 0x40, [0x01, 0x00, 0x83]), revoke(2, APP, 0x40, [0x01, 0x00, 0x84]),
        act, revoke(2, APP, 0x47, [0x02, 0x00]), revoke(2, APP, 0x47, [0x02, 0x01]),
        act, revoke(0, APP, 0x3B, [0x03]), revoke(0, APP, 0x3B, [0x04]),
        act, revoke(2, TRANSPORT, 0x21, [0x01, 0x01, 0x00]), sol1(0x03, data=b"y"), revoke(2, TRANSPORT, 0x21, [0x01, 0x01, 0x01]),
        act, revoke(2, TRANSPORT, 0x21, [0x01, 0x02, 0xC5]), revoke(2, TRANSPORT, 0x21, [0x01, 0x02, 0xC4]),
        act, sol1(0x04, data=b"z"), store=True)
    # mode 6 and 7: tampering and another peer.
    s["tamper"] = session_script(*[record(sel(6, w), 0, bytes([off, 0x01]) + req(APP, 0x01))
                                   for w in (0, 1, 2) for off in (3, 5, 8, 12, 17, 40)])
    s["replay"] = session_script(record(sel(2, 0), 0, req(APP, 0x01)), record(sel(6, 0), 0, [0, 0]),
                                 record(sel(2, 2), 0, req(APP, 0x01)), record(sel(6, 2), 0, [0, 0]),
                                 record(sel(2, 0), 0, req(APP, 0x04)), record(sel(6, 0), 0x82, [0, 0]))
    s["wrong_peer"] = session_script(record(sel(7, 0), 0, req(APP, 0x01)), record(sel(7, 2), 0, req(APP, 0x01)))
    # time: idle sessions expire, pending ones are reaped, the retry cache ages.
    s["expiry"] = session_script(record(sel(2, 0), 0xC6, req(APP, 0x01)), record(sel(2, 1), 0xC7, req(APP, 0x01)),
                                 record(sel(5), 0, [11, 0, 0x04, 0x02]), record(sel(5), 0x86, [11, 0, 0x04, 0x00]))
    return s


def disp(netfn, cmd, data=b"", priv=4, out_of_session=False, store=False, seconds=0, lun=0, ipmi20=True):
    flags = priv | (0x08 if out_of_session else 0) | (0x10 if ipmi20 else 0) | (0x40 if store else 0)
    return bytes([(lun << 6) | netfn, cmd, flags, seconds]) + bytes(data)


def dispatcher_seeds():
    s = {}
    app = {
        0x01: b"", 0x02: b"", 0x04: b"", 0x06: bytes([0x81, 0x80]), 0x07: b"", 0x08: b"", 0x2E: bytes([0x0C]),
        0x2F: b"", 0x30: bytes([0x01]), 0x31: b"", 0x37: b"", 0x38: bytes([0x8E, 0x04]), 0x3B: bytes([0x04]),
        0x3C: bytes([0, 0, 0, 0, 2]), 0x3D: bytes([0x01]), 0x40: bytes([0x01, 0x42, 0x44]), 0x41: bytes([0x01, 0x40]),
        0x42: bytes([0x0E]), 0x43: bytes([0x91, 0x02, 0x04]), 0x44: bytes([0x01, 0x02]), 0x45: bytes([3]) + name16(b"x"),
        0x46: bytes([0x02]), 0x47: bytes([0x02, 0x02]) + name16(b"pw"), 0x4C: bytes([0x01, 0x02, 0x02, 0, 0, 0]),
        0x4D: bytes([0x01, 0x02]), 0x4E: bytes([0x01]), 0x4F: bytes([0x01, 0x00]), 0x54: bytes([0x0E, 0x00, 0x80]),
        0x58: bytes([0x01, 0x00, 0x00, 0x05]) + b"simbm", 0x59: bytes([0x00, 0x01, 0x00, 0x00]),
    }
    for cmd, data in app.items():
        s[f"app_{cmd:02x}"] = disp(APP, cmd, data, store=cmd in (0x43, 0x45, 0x47, 0x58))
    chassis = {0x00: b"", 0x01: b"", 0x02: bytes([0x02]), 0x04: bytes([0x05, 0x00]), 0x06: bytes([0x01]), 0x07: b"",
               0x08: bytes([0x05, 0x80, 0x04, 0, 0, 0]), 0x09: bytes([0x05, 0, 0]), 0x0F: b""}
    for cmd, data in chassis.items():
        s[f"chassis_{cmd:02x}"] = disp(CHASSIS, cmd, data, store=cmd in (0x06, 0x08), seconds=3)
    s["transport_get_lan_01"] = disp(TRANSPORT, 0x02, [0x01, 0x01, 0x00, 0x00])
    s["transport_set_lan_1a"] = disp(TRANSPORT, 0x01, [0x01, 0x1A, 0x00, 0x03, 0x01, 0x00, 0x01, 0x00], store=True)
    s["out_of_session_auth_caps"] = disp(APP, 0x38, [0x0E, 0x04], priv=0, out_of_session=True)
    s["out_of_session_device_id"] = disp(APP, 0x01, priv=0, out_of_session=True)
    s["low_privilege"] = disp(APP, 0x47, bytes([0x02, 0x01]), priv=2)
    s["bad_lun"] = disp(APP, 0x01, lun=2)
    return s


def main():
    root = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent / "corpus"
    for target, seeds in (("lan_packet_fuzzer", packet_seeds()), ("lan_session_fuzzer", session_seeds()),
                          ("dispatcher_fuzzer", dispatcher_seeds())):
        out = root / target
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob("seed_*"):
            old.unlink()
        for name, data in seeds.items():
            (out / f"seed_{name}").write_bytes(data)
        print(f"{target}: {len(seeds)} seeds")


if __name__ == "__main__":
    main()
