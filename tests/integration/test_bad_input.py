#!/usr/bin/python3
"""Bad input: malformed requests inside a session get completion codes (0xC7, 0xCC, 0xC1, 0xD4);
malformed, truncated, oversized, unauthenticated and replayed datagrams get no reply at all and never
crash the daemon; session-less replies are limited to the few commands that allow them and are small."""

import os
import random
import struct

from harness import (ADMIN_PASSWORD, ADMIN_USER, DaemonTestCase, IpmiError, RmcpClient, RMCP_IPMI, asf_ping,
                     fields, get_channel_auth_caps_request, get_cipher_suites_request, ipmi_request_msg, is_pong,
                     main, open_session_request, parse_ipmi_response, poll, v15_sessionless, v20_sessionless)

LOW_USER, LOW_PASSWORD = "lowuser", "Low-User-Pw-77"
OP_USER, OP_PASSWORD = "opuser", "Op-User-Pw-88"
USERS = [dict(name=ADMIN_USER, password=ADMIN_PASSWORD, privilege="administrator"),
         dict(name=LOW_USER, password=LOW_PASSWORD, privilege="user"),
         dict(name=OP_USER, password=OP_PASSWORD, privilege="operator")]


class CompletionCodes(DaemonTestCase):
    """ipmitool raw requests with wrong lengths, bad fields, unknown commands, missing privilege."""

    config = dict(users=USERS)

    def raw_cc(self, *args, **kw):
        r = self.daemon.ipmitool("raw", *args, **kw)
        self.assertLess(r.elapsed, 8.0, "no completion code: the request was left unanswered\n" + r.describe())
        return r

    def expect(self, cc, *args, **kw):
        r = self.raw_cc(*args, **kw)
        self.assertNotEqual(r.rc, 0, r.describe())
        self.assertIn("rsp=0x{:02x}".format(cc), r.err, r.describe())
        return r

    def test_one_byte_long(self):
        for req in (["0x06", "0x01", "0x00"],             # Get Device ID + 1
                    ["0x06", "0x37", "0x00"],             # Get System GUID + 1
                    ["0x06", "0x04", "0x00"],             # Get Self Test Results + 1
                    ["0x00", "0x01", "0x00"],             # Get Chassis Status + 1
                    ["0x00", "0x02", "0x01", "0x00"],     # Chassis Control (1 byte) + 1
                    ["0x00", "0x06", "0x03", "0x00"],     # Set Power Restore Policy + 1
                    ["0x00", "0x07", "0x00"],             # Get System Restart Cause + 1
                    ["0x00", "0x0f", "0x00"],             # Get POH Counter + 1
                    ["0x06", "0x42", "0x01", "0x00"],     # Get Channel Info + 1
                    ["0x06", "0x3b", "0x04", "0x00"]):    # Set Session Privilege + 1
            with self.subTest(req=" ".join(req)):
                self.expect(0xC7, *req)

    def test_one_byte_short(self):
        for req in (["0x06", "0x3b"],                     # Set Session Privilege, no data
                    ["0x00", "0x02"],                     # Chassis Control, no data
                    ["0x00", "0x06"],                     # Set Power Restore Policy, no data
                    ["0x06", "0x42"],                     # Get Channel Info, no data
                    ["0x06", "0x46"],                     # Get User Name, no data
                    ["0x06", "0x44", "0x01"],             # Get User Access, 1 of 2
                    ["0x00", "0x09", "0x05", "0x00"],     # Get System Boot Options, 2 of 3
                    ["0x06", "0x54", "0x0e", "0x00"]):    # Get Channel Cipher Suites, 2 of 3
            with self.subTest(req=" ".join(req)):
                self.expect(0xC7, *req)

    def test_bad_fields(self):
        for req in (["0x00", "0x02", "0x09"],             # chassis control 9
                    ["0x06", "0x3b", "0x09"],             # privilege level 9
                    ["0x00", "0x06", "0x07"],             # restore policy 7
                    ["0x06", "0x42", "0x09"]):            # channel 9 does not exist
            with self.subTest(req=" ".join(req)):
                self.expect(0xCC, *req)

    def test_unknown_commands(self):
        for req in (["0x06", "0xfe"], ["0x2c", "0x00", "0x00"], ["0x00", "0x7f"], ["0x30", "0x01"]):
            with self.subTest(req=" ".join(req)):
                self.expect(0xC1, *req)

    def test_privilege(self):
        low = dict(user=LOW_USER, password=LOW_PASSWORD, priv="USER")
        r = self.assertOk(self.daemon.ipmitool("chassis", "power", "status", **low))
        self.assertRegex(r.out, r"Chassis Power is (on|off)")
        r = self.assertFails(self.daemon.ipmitool("chassis", "power", "off", **low))
        self.assertIn("Insufficient privilege level", r.err, r.describe())
        self.expect(0xD4, "0x00", "0x02", "0x00", **low)
        self.expect(0xD4, "0x06", "0x45", "0x05", *(["0x41"] * 16), **low)  # Set User Name
        op = dict(user=OP_USER, password=OP_PASSWORD, priv="OPERATOR")
        self.assertOk(self.daemon.ipmitool("chassis", "identify", "1", **op))
        self.expect(0xD4, "0x06", "0x45", "0x05", *(["0x41"] * 16), **op)   # operator cannot manage users
        # Raising the session privilege above the user's limit is refused.
        r = self.raw_cc("0x06", "0x3b", "0x04", **low)
        self.assertNotEqual(r.rc, 0, r.describe())
        self.assertRegex(r.err, r"rsp=0x(81|d4)", r.describe())
        r = self.assertOk(self.daemon.ipmitool("chassis", "power", "status"))
        self.assertDaemonAlive()

    def test_still_works(self):
        r = self.assertOk(self.daemon.ipmitool("mc", "info"))
        self.assertEqual(fields(r.out).get("Device ID"), "32", r.describe())


