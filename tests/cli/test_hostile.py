"""ntpprobe against a server that answers wrongly on purpose (tests/tools/ntpkit-hostile).

For every scenario the test asserts what ntpprobe does: a datagram that is not an answer to
our request (foreign origin or source, wrong mode, malformed, unauthenticated) is counted in
`ignored` under its reason and waited past, so a genuine reply sent after it is still taken;
a reply that is ours but fails a sanity test is rejected, and the failed test is named in the
text, in JSON (`checks`) and by the plugin state; a Kiss-o'-Death stops all sending.
Each table row is one scenario; ntpkit-hostile --list must not name one that no row covers.
"""

import os
import tempfile
import unittest

from hostile_support import (CHECK_NTP_TIME, CRITICAL, HOSTILE, NTPPROBE, OK, UNKNOWN,
                             Responder, first_address, probe, probe_json)

TIMEOUT = "0.5"
NAGIOS_STATE = {"timeout": UNKNOWN, "auth": CRITICAL, "sanity": CRITICAL,
                "unsynchronised": CRITICAL, "kiss": CRITICAL}

# Datagrams that are not an answer to our request: (scenario, ignored reason, error kind when
# nothing else comes). They are waited past; a genuine reply after them is taken.
IGNORED = [
    ("wrong_origin", "origin", "timeout"),
    ("kiss_spoofed", "origin", "timeout"),
    ("other_port", "source", "timeout"),
    ("other_address", "source", "timeout"),
    ("truncated", "malformed", "timeout"),
    ("empty", "malformed", "timeout"),
    ("odd_length", "malformed", "timeout"),
    ("max_datagram", "malformed", "timeout"),
    ("oversized", "oversized", "timeout"),
    ("short_last_field", "malformed", "timeout"),
    ("mode_3", "mode", "timeout"),
    ("mode_5", "mode", "timeout"),
    ("mode_6", "mode", "timeout"),
]

# The same with a key (-a 1): replies whose MAC does not verify are not answers either.
MAC_IGNORED = [
    ("bad_mac", "mac", "auth"),
    ("mac_other_key", "mac_key_id", "auth"),
    ("mac_missing", "mac_missing", "auth"),
    ("crypto_nak", "crypto_nak", "auth"),
    ("mac_truncated", "malformed", "timeout"),
]

# Replies to our request that fail a sanity test: (scenario, error kind, failed check, what the
# text says). The first reply decides; a genuine one after it comes too late.
REJECTED = [
    ("version_0", "sanity", "version", "sanity checks: version"),
    ("version_5", "sanity", "version", "sanity checks: version"),
    ("leap_3", "unsynchronised", "leap", "leap indicator 3"),
    ("stratum_16", "unsynchronised", "stratum", "stratum 16"),
    ("stratum_255", "unsynchronised", "stratum", "stratum 255"),
    ("zero_transmit", "sanity", "transmit", "sanity checks: transmit"),
    ("zero_receive", "sanity", "receive", "sanity checks: receive"),
    ("t3_before_t2", "sanity", "server_order", "sanity checks: server_order"),
    ("slow_processing", "sanity", "round_trip", "sanity checks: round_trip"),
    ("root_delay_absurd", "sanity", "root_distance", "sanity checks: root_distance"),
    ("root_dispersion_absurd", "sanity", "root_distance", "sanity checks: root_distance"),
    ("reference_future", "sanity", "reference", "sanity checks: reference"),
]

# Kiss-o'-Death: (scenario, kiss code as reported).
KISSES = [
    ("kiss_rate", "RATE"),
    ("kiss_deny", "DENY"),
    ("kiss_rstr", "RSTR"),
    ("kiss_unknown", "ZZZZ"),
    ("kiss_binary", "\\x00\\xff\\x0a\\x1b"),  # escaped: no raw control bytes in the output
]

# Scenarios with a test method of their own below.
SPECIAL = {"good", "silent", "duplicate", "replay", "extension_fields", "next_era",
           "era_straddle", "late", "flood", "trickle", "reference_zero"}

ERA1_UNIX = 2085978496  # 2036-02-07T06:28:16Z
NTP_UNIX_DELTA = 2208988800  # seconds from 1900 to 1970

KEYS = "1 md5 first-secret\n2 sha1 second-secret\n"


def target(responder, host="127.0.0.1"):
    return f"{host}:{responder.port}"


class HostileTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for path in (HOSTILE, NTPPROBE):
            if not os.path.exists(path):
                raise AssertionError(f"{path} not built")
        cls.dir = tempfile.TemporaryDirectory(prefix="ntpkit-hostile-")
        cls.keys = os.path.join(cls.dir.name, "ntp.keys")
        with open(cls.keys, "w") as f:
            f.write(KEYS)
        os.chmod(cls.keys, 0o600)

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def key_args(self):
        return ["--key-file", self.keys, "--key-id", "1"]


class Coverage(HostileTestCase):
    def test_every_scenario_has_a_test(self):
        listed = {line.split()[0] for line in probe("--list", binary=HOSTILE).out.splitlines()}
        covered = {row[0] for table in (IGNORED, MAC_IGNORED, REJECTED, KISSES) for row in table}
        self.assertEqual(listed - covered - SPECIAL, set())
        self.assertEqual((covered | SPECIAL) - listed, set())


class IgnoredReplies(HostileTestCase):
    def check_ignored(self, scenario, reason, kind, server_args=(), probe_args=()):
        with Responder(scenario, *server_args) as r:
            where = target(r)
            run, doc = probe_json("-t", TIMEOUT, *probe_args, where)
            a = first_address(doc)
            self.assertEqual(run.rc, 1, run.out)
            self.assertEqual(a["error"]["kind"], kind)
            self.assertGreaterEqual(a["ignored"].get(reason, 0), 1, a["ignored"])
            self.assertEqual(a["replies"], 0)
            run = probe("-t", TIMEOUT, *probe_args, where)
            self.assertEqual(run.rc, 1)
            self.assertIn(f"error {kind}", run.out)
            self.assertIn(reason, run.out)
            run = probe("--nagios", "-t", TIMEOUT, *probe_args, where)
            self.assertEqual(run.rc, NAGIOS_STATE[kind], run.out)
        with Responder(scenario, "--then-genuine", *server_args) as r:
            run, doc = probe_json("-t", TIMEOUT, *probe_args, target(r))
            a = first_address(doc)
            self.assertEqual(run.rc, 0, run.out)
            self.assertTrue(a["ok"])
            self.assertEqual(a["replies"], 1)
            self.assertGreaterEqual(a["ignored"].get(reason, 0), 1, a["ignored"])

    def test_not_an_answer_is_waited_past(self):
        for scenario, reason, kind in IGNORED:
            with self.subTest(scenario=scenario):
                self.check_ignored(scenario, reason, kind)

    def test_unauthenticated_reply_is_waited_past(self):
        for scenario, reason, kind in MAC_IGNORED:
            with self.subTest(scenario=scenario):
                self.check_ignored(scenario, reason, kind, self.key_args(),
                                   ["-a", "1", "-k", self.keys])

    def test_authenticated_reply_is_taken(self):
        with Responder("good", *self.key_args()) as r:
            run, doc = probe_json("-t", TIMEOUT, "-a", "1", "-k", self.keys, target(r))
        a = first_address(doc)
        self.assertEqual(run.rc, 0, run.out)
        self.assertEqual(a["authentication"]["status"], "authenticated")

    def test_ipv6_wrong_origin_is_waited_past(self):
        with Responder("wrong_origin", "--then-genuine", listen="[::1]:0") as r:
            run, doc = probe_json("-t", TIMEOUT, f"[::1]:{r.port}")
        a = first_address(doc)
        self.assertEqual(run.rc, 0, run.out)
        self.assertEqual(a["ignored"].get("origin"), 1)


class RejectedReplies(HostileTestCase):
    def test_failed_sanity_test_is_named(self):
        for scenario, kind, check, text in REJECTED:
            with self.subTest(scenario=scenario), Responder(scenario, "--then-genuine") as r:
                run, doc = probe_json("-t", TIMEOUT, target(r))
                a = first_address(doc)
                self.assertEqual(run.rc, 1, run.out)
                self.assertFalse(a["ok"])
                self.assertEqual(a["error"]["kind"], kind)
                self.assertIs(a["samples"][-1]["checks"][check], False)
                # The first reply decides: the genuine one after it is not waited for.
                self.assertEqual(a["replies"], 1)
                run = probe("-t", TIMEOUT, target(r))
                self.assertEqual(run.rc, 1)
                self.assertIn(f"error {kind}", run.out)
                self.assertIn(text, run.out)
                run = probe("-v", "-t", TIMEOUT, target(r))
                self.assertRegex(run.out, rf"checks +FAILED [a-z_ ]*\b{check}\b")
                run = probe("--nagios", "-t", TIMEOUT, target(r))
                self.assertEqual(run.rc, CRITICAL, run.out)
                self.assertTrue(run.out.startswith("NTP CRITICAL"), run.out)


