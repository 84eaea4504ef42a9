"""ntpprobe against two real chronyd in a network namespace, over IPv4 and IPv6.

LOCAL serves its local reference (`local stratum 3`: refid 127.127.1.1, zero root delay).
CHAINED has no local reference: it synchronises to LOCAL over IPv6 (stratum 4, its refid the
hash of ::1, a real reference time and non-zero root delay/dispersion), then `chronyc offline`
freezes that state so that what chronyc says before and after a probe brackets what was on
the wire. Each chronyd also polls the other (LOCAL with `noselect`), so chrony's own client
says what precision the other sends: chronyc tracking does not show a server's own.
"""

import contextlib
import socket
import unittest

import peers
import probe
from probe import SHORT_UNIT

LOCAL_PORT = 11123
CHAINED_PORT = 11124
FAST_POLL = "iburst minpoll -4 maxpoll -4"
# Precision (log2 s) any real clock reading on this hardware can have.
PLAUSIBLE_PRECISION = (-30, -10)


def chrony_says(before, after, precision):
    """ServerSays from `chronyc tracking` read before and after a probe.

    chronyd writes root delay and dispersion rounded up to 2^-16 s (UTI_DoubleToNtp32), and
    the dispersion grows with the time since the last update, so the wire value lies between
    `before` and `after` plus one unit.
    """
    def bounds(name):
        low = min(float(before[name]), float(after[name]))
        high = max(float(before[name]), float(after[name]))
        return (low - 1e-9, high + SHORT_UNIT + 1e-9)

    return probe.ServerSays(
        stratum=int(before["stratum"]),
        refid_raw="0x" + before["ref_id"].lower(),
        leap=peers.CHRONY_LEAP[before["leap_status"]],
        reference_ns=probe.unix_text_ns(before["ref_time"]),
        reference_slack_ns=1,
        root_delay=bounds("root_delay"),
        root_dispersion=bounds("root_dispersion"),
        precision=precision)


