"""Kiss-o'-Death RATE from a real NTPsec ntpd, and what ntpprobe does about it.

ntpd runs in a network namespace of its own (it always binds *:123) and rate-limits every
client but 127.0.0.1 (`restrict default kod limited`; `restrict 127.0.0.1` has no `limited`)
with a limit that kisses the second request of a burst: `limit average 0.15 burst 10 kod
1000`. In NTPsec 1.2.2 a client's score starts at 1/burst = 0.1, grows by 0.1 per request and
decays with a time constant of `burst` seconds; a request is limited once the score reaches
`average`, and is answered with KoD RATE unless the score exceeds average + kod (never, here).
So a fresh client's first request is answered and any request within a few seconds after it
gets RATE.

ntpprobe has no source-address option. Each test uses an address of its own, 127.0.0.N/32 on
lo: a request to it leaves *from* it (the local route of a /32 address has it as source), so
each test is a fresh client to ntpd with a score of its own. Warming a score means sending a
request from the test itself first, so that ntpprobe's first request already draws RATE.

What ntpd did is read from ntpd itself (`ntpq -c mrulist`: requests per client and how many
were limited) and from the wire (tcpdump inside the namespace): ntpprobe must send nothing to
an address after its KoD, for the rest of the run.
"""

import contextlib
import json
import os
import unittest

import peers
import probe
import wire

PLUGIN = "/usr/lib/nagios/plugins/check_ntp_time"
LIMIT = "limit average 0.15 burst 10 kod 1000"
# One client address per test (and two spare ones for warm-up checks).
CLIENTS = [f"127.0.0.{n}" for n in range(3, 12)]
FAST = ["-i", "0.5", "--allow-fast"]
KISS_MESSAGE = "kiss-o'-death RATE"

BURST_SCRIPT = """
import json, socket, sys
address, count = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
answers = []
for i in range(count):
    s.sendto(bytes([0x23]) + bytes(39) + (i + 1).to_bytes(8, "big"), (address, 123))
    try:
        reply = s.recv(512)
        answers.append([reply[1], reply[12:16].decode("latin-1")])
    except socket.timeout:
        answers.append(None)
print(json.dumps(answers))
"""