class MalformedDatagrams(DaemonTestCase):
    """Datagrams straight to the port. The daemon answers in order, so an ASF ping after a batch works as a
    barrier: anything that arrives before its pong is a reply to the batch."""

    config = dict(users=USERS, lan=dict(cipher_suites=[17, 3, 2]))

    def setUp(self):
        self.client = RmcpClient(self.daemon.port)
        self.addCleanup(self.client.close)
        self.tag = 0

    def barrier(self):
        """ASF ping until its pong (bounded: 5 tries x 2 s); returns the datagrams seen before the pong."""
        seen = []
        for _ in range(5):
            self.tag = (self.tag + 1) & 0xFF
            self.client.send(asf_ping(self.tag))
            for _ in range(1000):
                d = self.client.recv(2.0)
                if d is None:
                    break
                if is_pong(d, self.tag):
                    return seen
                if not is_pong(d):
                    seen.append(d)
        self.fail("the daemon stopped answering ASF pings (alive={})".format(self.daemon.alive()))

    def assertNoReply(self, datagrams, what, batch=100):
        datagrams = list(datagrams)
        for i in range(0, len(datagrams), batch):
            for d in datagrams[i:i + batch]:
                self.client.send(d)
            replies = self.barrier()
            self.assertEqual(replies, [], "{}: got replies to datagrams {}..{}: {}".format(
                what, i, i + batch - 1, [r.hex() for r in replies[:5]]))
        self.assertDaemonAlive()

    def tearDown(self):
        self.assertDaemonAlive()

    # --

    def test_empty_and_tiny(self):
        self.assertNoReply([b"", b"\x06", b"\x06\x00", b"\x06\x00\xff", b"\x06\x00\xff\x07", b"\x06\x00\xff\x06"],
                           "empty/tiny")

    def test_random_garbage(self):
        rng = random.Random(0x51B3C)
        datagrams = []
        for i in range(2000):
            n = rng.randint(1, 1500)
            body = bytes(rng.getrandbits(8) for _ in range(n))
            kind = i % 4
            if kind == 1:
                body = RMCP_IPMI + body                           # RMCP class IPMI, random rest
            elif kind == 2:
                body = RMCP_IPMI + b"\x06" + body                 # RMCP+, random rest
            elif kind == 3:
                body = RMCP_IPMI + b"\x00" + body                 # IPMI 1.5 auth none, random rest
            datagrams.append(body)
        self.assertNoReply(datagrams, "random garbage", batch=200)

    def test_truncated_valid_packets(self):
        caps = get_channel_auth_caps_request()
        opn = open_session_request(0x11223344, 17)
        suites = get_cipher_suites_request(0)
        prefixes = [p[:i] for p in (caps, opn, suites) for i in range(len(p))]
        self.assertNoReply(prefixes, "truncated packets")
        # ... and the complete ones are answered.
        self.assertIsNotNone(self.client.exchange(caps), "Get Channel Auth Caps unanswered")
        self.assertIsNotNone(self.client.exchange(suites), "Get Channel Cipher Suites unanswered")
        self.client.drain(0.2)

    def test_oversized_and_rmcp_oddities(self):
        pong = bytes([0x06, 0x00, 0xFF, 0x06, 0x00, 0x00, 0x11, 0xBE, 0x40, 0x07, 0x00, 0x10]) + bytes(16)
        self.assertNoReply([
            b"\xff" * 1400,                                         # oversized garbage
            RMCP_IPMI + b"\x00" * 1396,                             # oversized, zero
            bytes([0x06, 0x00, 0x05, 0x86]),                        # RMCP ACK (ASF class)
            bytes([0x06, 0x00, 0x05, 0x87]),                        # RMCP ACK (IPMI class)
            pong,                                                   # ASF pong: never answered
            bytes([0x07, 0x00, 0xFF, 0x06]) + asf_ping(1)[4:],      # wrong RMCP version
            bytes([0x06, 0x00, 0xFF, 0x08]) + bytes(20),            # OEM class
            asf_ping(2)[:11],                                       # truncated ping
        ], "oversized / RMCP oddities")

    def test_bad_length_fields(self):
        msg = ipmi_request_msg(0x06, 0x38, b"\x8e\x04")
        v15_huge = RMCP_IPMI + b"\x00" + b"\0" * 8 + b"\xff" + msg                       # length 255, 9 present
        v15_md5_huge = RMCP_IPMI + b"\x02" + b"\0" * 4 + b"\x78\x56\x34\x12" + bytes(16) + b"\xff" + msg
        v20_ffff = RMCP_IPMI + b"\x06\x00" + b"\0" * 8 + b"\xff\xff" + msg                # payload 0xFFFF
        v20_auth_ffff = RMCP_IPMI + b"\x06\xc0" + b"\x78\x56\x34\x12" + b"\x01\0\0\0" + b"\xff\xff" + msg
        v20_open_ffff = RMCP_IPMI + b"\x06\x10" + b"\0" * 8 + b"\xff\xff" + open_session_request(1, 17)[16:]
        v15_zero = RMCP_IPMI + b"\x00" + b"\0" * 8 + b"\x00"                              # length 0
        v20_zero = RMCP_IPMI + b"\x06\x00" + b"\0" * 8 + b"\x00\x00"                      # payload 0
        bad_checksum = v15_sessionless(msg[:2] + bytes([msg[2] ^ 0x55]) + msg[3:])
        bad_checksum2 = v15_sessionless(msg[:-1] + bytes([msg[-1] ^ 0x55]))
        self.assertNoReply([v15_huge, v15_md5_huge, v20_ffff, v20_auth_ffff, v20_open_ffff, v15_zero, v20_zero,
                            bad_checksum, bad_checksum2], "bad length fields / checksums")

    def test_sessionless_only_where_allowed(self):
        # Session-less (session 0) commands other than the pre-session ones must be dropped.
        forbidden = [
            v15_sessionless(ipmi_request_msg(0x06, 0x01)),                 # Get Device ID
            v15_sessionless(ipmi_request_msg(0x00, 0x02, b"\x00")),        # Chassis Control: power off!
            v15_sessionless(ipmi_request_msg(0x00, 0x01)),                 # Get Chassis Status
            v20_sessionless(0x00, ipmi_request_msg(0x06, 0x01)),           # the same in RMCP+ framing
            v20_sessionless(0x00, ipmi_request_msg(0x00, 0x02, b"\x00")),
            v20_sessionless(0x00, ipmi_request_msg(0x06, 0x45, b"\x05" + b"A" * 16)),  # Set User Name
            v20_sessionless(0x01, b"\x01\x00\x00\x00hello"),               # SOL payload outside a session
        ]
        self.assertNoReply(forbidden, "session-less commands")
        r = self.assertOk(self.daemon.ipmitool("chassis", "power", "status"))
        self.assertIn("Chassis Power is on", r.out, "a session-less Chassis Control was executed\n" + r.describe())
        # Allowed: Get System GUID and Get Channel Auth Caps get a reply.
        for req in (v15_sessionless(ipmi_request_msg(0x06, 0x37)), get_channel_auth_caps_request()):
            rsp = self.client.exchange(req)
            self.assertIsNotNone(rsp, "no reply to " + req.hex())
            _, _, _, cc, _ = parse_ipmi_response(rsp[14:])
            self.assertEqual(cc, 0, rsp.hex())

    def test_unknown_session_ids(self):
        msg = ipmi_request_msg(0x06, 0x01)
        rng = random.Random(7)
        datagrams = []
        for _ in range(50):
            sid = struct.pack("<I", rng.getrandbits(32) | 1)
            datagrams.append(RMCP_IPMI + b"\x06\xc0" + sid + b"\x01\0\0\0" + struct.pack("<H", len(msg)) + msg
                             + b"\xff\xff\x02\x07" + os.urandom(16))
            datagrams.append(RMCP_IPMI + b"\x06\x00" + sid + b"\x01\0\0\0" + struct.pack("<H", len(msg)) + msg)
            datagrams.append(RMCP_IPMI + b"\x02" + b"\x01\0\0\0" + sid + os.urandom(16) + bytes([len(msg)]) + msg)
            datagrams.append(RMCP_IPMI + b"\x00" + b"\x01\0\0\0" + sid + bytes([len(msg)]) + msg)
        # RAKP 1 / RAKP 3 for sessions that were never opened.
        datagrams.append(v20_sessionless(0x12, b"\0\0\0\0" + struct.pack("<I", 0xDEADBEEF) + os.urandom(16)
                                         + b"\x14\0\0\x05admin"))
        datagrams.append(v20_sessionless(0x14, b"\0\0\0\0" + struct.pack("<I", 0xDEADBEEF) + os.urandom(32)))
        replies = []
        for d in datagrams[:-2]:
            self.client.send(d)
        replies += self.barrier()
        self.assertEqual(replies, [], "replies to packets for unknown sessions: {}".format(
            [r.hex() for r in replies[:5]]))
        # RAKP for an unknown session may be answered with an error status, but never with success.
        for d in datagrams[-2:]:
            self.client.send(d)
            for rsp in self.barrier():
                self.assertGreaterEqual(len(rsp), 18, rsp.hex())
                self.assertNotEqual(rsp[17], 0, "RAKP for an unknown session succeeded: " + rsp.hex())

    def test_session_packets(self):
        for suite in (17, 3, 2):
            with self.subTest(suite=suite):
                c = RmcpClient(self.daemon.port)
                try:
                    self.assertEqual(c.open_session(suite=suite), 0)
                    cc, data = c.command(0x06, 0x01)
                    self.assertEqual((cc, len(data)), (0, 15))
                    # Exact replay of an authenticated packet: dropped.
                    last = c.last_packet
                    c.send(last)
                    self.assertIsNone(c.recv(0.3), "replayed packet answered (suite {})".format(suite))
                    # Corrupted integrity code: dropped.
                    pkt = bytearray(c.session_packet(ipmi_request_msg(0x06, 0x01, seq=5)))
                    pkt[-1] ^= 0x01
                    c.send(bytes(pkt))
                    self.assertIsNone(c.recv(0.3), "bad integrity answered")
                    # Corrupted payload byte (integrity covers it): dropped.
                    pkt = bytearray(c.session_packet(ipmi_request_msg(0x06, 0x01, seq=6)))
                    pkt[20] ^= 0x01
                    c.send(bytes(pkt))
                    self.assertIsNone(c.recv(0.3), "tampered payload answered")
                    # Unauthenticated payload inside an authenticated session: dropped.
                    msg = ipmi_request_msg(0x06, 0x01, seq=7)
                    c.send(RMCP_IPMI + b"\x06\x00" + struct.pack("<IIH", c.sid, c.seq + 1, len(msg)) + msg)
                    self.assertIsNone(c.recv(0.3), "unauthenticated packet in a session answered")
                    # IPMI 1.5 framing with the RMCP+ session id: dropped.
                    c.send(RMCP_IPMI + b"\x00" + struct.pack("<II", c.seq + 2, c.sid) + bytes([len(msg)]) + msg)
                    self.assertIsNone(c.recv(0.3), "v1.5 framing with an RMCP+ session id answered")
                    # Far ahead of the window: dropped.
                    c.send(c.session_packet(ipmi_request_msg(0x06, 0x01, seq=8), seq=c.seq + 1000))
                    self.assertIsNone(c.recv(0.3), "sequence number far ahead answered")
                    # The session still works.
                    cc, data = c.command(0x06, 0x01)
                    self.assertEqual(cc, 0)
                    cc, _ = c.close_session()
                    self.assertEqual(cc, 0)
                    # After Close Session, the old keys open nothing.
                    c.send(c.session_packet(ipmi_request_msg(0x06, 0x01, seq=9)))
                    self.assertIsNone(c.recv(0.3), "packet for a closed session answered")
                    c.send(last)
                    self.assertIsNone(c.recv(0.3), "replay after close answered")
                finally:
                    c.close()
        self.assertOk(self.daemon.ipmitool("mc", "info"))

    def test_rakp_out_of_order_and_repeated(self):
        # A completed session, then its RAKP 1 and RAKP 3 replayed: no second session, the first one intact.
        c = RmcpClient(self.daemon.port)
        try:
            self.assertEqual(c.open_session(suite=17), 0)
            rakp1 = v20_sessionless(0x12, b"\0\0\0\0" + struct.pack("<I", c.sid) + os.urandom(16)
                                    + bytes([0x14, 0, 0, len(ADMIN_USER)]) + ADMIN_USER.encode())
            c.send(rakp1)
            c.send(v20_sessionless(0x14, b"\0\0\0\0" + struct.pack("<I", c.sid) + os.urandom(32)))
            for rsp in c.drain(0.3):
                if len(rsp) >= 18 and rsp[5] in (0x13, 0x15):
                    self.assertNotEqual(rsp[17], 0, "a repeated RAKP message succeeded: " + rsp.hex())
            cc, data = c.command(0x06, 0x01)
            self.assertEqual(cc, 0, "the established session must survive repeated RAKP messages")
            c.close_session()
        finally:
            c.close()
        # RAKP 3 before RAKP 1 on a fresh Open Session.
        c = RmcpClient(self.daemon.port)
        try:
            rsp = c.exchange(open_session_request(0x01020304, 17))
            self.assertIsNotNone(rsp)
            sid = struct.unpack("<I", rsp[24:28])[0]
            c.send(v20_sessionless(0x14, b"\0\0\0\0" + struct.pack("<I", sid) + os.urandom(32)))
            for rsp in c.drain(0.3):
                if len(rsp) >= 18 and rsp[5] == 0x15:
                    self.assertNotEqual(rsp[17], 0, "RAKP 3 without RAKP 1 succeeded: " + rsp.hex())
        finally:
            c.close()
        self.assertOk(self.daemon.ipmitool("mc", "info"))

    def test_zz_daemon_survived(self):
        # Runs last (alphabetical order): after everything above, the daemon still serves real clients.
        self.assertDaemonAlive()
        r = self.assertOk(self.daemon.ipmitool("mc", "info"))
        self.assertEqual(fields(r.out).get("IPMI Version"), "2.0", r.describe())
        r = self.assertOk(self.daemon.ipmitool("mc", "info", iface="lan"))
        self.assertEqual(fields(r.out).get("Device ID"), "32", r.describe())
        self.assertNotIn("AddressSanitizer", self.daemon.log())


