"""ntpprobe against a real NTPsec ntpd in a network namespace, over IPv4 and IPv6.

Two set-ups, each in its own namespace (ntpd always binds port 123):
- an orphan ntpd with no source (`tos orphan 10`): stratum 10, refid 127.0.0.1, zero root
  delay/dispersion and reference time 0, which ntpd and chrony clients accept;
- an ntpd synchronised over NTS to a chronyd (`local stratum 3`) in the same namespace:
  stratum 4, refid 127.0.0.1, a real reference time and non-zero root delay/dispersion.
What ntpprobe reports is compared with what ntpd says of itself (`ntpq -c rv`, rootdelay and
rootdisp in ms), read before and after the probe with the reference time unchanged between.
"""

import contextlib
import unittest

import peers
import probe
from probe import SHORT_UNIT

# ntpq prints rootdelay/rootdisp in ms with 3 decimals; the wire has 2^-16 s units.
NTPQ_MS_SLACK = SHORT_UNIT + 1e-6
NTS_SYNC_TIMEOUT = 40.0


def refid_raw(text):
    """ntpq's refid as ntpprobe's raw hex: dotted quad, or `.NAME.`/`NAME` ASCII."""
    parts = text.split(".")
    if len(parts) == 4 and all(p.isdigit() for p in parts):
        return probe.dotted_to_hex(text)
    name = text.strip(".").encode("ascii")[:4].ljust(4, b"\0")
    return "0x" + name.hex()


def ntpd_says(before, after):
    """ServerSays from `ntpq -c rv` read before and after a probe."""
    def bounds(name):
        values = [float(before[name]) / 1000, float(after[name]) / 1000]
        return (min(values) - NTPQ_MS_SLACK, max(values) + NTPQ_MS_SLACK)

    precision = int(before["precision"])
    return probe.ServerSays(
        stratum=int(before["stratum"]),
        refid_raw=refid_raw(before["refid"]),
        leap=probe.LEAP_FROM_NTPQ[before["leap"]],
        reference_ns=probe.ntp_ns(before["reftime"]),
        root_delay=bounds("rootdelay"),
        root_dispersion=bounds("rootdisp"),
        precision=(precision, precision))


class NtpdProbeTests:
    """Tests shared by both set-ups; a subclass starts `ntpd` in `ns` in setUpClass."""

    ns = None
    ntpd = None

    def snapshot(self, action, attempts=3):
        """(rv before, action(), rv after) with ntpd's reference time unchanged between.

        ntpd updates when a poll of its source arrives (every 8-16 s here); a probe that
        straddles one is repeated, a bounded number of times.
        """
        for _ in range(attempts):
            before = self.ntpd.variables()
            value = action()
            after = self.ntpd.variables()
            if before["reftime"] == after["reftime"]:
                return before, value, after
        self.fail(f"ntpd's reference time changed during each of {attempts} probes")

    def probe_json(self, *args):
        """`ntpprobe -j ARGS` inside the namespace, exit 0, nothing on stderr."""
        doc, result = probe.probe_json(self, args, runner=self.ns.run)
        self.assertEqual(result.stderr, "")
        return doc

    def test_json_over_ipv4_and_ipv6_equals_ntpq_rv(self):
        """-j: stratum, refid, leap, precision, reference time and root delay/dispersion."""
        targets = ["127.0.0.1", "::1"]
        before, doc, after = self.snapshot(lambda: self.probe_json(*targets))
        says = ntpd_says(before, after)
        self.assertTrue(doc["ok"])
        self.assertEqual([t["target"] for t in doc["targets"]], targets)
        for target, family in zip(doc["targets"], ("ipv4", "ipv6")):
            (a,) = target["addresses"]
            self.assertEqual((a["address"], a["port"], a["family"]),
                             (target["target"], 123, family))
            probe.assert_address_matches(self, a, says)

    def test_ntpq_over_ipv6_says_the_same(self):
        """ntpd's own report does not depend on the family it is read over."""
        v4, v6 = self.ntpd.variables("127.0.0.1"), self.ntpd.variables("::1")
        for name in ("leap", "stratum", "precision", "refid", "reftime", "rootdelay"):
            self.assertEqual(v4[name], v6[name], name)

    def test_text_lines_equal_ntpq_rv(self):
        """Plain text: one line per address, in order, with stratum, refid and leap."""
        targets = ["[::1]:123", "127.0.0.1:123"]
        before, result, _ = self.snapshot(lambda: probe.run_probe(targets, self.ns.run))
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(result.stderr, "")
        lines = probe.parse_summary(result.stdout)
        self.assertEqual([line["where"] for line in lines], targets)
        for line in lines:
            self.assertEqual(line["stratum"], before["stratum"])
            self.assertEqual(line["refid"], before["refid"])
            self.assertEqual(line["leap"], probe.LEAP_NAMES[probe.LEAP_FROM_NTPQ[before["leap"]]])
            self.assertLess(abs(float(line["offset"])), 1e-3)
            self.assertGreater(float(line["delay"]), 0)

    def test_verbose_shows_every_field_as_ntpq_says(self):
        """-v: precision, root delay/dispersion, refid, reference time, kernel stamps, checks."""
        targets = ["127.0.0.1", "::1"]
        before, result, after = self.snapshot(
            lambda: probe.run_probe(["-v"] + targets, self.ns.run))
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        says = ntpd_says(before, after)
        blocks = probe.parse_verbose(result.stdout)
        self.assertEqual([b["where"] for b in blocks], ["127.0.0.1:123", "[::1]:123"])
        for block in blocks:
            f = block["fields"]
            self.assertEqual(f["status"], "ok")
            self.assertEqual(f["stratum"], before["stratum"])
            self.assertEqual(f["leap"], f"none ({says.leap})")
            self.assertEqual(int(f["precision"].split()[0]), int(before["precision"]))
            self.assertEqual(f["refid"].split()[:2], [before["refid"], says.refid_raw])
            probe.assert_in_range(self, float(f["root delay"].split()[0]), says.root_delay,
                                  "root delay")
            probe.assert_in_range(self, float(f["root dispersion"].split()[0]),
                                  says.root_dispersion, "root dispersion")
            self.assertEqual(f["reference time"].split()[-1],
                             "0x" + before["reftime"].split()[0])
            (sample,) = block["samples"]
            self.assertEqual(sample["title"], "sample 1 (selected): ok")
            self.assertTrue(sample["T1 origin"].endswith("  kernel"), sample["T1 origin"])
            self.assertTrue(sample["T4 destination"].endswith("  kernel"))
            self.assertTrue(sample["checks"].startswith("all passed ("), sample["checks"])