class KissOfDeathTest(unittest.TestCase):
    """ntpprobe against an ntpd that answers with KoD RATE."""

    @classmethod
    def setUpClass(cls):
        stack = contextlib.ExitStack()
        cls.addClassCleanup(stack.close)
        cls.ns = stack.enter_context(peers.Namespace())
        for address in CLIENTS:
            cls.ns.add_address(f"{address}/32")
        listen = "\n".join(f"interface listen {address}" for address in CLIENTS)
        cls.ntpd = stack.enter_context(peers.Ntpd(cls.ns, config_extra=f"{listen}\n{LIMIT}"))

    def burst(self, address, count):
        """Sends `count` client requests to address:123 from the test (they leave from that
        address); what came back for each: [stratum, refid text] or None."""
        result = self.ns.run(["python3", "-c", BURST_SCRIPT, address, str(count)], check=True)
        return json.loads(result.stdout)

    def warm(self, address):
        """Raises ntpd's score for `address` until it kisses: the server's answers prove it."""
        answers = self.burst(address, 2)
        self.assertEqual([a and a[0] for a in answers], [10, 0], f"{address}: {answers}")
        self.assertEqual(answers[1][1], "RATE")

    def capture(self, name):
        """A tcpdump capture of the namespace's port 123 traffic."""
        return wire.Capture(self.ns, "udp port 123", self.ntpd.dir, name)

    def run_probe(self, args):
        """ntpprobe ARGS inside the namespace; the CompletedProcess."""
        return probe.run_probe(args, self.ns.run)

    def assert_nothing_sent_after_kiss(self, datagrams, address, requests, kisses=1):
        """On the wire: `requests` requests from `address`, `kisses` RATE kisses to it, and no
        request after the first kiss."""
        sent = [d for d in wire.ntp_requests(datagrams, 123) if d.src == address]
        kissed = [d for d in wire.kisses(datagrams, b"RATE") if d.dst == address]
        self.assertEqual(len(sent), requests, f"requests on the wire: {datagrams}")
        self.assertEqual(len(kissed), kisses, f"kisses on the wire: {datagrams}")
        self.assertTrue(all(d.time <= kissed[0].time for d in sent),
                        f"a request left after the KoD: {datagrams}")

    def test_warm_up_gets_rate_from_ntpd(self):
        """The set-up works: a fresh client is answered once, then kissed (and 127.0.0.1 is not
        rate-limited, so the harness's own ntpq stays unaffected)."""
        self.assertEqual([a and a[0] for a in self.burst(CLIENTS[-1], 3)], [10, 0, 0])
        self.assertEqual([a and a[0] for a in self.burst("127.0.0.1", 3)], [10, 10, 10])
        mru = self.ntpd.mrulist()[CLIENTS[-1]]
        self.assertEqual((mru["count"], mru["drop"], mru["kod"]), (3, 2, True))

    def test_rate_after_an_answer_is_reported_in_json_and_ends_sending(self):
        """-n 3: the first request is answered, the second kissed, no third is sent."""
        address = CLIENTS[0]
        with self.capture("json") as capture:
            result = self.run_probe(["-j", "-n", "3"] + FAST + [address])
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        doc = json.loads(result.stdout)
        self.assertFalse(doc["ok"])
        (a,) = doc["targets"][0]["addresses"]
        self.assertFalse(a["ok"])
        self.assertEqual(a["error"]["kind"], "kiss")
        self.assertEqual(a["error"]["kiss_code"], "RATE")
        self.assertIn(KISS_MESSAGE, a["error"]["message"])
        self.assertEqual((a["requests"], a["replies"]), (2, 2))
        self.assertEqual([s["verdict"] for s in a["samples"]], ["ok", "kiss"])
        self.assertEqual(a["samples"][1]["kiss_code"], "RATE")
        self.assert_nothing_sent_after_kiss(capture.datagrams(), address, requests=2)
        mru = self.ntpd.mrulist()[address]
        self.assertEqual((mru["count"], mru["drop"]), (2, 1), "ntpd's count of this client")

    def test_warmed_server_kisses_the_first_request_and_text_says_rate(self):
        """-n 3 against a score already high: one request, its RATE, nothing more."""
        address = CLIENTS[1]
        self.warm(address)
        with self.capture("text") as capture:
            result = self.run_probe(["-n", "3"] + FAST + [address])
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        (line,) = probe.parse_summary(result.stdout)
        self.assertEqual(line["where"], f"{address}:123")
        self.assertEqual(line["kind"], "kiss")
        self.assertTrue(line["message"].startswith(KISS_MESSAGE), line["message"])
        self.assertIn("no further requests sent", line["message"])
        self.assert_nothing_sent_after_kiss(capture.datagrams(), address, requests=1)
        mru = self.ntpd.mrulist()[address]
        self.assertEqual((mru["count"], mru["drop"]), (3, 2), "warm-up 2 + ntpprobe 1")

    def test_nagios_says_critical_and_names_rate(self):
        """--nagios against a kissing server: CRITICAL (exit 2), the line names RATE."""
        address = CLIENTS[2]
        self.warm(address)
        result = self.run_probe(["--nagios", "-w", "1", "-c", "2", address])
        self.assertEqual(result.returncode, 2, result.stdout)
        self.assertTrue(result.stdout.startswith("NTP CRITICAL: "), result.stdout)
        self.assertIn("RATE", result.stdout)

    def test_nagios_kiss_after_a_good_answer_is_critical(self):
        """--nagios -n 2: an answer, then RATE; the kiss still makes it CRITICAL (man page)."""
        address = CLIENTS[3]
        result = self.run_probe(["--nagios", "-n", "2"] + FAST + [address])
        self.assertEqual(result.returncode, 2, result.stdout)
        self.assertTrue(result.stdout.startswith("NTP CRITICAL: "), result.stdout)
        self.assertIn("RATE", result.stdout)
        mru = self.ntpd.mrulist()[address]
        self.assertEqual((mru["count"], mru["drop"]), (2, 1))

    def test_kissed_address_gets_nothing_more_from_another_target(self):
        """The same address named twice: once it kissed one query, the other sends no more.

        The pacer spaces the two queries' requests 0.5 s apart: the first is answered, the
        second (of the other query) kissed, and the first query's next round must not go out.
        """
        address = CLIENTS[4]
        with self.capture("twice") as capture:
            result = self.run_probe(["-j", "-n", "2"] + FAST + [address, address])
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assert_nothing_sent_after_kiss(capture.datagrams(), address, requests=2)
        doc = json.loads(result.stdout)
        for target in doc["targets"]:
            (a,) = target["addresses"]
            self.assertEqual((a["error"]["kind"], a["error"]["kiss_code"]), ("kiss", "RATE"),
                             a["error"])
        self.assertEqual(sum(t["addresses"][0]["requests"] for t in doc["targets"]), 2)
        mru = self.ntpd.mrulist()[address]
        self.assertEqual((mru["count"], mru["drop"]), (2, 1))

    def test_check_ntp_time_finds_no_offset_like_the_plugin(self):
        """The installed plugin and check_ntp_time against a kissing server: both "Offset
        unknown" (CRITICAL, or UNKNOWN with -q), as PEERS.md observed for the plugin."""
        if not os.access(PLUGIN, os.X_OK):
            self.skipTest(f"{PLUGIN} missing (Debian package monitoring-plugins-basic)")
        address = CLIENTS[5]
        self.warm(address)
        for extra, state, code in [([], "CRITICAL", 2), (["-q"], "UNKNOWN", 3)]:
            for plugin in (PLUGIN, peers.binary("check_ntp_time")):
                with self.subTest(plugin=plugin, extra=extra):
                    result = self.ns.run([plugin, "-H", address] + extra)
                    self.assertEqual((result.returncode, result.stdout),
                                     (code, f"NTP {state}: Offset unknown|\n"))


if __name__ == "__main__":
    unittest.main()