class SessionSecurity(DaemonTestCase):
    """Sequence windows, IPMI 1.5 sessions, closing other sessions, concurrent clients."""

    config = dict(users=USERS, allow_insecure=True, lan=dict(cipher_suites=[17, 3], auth_types=["md5", "password"]))

    def client(self, cls=RmcpClient):
        c = cls(self.daemon.port)
        self.addCleanup(c.close)
        return c

    def test_v20_sequence_window(self):
        c = self.client()
        self.assertEqual(c.open_session(), 0)
        for _ in range(6):  # move the window forward, +10 at a time (inside the +15 accepted)
            c.seq += 9
            self.assertEqual(c.command(0x06, 0x01)[0], 0)
        base = c.seq
        c.seq = base + 2
        self.assertEqual(c.command(0x06, 0x01)[0], 0)
        c.seq = base  # one behind the highest seen, never received: accepted
        self.assertEqual(c.command(0x06, 0x01)[0], 0, "an unseen sequence number inside the window is valid")
        c.send(c.last_packet)
        self.assertIsNone(c.recv(0.3), "exact duplicate answered")
        c.send(c.session_packet(ipmi_request_msg(0x06, 0x01, seq=50), seq=base + 3 - 40))
        self.assertIsNone(c.recv(0.3), "a sequence number far behind the window was answered")
        c.seq = base + 3
        self.assertEqual(c.command(0x06, 0x01)[0], 0)

    def test_v15_session(self):
        from harness import Rmcp15Client
        for auth in ("md5", "password"):
            with self.subTest(auth=auth):
                c = self.client(Rmcp15Client)
                self.assertEqual(c.open_session15(auth=auth), 0)
                cc, data = c.command(0x06, 0x01)
                self.assertEqual((cc, len(data)), (0, 15))
                c.send(c.last_packet)
                self.assertIsNone(c.recv(0.3), "IPMI 1.5: exact duplicate answered")
                c.send(c.packet15(ipmi_request_msg(0x06, 0x01, seq=3), seq=c.seq + 100))
                self.assertIsNone(c.recv(0.3), "IPMI 1.5: sequence number far ahead answered")
                c.send(c.packet15(ipmi_request_msg(0x06, 0x01, seq=4), authcode=b"\x5a" * 16))
                self.assertIsNone(c.recv(0.3), "IPMI 1.5: wrong auth code answered")
                c.send(c.packet15(ipmi_request_msg(0x00, 0x02, b"\x00", seq=5), sid=0x12345678))
                self.assertIsNone(c.recv(0.3), "IPMI 1.5: unknown session answered")
                cc, data = c.command(0x06, 0x01)
                self.assertEqual(cc, 0, "the session must survive the bad packets")
                self.assertEqual(c.command(0x06, 0x3C, struct.pack("<I", c.sid))[0], 0)
                c.send(c.packet15(ipmi_request_msg(0x06, 0x01, seq=6)))
                self.assertIsNone(c.recv(0.3), "IPMI 1.5: closed session answered")
        from harness import Rmcp15Client as C15
        c = self.client(C15)
        self.assertNotEqual(c.open_session15(user=LOW_USER, password="wrong-password", auth="md5", priv=2), 0)
        c = self.client(C15)
        self.assertEqual(c.open_session15(user=LOW_USER, password=LOW_PASSWORD, auth="md5", priv=2), 0)
        self.assertEqual(c.command(0x00, 0x02, b"\x00")[0], 0xD4, "USER level: chassis control refused")
        self.assertNotEqual(c.command(0x06, 0x3B, b"\x04")[0], 0, "USER cannot raise the session to ADMIN")

    def test_close_other_sessions(self):
        admin, low = self.client(), self.client()
        self.assertEqual(admin.open_session(), 0)
        self.assertEqual(low.open_session(user=LOW_USER, password=LOW_PASSWORD, priv=2), 0)
        cc, _ = low.command(0x06, 0x3C, struct.pack("<I", admin.sid))
        self.assertNotEqual(cc, 0, "a USER-level session closed an administrator's session")
        self.assertEqual(admin.command(0x06, 0x01)[0], 0)
        self.assertEqual(admin.command(0x06, 0x3C, struct.pack("<I", 0x12345678))[0], 0x87, "invalid session ID")
        self.assertEqual(admin.command(0x06, 0x3C, struct.pack("<I", low.sid))[0], 0)
        with self.assertRaises(IpmiError, msg="a closed session still answers"):
            low.command(0x06, 0x01, timeout=0.5)
        self.assertEqual(admin.command(0x06, 0x01)[0], 0)

    def test_concurrent_clients(self):
        import subprocess
        from harness import ipmitool_cmd, freeipmi_cmd
        def active():
            r = self.assertOk(self.daemon.ipmitool("session", "info", "active"))
            return fields(r.out).get("active sessions")

        before = active()
        cmds = [ipmitool_cmd(self.daemon.port, "mc", "info") for _ in range(6)]
        cmds += [ipmitool_cmd(self.daemon.port, "chassis", "power", "status", iface="lan") for _ in range(3)]
        cmds += [freeipmi_cmd("ipmipower", self.daemon.port, "--stat") for _ in range(3)]
        procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  start_new_session=True) for c in cmds]
        results = []
        for p in procs:
            try:
                out, err = p.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)
                out, err = p.communicate(timeout=10)
            results.append((p.returncode, out, err))
        for (rc, out, err), cmd in zip(results, cmds):
            self.assertEqual(rc, 0, "{}\n{}\n{}".format(" ".join(cmd), out, err))
        self.assertEqual(active(), before, "sessions leaked by concurrent clients")


