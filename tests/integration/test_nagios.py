"""ntpprobe --nagios against real servers: stratum thresholds, --expect-refid, --min-ok and the
performance data, judged against what the servers say of themselves.

One namespace holds LOCAL, a chronyd serving its local reference (`local stratum 3`, refid
127.127.1.1), CHAINED, a chronyd synchronised to LOCAL over IPv6 (stratum 4, refid the hash of
::1, real root delay and dispersion; `chronyc offline` then freezes it), and an orphan NTPsec
ntpd (stratum 10, refid 127.0.0.1). Port 9 has nothing behind it.
"""

import contextlib
import re
import unittest

import peers

LOCAL_PORT = 11123
CHAINED_PORT = 11124
CLOSED = "127.0.0.1:9"
# One perfdata item: 'label'=value[unit];warn;crit;min;max
PERFDATA = re.compile(r"'(?P<label>[^']+)'=(?P<value>-?\d+(?:\.\d+)?)(?P<unit>s?);"
                      r"(?P<warn>[^;]*);(?P<crit>[^;]*);(?P<min>[^;]*);(?P<max>[^; ]*)")
METRICS = ["offset", "delay", "jitter", "stratum", "root_distance", "processing"]
# min and max of each metric, as ntpprobe(1) documents them.
LIMITS = {"offset": ("", ""), "delay": ("0", ""), "jitter": ("0", ""), "stratum": ("0", "16"),
          "root_distance": ("0", ""), "processing": ("0", "")}
EXIT = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}


def parse_plugin_line(text):
    """`NTP STATE: message|perfdata` -> (state, message, {label: item dict})."""
    m = re.match(r"^NTP (OK|WARNING|CRITICAL|UNKNOWN): ([^|\n]*)(?:\|(.*))?\n$", text)
    if not m:
        raise ValueError(f"not a plugin line: {text!r}")
    items = {p["label"]: p.groupdict() for p in PERFDATA.finditer(m.group(3) or "")}
    return m.group(1), m.group(2), items