class Kisses(HostileTestCase):
    def test_kiss_is_reported(self):
        for scenario, code in KISSES:
            with self.subTest(scenario=scenario), Responder(scenario) as r:
                run, doc = probe_json("-t", TIMEOUT, target(r))
                a = first_address(doc)
                self.assertEqual(run.rc, 1, run.out)
                self.assertEqual(a["error"]["kind"], "kiss")
                self.assertEqual(a["error"]["kiss_code"], code)
                self.assertIn(f"kiss-o'-death {code}", probe("-t", TIMEOUT, target(r)).out)
                run = probe("--nagios", "-t", TIMEOUT, target(r))
                self.assertEqual(run.rc, CRITICAL, run.out)

    def test_no_request_follows_a_kiss(self):
        # Three samples with two retries each, and the address named twice (two spellings: the
        # same spelling twice is queried once): one request only.
        for scenario in ("kiss_rate", "kiss_deny", "kiss_rstr", "kiss_unknown"):
            with self.subTest(scenario=scenario), Responder(scenario) as r:
                run, doc = probe_json("-4", "-t", TIMEOUT, "-n", "3", "-r", "2", "-i", "0.1",
                                      "--allow-fast", target(r), f"localhost:{r.port}")
                self.assertEqual(r.stop(), 1)
            self.assertEqual(run.rc, 1)
            self.assertEqual(first_address(doc)["requests"], 1)
            second = first_address(doc, 1)
            self.assertEqual(second["requests"], 0)
            self.assertIn("earlier in this run", second["error"]["message"])