class ProbeChronydTest(unittest.TestCase):
    """ntpprobe's report of each chronyd equals what that chronyd says of itself."""

    @classmethod
    def setUpClass(cls):
        stack = contextlib.ExitStack()
        cls.addClassCleanup(stack.close)
        cls.ns = stack.enter_context(peers.Namespace())
        cls.local = stack.enter_context(peers.Chronyd(
            cls.ns, port=LOCAL_PORT, local_stratum=3,
            config_extra=f"server 127.0.0.1 port {CHAINED_PORT} noselect {FAST_POLL}"))
        cls.chained = stack.enter_context(peers.Chronyd(
            cls.ns, port=CHAINED_PORT, local_stratum=None,
            config_extra=f"server ::1 port {LOCAL_PORT} {FAST_POLL}"))
        cls.chained.wait_stratum(4)
        cls.chained.chronyc("offline")
        cls.servers = {"local": cls.local, "chained": cls.chained}

    def probe_json(self, *args, expect_rc=0):
        """`ntpprobe -j ARGS` inside the namespace; the document (stderr must be empty)."""
        doc, result = probe.probe_json(self, args, runner=self.ns.run, expect_rc=expect_rc)
        self.assertEqual(result.stderr, "")
        return doc

    def snapshot(self, server, action):
        """(tracking before, action(), tracking after), with the reference unchanged between."""
        before = server.tracking()
        value = action()
        after = server.tracking()
        self.assertEqual(before["ref_time"], after["ref_time"], "chronyd updated mid-probe")
        return before, value, after

    def client_view(self, name):
        """What chrony's client in the other chronyd last read from server `name`."""
        if name == "local":
            return self.chained.ntpdata("::1")
        return peers.wait_until(lambda: self._good_ntpdata(self.local, "127.0.0.1"), 5,
                                what="LOCAL's client data of CHAINED")

    @staticmethod
    def _good_ntpdata(client, address):
        """ntpdata once the server answered synchronised (CHAINED starts at stratum 16)."""
        data = client.ntpdata(address)
        return data if data["stratum"] == "4" else None

    def test_chained_server_state_is_not_trivial(self):
        """CHAINED has what LOCAL lacks, or its comparisons below would prove little."""
        t = self.chained.tracking()
        self.assertEqual(t["stratum"], "4")
        self.assertGreater(float(t["root_delay"]), 0)
        self.assertGreater(float(t["root_dispersion"]), 0)
        self.assertNotEqual(t["ref_id"], "7F000001", "refid should be the hash of ::1")
        self.assertEqual(self.local.tracking()["ref_id"], "7F7F0101")

    def test_json_over_ipv4_and_ipv6_equals_tracking(self):
        """-j: stratum, refid, leap, reference time, root delay/dispersion as chronyc says."""
        for name, server in self.servers.items():
            with self.subTest(server=name):
                targets = [f"127.0.0.1:{server.port}", f"[::1]:{server.port}"]
                before, doc, after = self.snapshot(server, lambda: self.probe_json(*targets))
                says = chrony_says(before, after, PLAUSIBLE_PRECISION)
                self.assertTrue(doc["ok"])
                self.assertEqual(doc["summary"], {"targets": 2, "targets_ok": 2,
                                                  "targets_failed": 0, "addresses": 2,
                                                  "addresses_ok": 2, "addresses_failed": 0})
                self.assertEqual([t["target"] for t in doc["targets"]], targets)
                for target, (address, family) in zip(doc["targets"],
                                                     [("127.0.0.1", "ipv4"), ("::1", "ipv6")]):
                    self.assertTrue(target["ok"])
                    self.assertIsNone(target["error"])
                    (a,) = target["addresses"]
                    self.assertEqual((a["address"], a["port"], a["family"]),
                                     (address, server.port, family))
                    probe.assert_address_matches(self, a, says)
                    # chronyc names the upstream (`CF404DC8 (::1)`); ntpprobe, which queried
                    # ::1 in this run, recognises the refid as that address's hash.
                    if ":" in before["ref_name"]:
                        self.assertEqual((a["server"]["refid"]["kind"],
                                          a["server"]["refid"]["text"]),
                                         ("ipv6_hash", before["ref_name"]))
                precisions = {t["addresses"][0]["server"]["precision"] for t in doc["targets"]}
                self.assertEqual(len(precisions), 1, "precision differs between IPv4 and IPv6")

    def test_precision_equals_what_chrony_client_read(self):
        """The precision field equals the one chronyd's own client parsed from that server."""
        for name, server in self.servers.items():
            with self.subTest(server=name):
                view = self.client_view(name)
                doc = self.probe_json(f"127.0.0.1:{server.port}")
                got = doc["targets"][0]["addresses"][0]["server"]
                self.assertEqual(got["precision"], int(view["precision"]))
                self.assertAlmostEqual(got["precision_seconds"], float(view["precision_seconds"]),
                                       delta=1e-9)
                self.assertEqual(got["stratum"], int(view["stratum"]))
                self.assertEqual(got["refid"]["raw"], "0x" + view["ref_id"].lower())
                self.assertEqual(view["tests_1_3"] + view["tests_5_7"], "111111",
                                 "chrony's client rejected the server")

    def test_text_lines_equal_tracking(self):
        """Plain text: one line per address, in order, with stratum, refid and leap."""
        for name, server in self.servers.items():
            with self.subTest(server=name):
                targets = [f"127.0.0.1:{server.port}", f"[::1]:{server.port}"]
                before, result, _ = self.snapshot(
                    server, lambda: probe.run_probe(targets, self.ns.run))
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
                self.assertEqual(result.stderr, "")
                lines = probe.parse_summary(result.stdout)
                self.assertEqual([line["where"] for line in lines], targets)
                for line in lines:
                    self.assertEqual(int(line["stratum"]), int(before["stratum"]))
                    self.assertEqual(line["refid"], probe.refid_text(before), result.stdout)
                    self.assertEqual(line["leap"], probe.LEAP_NAMES[
                        peers.CHRONY_LEAP[before["leap_status"]]])
                    self.assertLess(abs(float(line["offset"])), 1e-3)
                    self.assertGreater(float(line["delay"]), 0)

    def test_verbose_shows_every_field_as_tracking_says(self):
        """-v: header fields, both timestamps' sources and every check, per address."""
        server = self.chained
        targets = [f"127.0.0.1:{server.port}", f"[::1]:{server.port}"]
        before, result, after = self.snapshot(
            server, lambda: probe.run_probe(["-v"] + targets, self.ns.run))
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        blocks = probe.parse_verbose(result.stdout)
        self.assertEqual([b["where"] for b in blocks], targets)
        for block in blocks:
            f = block["fields"]
            self.assertEqual(f["status"], "ok")
            self.assertEqual(f["stratum"], before["stratum"])
            self.assertEqual(f["leap"], "none (0)")
            self.assertEqual(f["mode"], "server (4)")
            self.assertTrue(f["refid"].startswith(
                f"{probe.refid_text(before)}  0x{before['ref_id'].lower()}"))
            precision = int(f["precision"].split()[0])
            probe.assert_in_range(self, precision, PLAUSIBLE_PRECISION, "precision")
            says = chrony_says(before, after, PLAUSIBLE_PRECISION)
            probe.assert_in_range(self, float(f["root delay"].split()[0]), says.root_delay,
                                  "root delay")
            probe.assert_in_range(self, float(f["root dispersion"].split()[0]),
                                  says.root_dispersion, "root dispersion")
            self.assertLessEqual(
                abs(probe.ntp_ns(f["reference time"].split()[1]) - says.reference_ns),
                says.reference_slack_ns)
            (sample,) = block["samples"]
            self.assertEqual(sample["title"], "sample 1 (selected): ok")
            self.assertTrue(sample["T1 origin"].endswith("  kernel"), sample["T1 origin"])
            self.assertTrue(sample["T4 destination"].endswith("  kernel"))
            self.assertTrue(sample["checks"].startswith("all passed ("), sample["checks"])

    def test_several_targets_in_one_call_are_reported_in_order(self):
        """Targets of different servers and families come back in the order given."""
        targets = [f"[::1]:{CHAINED_PORT}", f"127.0.0.1:{LOCAL_PORT}",
                   f"127.0.0.1:{CHAINED_PORT}", f"[::1]:{LOCAL_PORT}"]
        strata = [int(s.tracking()["stratum"]) for s in
                  (self.chained, self.local, self.chained, self.local)]
        self.assertEqual(strata, [4, 3, 4, 3])
        doc = self.probe_json(*targets)
        self.assertEqual([t["target"] for t in doc["targets"]], targets)
        self.assertEqual([t["addresses"][0]["server"]["stratum"] for t in doc["targets"]],
                         strata)
        result = probe.run_probe(targets, self.ns.run)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        lines = probe.parse_summary(result.stdout)
        self.assertEqual([line["where"] for line in lines], targets)
        self.assertEqual([int(line["stratum"]) for line in lines], strata)

    def test_a_name_is_queried_at_every_address_it_resolves_to(self):
        """`localhost:PORT` covers each address the system resolver gives, in its order."""
        infos = socket.getaddrinfo("localhost", LOCAL_PORT, type=socket.SOCK_DGRAM)
        expected = list(dict.fromkeys(info[4][0] for info in infos))
        doc = self.probe_json(f"localhost:{LOCAL_PORT}")
        (target,) = doc["targets"]
        self.assertEqual(target["host"], "localhost")
        self.assertEqual([a["address"] for a in target["addresses"]], expected)
        says = chrony_says(self.local.tracking(), self.local.tracking(), PLAUSIBLE_PRECISION)
        for address in target["addresses"]:
            probe.assert_address_matches(self, address, says)

    def test_several_samples_are_all_checked_and_the_least_delay_selected(self):
        """-n 3: three requests, three good samples, the selected one has the least delay."""
        doc = self.probe_json("-n", "3", "-i", "0.05", "--allow-fast", f"[::1]:{LOCAL_PORT}")
        (a,) = doc["targets"][0]["addresses"]
        self.assertEqual((a["requests"], a["replies"], len(a["samples"])), (3, 3, 3))
        for sample in a["samples"]:
            probe.assert_sample_good(self, sample)
        delays = [s["delay"] for s in a["samples"]]
        (selected,) = [s for s in a["samples"] if s["selected"]]
        self.assertEqual(selected["delay"], min(delays))
        self.assertEqual(a["delay"], selected["delay"])
        self.assertEqual(len({s["t1"]["ntp"] for s in a["samples"]}), 3)


if __name__ == "__main__":
    unittest.main()