class NagiosTest(unittest.TestCase):
    """Plugin mode against chronyd and ntpd."""

    @classmethod
    def setUpClass(cls):
        stack = contextlib.ExitStack()
        cls.addClassCleanup(stack.close)
        cls.ns = stack.enter_context(peers.Namespace())
        cls.local = stack.enter_context(peers.Chronyd(cls.ns, port=LOCAL_PORT))
        cls.chained = stack.enter_context(peers.Chronyd(
            cls.ns, port=CHAINED_PORT, local_stratum=None,
            config_extra=f"server ::1 port {LOCAL_PORT} iburst minpoll -4 maxpoll -4"))
        cls.ntpd = stack.enter_context(peers.Ntpd(cls.ns))
        cls.chained.wait_stratum(4)
        cls.chained.chronyc("offline")
        cls.targets = {"local": f"127.0.0.1:{LOCAL_PORT}", "chained": f"127.0.0.1:{CHAINED_PORT}",
                       "ntpd": "127.0.0.1:123"}

    def nagios(self, args, state):
        """`ntpprobe --nagios ARGS`: checks exit code and state; (message, perfdata items)."""
        result = self.ns.run([peers.binary("ntpprobe"), "--nagios"] + args)
        self.assertEqual(result.stderr, "")
        got, message, items = parse_plugin_line(result.stdout)
        self.assertEqual((got, result.returncode), (state, EXIT[state]), result.stdout)
        return message, items

    def test_stratum_thresholds_against_chronyds_stratum(self):
        """LOCAL says stratum 3: --crit-stratum 1:2 is CRITICAL, --warn-stratum 1:2 WARNING,
        --crit-stratum 3 (0..3) OK; CHAINED's 4 is outside 3 and 1:3."""
        stratum = int(self.local.tracking()["stratum"])
        self.assertEqual(stratum, 3)
        target = self.targets["local"]
        message, _ = self.nagios(["--crit-stratum", "1:2", target], "CRITICAL")
        self.assertIn(f"stratum {stratum} outside critical range 1:2", message)
        message, _ = self.nagios(["--warn-stratum", "1:2", "--crit-stratum", "1:5", target],
                                 "WARNING")
        self.assertIn(f"stratum {stratum} outside warning range 1:2", message)
        self.nagios(["--crit-stratum", "3", target], "OK")
        self.nagios(["--crit-stratum", "@3:3", target], "CRITICAL")
        self.assertEqual(self.chained.tracking()["stratum"], "4")
        self.nagios(["--warn-stratum", "3", "--crit-stratum", "1:3", self.targets["chained"]],
                    "CRITICAL")

    def test_expect_refid_as_the_servers_report_it(self):
        """The refid each server reports of itself, in every spelling ntpprobe(1) allows."""
        local_ref = self.local.tracking()["ref_id"]        # 7F7F0101
        chained_ref = self.chained.tracking()["ref_id"]    # the hash of ::1
        ntpd_ref = self.ntpd.variables()["refid"]          # 127.0.0.1
        cases = [
            (["--expect-refid", "127.127.1.1", self.targets["local"]], "OK"),
            (["--expect-refid", "0x" + local_ref.lower(), self.targets["local"]], "OK"),
            (["--expect-refid", "GPS", self.targets["local"]], "CRITICAL"),
            (["--expect-refid", "GPS", "--expect-refid", "127.127.1.1", self.targets["local"]],
             "OK"),
            (["--expect-refid", "::1", self.targets["chained"]], "OK"),
            (["--expect-refid", "0x" + chained_ref.lower(), self.targets["chained"]], "OK"),
            (["--expect-refid", "::2", self.targets["chained"]], "CRITICAL"),
            (["--expect-refid", ntpd_ref, self.targets["ntpd"]], "OK"),
            (["--expect-refid", "127.127.1.1", self.targets["ntpd"]], "CRITICAL"),
        ]
        self.assertEqual(local_ref, "7F7F0101")
        for args, state in cases:
            with self.subTest(args=args):
                message, _ = self.nagios(args, state)
                if state == "CRITICAL":
                    self.assertIn("is not the expected one", message)

    def test_min_ok_counts_addresses(self):
        """Three servers and a closed port: the worst state wins without --min-ok (UNKNOWN for
        no reply); --min-ok counts OK, then OK-or-WARNING addresses."""
        targets = [self.targets["local"], self.targets["chained"], self.targets["ntpd"], CLOSED]
        message, _ = self.nagios(targets, "UNKNOWN")
        self.assertTrue(message.startswith("3 of 4 servers OK; "), message)
        self.nagios(["--min-ok", "3"] + targets, "OK")
        self.nagios(["--min-ok", "4"] + targets, "CRITICAL")
        # ntpd's stratum 10 is a WARNING: 2 OK, 3 OK or WARNING.
        stratum_warn = ["--warn-stratum", "1:5"]
        self.nagios(stratum_warn + ["--min-ok", "2"] + targets, "OK")
        message, _ = self.nagios(stratum_warn + ["--min-ok", "3"] + targets, "WARNING")
        self.assertIn("(at least 3 required)", message)
        self.nagios(stratum_warn + ["--min-ok", "4"] + targets, "CRITICAL")

    def test_perfdata_of_one_server(self):
        """One address: unprefixed labels in the documented order and form, thresholds as
        given, stratum and root distance as CHAINED says (tracking before and after)."""
        before = self.chained.tracking()
        _, items = self.nagios(["-w", "0.5", "-c", "1", "--warn-stratum", "1:5",
                                "--crit-root-distance", "~:2", "-n", "3", "-i", "0.2",
                                "--allow-fast", self.targets["chained"]], "OK")
        after = self.chained.tracking()
        self.assertEqual(list(items), METRICS)
        for label, item in items.items():
            self.assertEqual((item["min"], item["max"]), LIMITS[label], label)
            self.assertEqual(item["unit"], "" if label == "stratum" else "s", label)
            if label != "stratum":
                self.assertRegex(item["value"], r"^-?\d+\.\d{9}$", label)
        self.assertEqual((items["offset"]["warn"], items["offset"]["crit"]), ("0.5", "1"))
        self.assertEqual((items["stratum"]["warn"], items["stratum"]["crit"]), ("1:5", ""))
        self.assertEqual((items["root_distance"]["warn"], items["root_distance"]["crit"]),
                         ("", "~:2"))
        self.assertEqual(items["stratum"]["value"], before["stratum"])
        self.assertLess(abs(float(items["offset"]["value"])), 1e-3)
        # Root distance: the server's root delay / 2 + root dispersion, plus our share.
        floor = min(float(before["root_delay"]) / 2 + float(before["root_dispersion"]),
                    float(after["root_delay"]) / 2 + float(after["root_dispersion"]))
        distance = float(items["root_distance"]["value"])
        self.assertGreater(floor, 0)
        self.assertGreaterEqual(distance, floor - 2 ** -16)
        self.assertLess(distance, floor + 0.01)

    def test_perfdata_of_several_servers_is_prefixed_by_address(self):
        """Several addresses: every label starts with the address, with its port where two
        targets share the address (here the closed port's 127.0.0.1), so that labels are unique
        and the same for the same command line; a server without a reply has no perfdata;
        stratum values are each server's own."""
        targets = [self.targets["local"], "[::1]:123", CLOSED]
        _, items = self.nagios(["--no-reply-critical"] + targets, "CRITICAL")
        local = self.targets["local"]
        expected = [f"{address} {label}" for address in (local, "::1") for label in METRICS]
        self.assertEqual(list(items), expected)
        self.assertEqual(items[f"{local} stratum"]["value"], self.local.tracking()["stratum"])
        self.assertEqual(items["::1 stratum"]["value"], self.ntpd.variables("::1")["stratum"])


if __name__ == "__main__":
    unittest.main()
