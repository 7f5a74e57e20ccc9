#!/usr/bin/python3
"""pyghmi (OpenStack Ironic's IPMI library) against simbmcd. Every test runs pyghmi in its own
/usr/bin/python3 process (pyghmi keeps a global session cache) and logs out at the end."""


from harness import ADMIN_USER, DaemonTestCase, main


class Pyghmi(DaemonTestCase):

    config = dict(power=dict(cycle_off_ms=200, soft_shutdown_ms=200))

    def pyghmi(self, body, **kw):
        r, out = self.daemon.pyghmi(body, **kw)
        self.assertEqual(r.rc, 0, r.describe())
        self.assertIsNotNone(out, r.describe())
        self.assertNotIn("logout_error", out, r.describe())
        return r, out

    def test_power(self):
        r, out = self.pyghmi("""
            out["initial"] = cmd.get_power()
            out["off"] = cmd.set_power("off", wait=True)
            out["after_off"] = cmd.get_power()
            out["on"] = cmd.set_power("on", wait=True)
            out["after_on"] = cmd.get_power()
        """)
        self.assertEqual(out["initial"], {"powerstate": "on"}, r.describe())
        self.assertEqual(out["off"].get("powerstate"), "off", r.describe())
        self.assertEqual(out["after_off"], {"powerstate": "off"}, r.describe())
        self.assertEqual(out["on"].get("powerstate"), "on", r.describe())
        self.assertEqual(out["after_on"], {"powerstate": "on"}, r.describe())
        r2 = self.assertOk(self.daemon.ipmitool("chassis", "power", "status"))
        self.assertIn("Chassis Power is on", r2.out, r2.describe())

    def test_power_reset_and_boot(self):
        r, out = self.pyghmi("""
            cmd.set_power("on", wait=True)
            out["reset"] = cmd.set_power("reset")
            out["boot"] = cmd.set_power("boot", wait=True)
            out["after"] = cmd.get_power()
        """)
        self.assertEqual(out["reset"], {"pendingpowerstate": "reset"}, r.describe())
        self.assertEqual(out["after"], {"powerstate": "on"}, r.describe())

    def test_bootdev(self):
        r, out = self.pyghmi("""
            out["set_network"] = cmd.set_bootdev("network")
            out["network"] = cmd.get_bootdev()
            out["set_hd_persist"] = cmd.set_bootdev("hd", persist=True)
            out["hd_persist"] = cmd.get_bootdev()
            out["set_net_uefi"] = cmd.set_bootdev("network", persist=True, uefiboot=True)
            out["net_uefi"] = cmd.get_bootdev()
            out["set_default"] = cmd.set_bootdev("default")
            out["default"] = cmd.get_bootdev()
        """)
        self.assertEqual(out["set_network"], {"bootdev": "network"}, r.describe())
        self.assertEqual(out["network"].get("bootdev"), "network", r.describe())
        self.assertFalse(out["network"].get("persistent"), r.describe())
        self.assertEqual(out["hd_persist"].get("bootdev"), "hd", r.describe())
        self.assertTrue(out["hd_persist"].get("persistent"), r.describe())
        self.assertEqual(out["net_uefi"].get("bootdev"), "network", r.describe())
        self.assertTrue(out["net_uefi"].get("persistent"), r.describe())
        self.assertTrue(out["net_uefi"].get("uefimode"), r.describe())
        self.assertEqual(out["default"].get("bootdev"), "default", r.describe())
        # The same state seen by ipmitool.
        self.pyghmi("""cmd.set_bootdev("network", persist=True)""")
        r2 = self.assertOk(self.daemon.ipmitool("chassis", "bootparam", "get", "5"))
        self.assertIn("Boot Device Selector : Force PXE", r2.out, r2.describe())
        self.assertIn("Options apply to all future boots", r2.out, r2.describe())

    def test_device_id_and_users(self):
        r, out = self.pyghmi("""
            rsp = cmd.xraw_command(netfn=6, command=1)
            out["devid"] = list(bytearray(rsp["data"]))
            out["user2"] = cmd.get_user(uid=2)
            out["names"] = cmd.get_name_uids(ADMIN)
        """.replace("ADMIN", repr(ADMIN_USER)))
        self.assertEqual(len(out["devid"]), 15, r.describe())
        self.assertEqual(out["devid"][0], 0x20, r.describe())
        self.assertEqual(out["user2"].get("name"), ADMIN_USER, r.describe())
        self.assertEqual(out["user2"].get("access", {}).get("privilege_level"), "administrator", r.describe())
        self.assertEqual(out["names"], [2], r.describe())

    def test_raw_error_completion_code(self):
        r, out = self.pyghmi("""
            from pyghmi import exceptions
            try:
                cmd.xraw_command(netfn=6, command=0xFE)
                out["error"] = None
            except exceptions.IpmiException as e:
                out["error"] = str(e)
                out["code"] = getattr(e, "ipmicode", None)
        """)
        self.assertEqual(out.get("code"), 0xC1, r.describe())

    def test_identify(self):
        r, out = self.pyghmi("""
            cmd.set_identify(on=True)
            cmd.set_identify(on=False)
            out["ok"] = True
        """)
        self.assertTrue(out.get("ok"), r.describe())

    def test_channel_info_and_net_configuration(self):
        r, out = self.pyghmi("""
            out["channel"] = cmd.get_network_channel()
            out["net"] = cmd.get_net_configuration()
        """, timeout=120)
        self.assertEqual(out["channel"], 1, r.describe())
        self.assertIn("ipv4_address", out["net"], r.describe())


if __name__ == "__main__":
    main()