class OrphanNtpdTest(NtpdProbeTests, unittest.TestCase):
    """An ntpd with no source at all: a pure orphan (stratum 10, reference time 0)."""

    @classmethod
    def setUpClass(cls):
        stack = contextlib.ExitStack()
        cls.addClassCleanup(stack.close)
        cls.ns = stack.enter_context(peers.Namespace())
        cls.ntpd = stack.enter_context(peers.Ntpd(cls.ns))

    def test_zero_reference_time_passes_and_is_shown_as_none(self):
        """ntpd says reftime 0 (never synchronised); ntpprobe shows it raw, with no date."""
        rv = self.ntpd.variables()
        self.assertEqual(rv["reftime"].split()[0], "00000000.00000000")
        self.assertEqual(rv["stratum"], "10")
        doc = self.probe_json("127.0.0.1")
        (a,) = doc["targets"][0]["addresses"]
        self.assertEqual(a["server"]["reference_time"], {"iso": None,
                                                         "ntp": "0x00000000.00000000"})
        self.assertIs(a["samples"][0]["checks"]["reference"], True)


class NtsSynchronisedNtpdTest(NtpdProbeTests, unittest.TestCase):
    """An ntpd synchronised to chronyd over NTS: stratum 4 with real root delay/dispersion."""

    @classmethod
    def setUpClass(cls):
        stack = contextlib.ExitStack()
        cls.addClassCleanup(stack.close)
        cls.ns = stack.enter_context(peers.Namespace())
        cls.chronyd = stack.enter_context(peers.Chronyd(cls.ns, port=11123, local_stratum=3,
                                                        nts=True, ntsport=11460))
        cls.ntpd = stack.enter_context(peers.Ntpd(cls.ns, config_extra="\n".join([
            "tos minsane 1",
            f"server 127.0.0.1:{cls.chronyd.ntsport} nts ca {cls.chronyd.ca_cert} "
            "iburst minpoll 3 maxpoll 4 prefer"])))
        cls.ntpd.wait_variable("stratum", "4", timeout=NTS_SYNC_TIMEOUT)

    def test_synchronised_state_is_not_trivial(self):
        """ntpd has a source, so the comparisons above cover real values."""
        rv = self.ntpd.variables()
        self.assertEqual(rv["stratum"], "4")
        self.assertEqual(rv["refid"], "127.0.0.1")
        self.assertGreater(float(rv["rootdelay"]), 0)
        self.assertGreater(float(rv["rootdisp"]), 0)
        self.assertNotEqual(rv["reftime"].split()[0], "00000000.00000000")


if __name__ == "__main__":
    unittest.main()