class Special(HostileTestCase):
    def test_good_reply_passes(self):
        with Responder("good") as r:
            run, doc = probe_json("-t", TIMEOUT, target(r))
        self.assertEqual(run.rc, 0, run.out)
        self.assertTrue(all(first_address(doc)["samples"][0]["checks"].values()))

    def test_zero_reference_time_passes(self):
        # "Never synchronised": an orphan ntpd serves stratum 10 with it, and ntpd, ntpdig and
        # chrony accept it (RFC 5905 only rejects a reference after T3), so ntpprobe does too.
        with Responder("reference_zero") as r:
            run, doc = probe_json("-t", TIMEOUT, target(r))
        self.assertEqual(run.rc, 0, run.out)
        self.assertIs(first_address(doc)["samples"][0]["checks"]["reference"], True)

    def test_silent_server_times_out(self):
        with Responder("silent") as r:
            run, doc = probe_json("-t", TIMEOUT, target(r))
            self.assertEqual(r.stop(), 1)
        self.assertEqual(run.rc, 1)
        self.assertEqual(first_address(doc)["error"]["kind"], "timeout")
        with Responder("silent") as r:
            run = probe("--nagios", "-t", TIMEOUT, target(r))
        self.assertEqual(run.rc, UNKNOWN, run.out)

    def test_duplicate_is_counted_not_taken_twice(self):
        with Responder("duplicate") as r:
            run, doc = probe_json("-t", TIMEOUT, "-n", "2", "-i", "0.2", "--allow-fast",
                                  target(r))
        a = first_address(doc)
        self.assertEqual(run.rc, 0, run.out)
        self.assertEqual(a["replies"], 2)
        self.assertEqual(a["ignored"].get("duplicate"), 1)

    def test_replayed_reply_is_not_taken(self):
        with Responder("replay") as r:
            run, doc = probe_json("-t", TIMEOUT, "-n", "2", "-i", "0.2", "--allow-fast",
                                  target(r))
            a = first_address(doc)
            # Request 2 gets reply 1 again: a duplicate, not a second sample.
            self.assertEqual(a["replies"], 1)
            self.assertEqual(a["ignored"].get("duplicate"), 1)
            self.assertEqual(run.rc, 0, run.out)
            # A later run gets the reply captured from this one: its origin is not ours.
            run, doc = probe_json("-t", TIMEOUT, target(r))
            a = first_address(doc)
            self.assertEqual(run.rc, 1)
            self.assertEqual(a["ignored"].get("origin"), 1)
            self.assertEqual(a["error"]["kind"], "timeout")

    def test_extension_fields_are_skipped(self):
        with Responder("extension_fields") as r:
            run, doc = probe_json("-t", TIMEOUT, target(r))
        self.assertEqual(run.rc, 0, run.out)
        self.assertEqual(first_address(doc)["server"]["extension_fields"], 100)

    def test_offset_across_the_era_boundary(self):
        # The server's clock reads 2036-02-07T06:28:21Z: its timestamps are in era 1.
        with Responder("next_era") as r:
            run, doc = probe_json("-t", TIMEOUT, target(r))
            text = probe("-t", TIMEOUT, target(r))
            plugin = probe("--nagios", "-w", "1e9", "-c", "2e9", "-t", TIMEOUT, target(r))
        a = first_address(doc)
        self.assertEqual(run.rc, 0, run.out)
        # Exact but for path asymmetry, which half the round-trip delay bounds.
        self.assertLess(a["delay"], 1.0)
        self.assertAlmostEqual(a["offset"], r.offset, delta=a["delay"] / 2 + 1e-4)
        self.assertTrue(a["samples"][0]["t3"]["iso"].startswith("2036-02-07T06:28:2"))
        self.assertTrue(a["samples"][0]["t3"]["ntp"].startswith("0x0000000"))
        self.assertEqual(text.rc, 0)
        self.assertIn("2036-02-07T06:28:2", text.out)
        self.assertEqual(plugin.rc, OK, plugin.out)

    def test_exchange_straddling_the_era_boundary(self):
        # T2 = 2036-02-07T06:28:15.999Z (era 0), T3 = 06:28:16.001Z (era 1).
        with Responder("era_straddle") as r:
            run, doc = probe_json("-t", TIMEOUT, target(r))
        s = first_address(doc)["samples"][0]
        self.assertEqual(run.rc, 0, run.out)
        self.assertTrue(s["t2"]["ntp"].startswith("0xffffffff"), s["t2"])
        self.assertTrue(s["t3"]["ntp"].startswith("0x00000000"), s["t3"])
        self.assertAlmostEqual(s["processing"], 0.002, delta=0.0005)
        # T2 is the boundary - 1 ms exactly, so with T1 from the wire the offset must be
        # (T2 - T1) - delay / 2 (RFC 5905 §8), computed here in plain seconds since 1970.
        seconds, fraction = s["t1"]["ntp"][2:].split(".")
        t1 = int(seconds, 16) + int(fraction, 16) / 2**32 - NTP_UNIX_DELTA
        self.assertLess(abs(s["delay"]), 1.0)
        self.assertAlmostEqual(s["offset"], ERA1_UNIX - 0.001 - t1 - s["delay"] / 2, delta=1e-5)

    def test_late_answer(self):
        # Held 1.5 s: a 1 s timeout expires first; with a retry, the late answer to the first
        # request is still taken.
        with Responder("late") as r:
            run, doc = probe_json("-t", "1", target(r))
            self.assertEqual(run.rc, 1)
            self.assertEqual(first_address(doc)["error"]["kind"], "timeout")
        with Responder("late") as r:
            run, doc = probe_json("-t", "1", "-r", "1", "-i", "1", "--allow-fast", target(r))
        a = first_address(doc)
        self.assertEqual(run.rc, 0, run.out)
        self.assertEqual(a["requests"], 2)
        self.assertEqual(a["samples"][0]["attempt"], 0)

    def test_flood_then_genuine(self):
        # 300 ms of junk as fast as the responder can send it, then the genuine reply.
        with Responder("flood", "--flood-ms", "300", "--then-genuine") as r:
            run, doc = probe_json("-t", "3", target(r))
        a = first_address(doc)
        self.assertEqual(run.rc, 0, run.out)
        self.assertGreater(sum(a["ignored"].values()), 100, a["ignored"])
        self.assertLess(run.seconds, 3.0)

    def test_trickle_then_timeout(self):
        with Responder("trickle") as r:
            run, doc = probe_json("-t", "1", target(r))
        a = first_address(doc)
        self.assertEqual(run.rc, 1)
        self.assertEqual(a["error"]["kind"], "timeout")
        self.assertGreaterEqual(sum(a["ignored"].values()), 5, a["ignored"])

    def test_check_ntp_time_ignores_a_foreign_origin(self):
        with Responder("wrong_origin") as r:
            run = probe("-H", "127.0.0.1", "-p", str(r.port), "-t", "2",
                        binary=CHECK_NTP_TIME)
        self.assertEqual(run.rc, CRITICAL, run.out)
        self.assertIn("No response", run.out)


if __name__ == "__main__":
    unittest.main()