class Retries(DaemonTestCase):
    """A retry (same rqSeq, netfn, cmd; new session sequence number) is answered from the response cache,
    not executed twice (CLIENTS.md: a second power cycle is a bug)."""

    config = dict(users=USERS, power=dict(cycle_off_ms=300))

    def test_power_cycle_retry_not_executed_twice(self):
        c = RmcpClient(self.daemon.port)
        self.addCleanup(c.close)
        self.assertEqual(c.open_session(), 0)
        cc, _ = c.command(0x00, 0x02, b"\x01")  # power on
        self.assertEqual(cc, 0)
        msg = ipmi_request_msg(0x00, 0x02, b"\x02", seq=40)  # power cycle, rqSeq 40
        first = parse_ipmi_response(c._decode(c.exchange(c.session_packet(msg))))
        self.assertEqual(first[3], 0, "power cycle refused: {}".format(first))
        retry = parse_ipmi_response(c._decode(c.exchange(c.session_packet(msg))))  # same rqSeq, new seq
        self.assertEqual(retry, first, "the retry must get the cached response")
        # A genuinely new cycle request during the off phase is refused (node busy): this is what the retry
        # would have got had it been executed again.
        again = parse_ipmi_response(c._decode(c.exchange(c.session_packet(
            ipmi_request_msg(0x00, 0x02, b"\x02", seq=41)))))
        self.assertNotEqual(again[3], 0xC1, again)
        self.assertTrue(poll(lambda: c.command(0x00, 0x01)[1][0] & 1, tries=50, interval=0.1),
                        "power did not come back on")
        self.assertEqual(self.daemon.log().count("chassis control action=2"), 1,
                         "power cycle executed more than once")
        c.close_session()


class PingAndAmplification(DaemonTestCase):

    config = dict(allow_insecure=True, lan=dict(cipher_suites=[0, 1, 2, 3, 6, 7, 8, 11, 12, 15, 16, 17]))

    def setUp(self):
        self.client = RmcpClient(self.daemon.port)
        self.addCleanup(self.client.close)

    def test_ping_gets_one_pong(self):
        ping = asf_ping(0x42)
        replies = []
        self.client.send(ping)
        first = self.client.recv(2.0)
        self.assertIsNotNone(first, "no pong")
        replies.append(first)
        replies += self.client.drain(0.3)
        self.assertEqual(len(replies), 1, [r.hex() for r in replies])
        pong = replies[0]
        self.assertEqual(len(pong), 28, pong.hex())
        self.assertTrue(is_pong(pong, 0x42), pong.hex())
        self.assertEqual(pong[:4], bytes([0x06, 0x00, 0xFF, 0x06]), pong.hex())
        self.assertEqual(pong[4:8], bytes([0x00, 0x00, 0x11, 0xBE]), "ASF IANA")
        self.assertEqual(pong[11], 16, "data length")
        self.assertEqual(pong[20] & 0x80, 0x80, "supported entities: IPMI")
        self.assertLess(len(pong) / len(ping), 3)

    def test_pong_gets_nothing(self):
        pong = bytes([0x06, 0x00, 0xFF, 0x06, 0x00, 0x00, 0x11, 0xBE, 0x40, 0x42, 0x00, 0x10]) + bytes(16)
        self.client.send(pong)
        self.assertIsNone(self.client.recv(0.5), "a pong was answered (reflection loop between two BMCs)")

    def test_amplification_auth_caps(self):
        for v2 in (True, False):
            req = get_channel_auth_caps_request(v2=v2)
            rsp = self.client.exchange(req)
            self.assertIsNotNone(rsp, "no reply to Get Channel Auth Caps")
            self.assertEqual(self.client.drain(0.2), [], "more than one reply")
            self.assertLess(len(rsp) / len(req), 3, "amplification {}/{}".format(len(rsp), len(req)))

    def test_amplification_cipher_suites(self):
        records = b""
        for index in range(64):
            req = get_cipher_suites_request(index)
            rsp = self.client.exchange(req)
            self.assertIsNotNone(rsp, "no reply to Get Channel Cipher Suites index {}".format(index))
            self.assertEqual(self.client.drain(0.1), [], "more than one reply")
            self.assertLess(len(rsp) / len(req), 3, "amplification {}/{}".format(len(rsp), len(req)))
            _, _, _, cc, data = parse_ipmi_response(rsp[16:])
            self.assertEqual(cc, 0)
            records += data[1:]
            if len(data) - 1 < 16:
                break
        else:
            self.fail("the cipher suite list never ended")
        ids = [records[i + 1] for i in range(len(records) - 1) if records[i] == 0xC0]
        self.assertEqual(sorted(ids), [0, 1, 2, 3, 6, 7, 8, 11, 12, 15, 16, 17], records.hex())

    def test_amplification_other_sessionless(self):
        for req in (v15_sessionless(ipmi_request_msg(0x06, 0x37)),           # Get System GUID
                    v15_sessionless(ipmi_request_msg(0x06, 0x39, b"\x02" + b"admin".ljust(16, b"\0"))),
                    open_session_request(0x0A0B0C0D, 17)):
            rsp = self.client.exchange(req)
            self.assertIsNotNone(rsp, "no reply to " + req.hex())
            self.assertLess(len(rsp) / len(req), 3, "amplification {}/{} for {}".format(len(rsp), len(req),
                                                                                       req.hex()))
            self.client.drain(0.1)


if __name__ == "__main__":
    main()
