"""chronyd refusing a client: it drops the request without a word, or has no socket at all.

chrony 4.3 sends no Kiss-o'-Death for rate limiting or `deny` (PEERS.md quirk 11): both drop
the request silently, so ntpprobe can only report that no answer came (a timeout, exit 1). A
chronyd whose `allow` lines cover only IPv4 opens no IPv6 socket (quirk 14): a request to
[::1] draws ICMP port unreachable, which ntpprobe reports as such at once.

Two chronyd in one namespace:
  RATE  port 11125, `ratelimit interval 3 burst 1 leak 4`: after one answer, requests within
        8 s are dropped, except that 1 in 16 "leaks" through at random (leak 4 is chrony's
        least leakage). Each ntpprobe run is judged against chronyd's own count of dropped
        requests ("NTP packets dropped" in serverstats), so a leaked answer is no failure.
  DENY  port 11126, the wildcard address, `allow 127.0.0.0/8` and `deny 127.0.0.1`, nothing
        for IPv6. 127.0.0.2/32 on lo makes requests to 127.0.0.2 leave from 127.0.0.2, a
        client chronyd allows. Denied requests are not even counted by chronyd; tcpdump shows
        them leave and no answer come back.
"""

import contextlib
import json
import unittest

import peers
import probe
import wire

RATE_PORT = 11125
DENY_PORT = 11126
TIMEOUT = "0.5"
# Runs against the rate-limiting chronyd until one request was dropped: each is dropped with
# probability 15/16, so all of them leaking (16^-6) does not happen.
RATE_ATTEMPTS = 6


class SilentRefusalTest(unittest.TestCase):
    """ntpprobe's report of requests chronyd drops, and of a family it does not serve."""

    @classmethod
    def setUpClass(cls):
        stack = contextlib.ExitStack()
        cls.addClassCleanup(stack.close)
        cls.ns = stack.enter_context(peers.Namespace())
        cls.ns.add_address("127.0.0.2/32")
        cls.rate = stack.enter_context(peers.Chronyd(
            cls.ns, port=RATE_PORT, config_extra="ratelimit interval 3 burst 1 leak 4"))
        cls.deny = stack.enter_context(peers.Chronyd(
            cls.ns, port=DENY_PORT, bind=(), allow=("127.0.0.0/8",),
            config_extra="deny 127.0.0.1"))

    def run_probe(self, args):
        """ntpprobe ARGS inside the namespace."""
        return probe.run_probe(args, self.ns.run)

    def probe_address(self, target, expect_rc):
        """`ntpprobe -j -t 0.5 TARGET`: its one address object."""
        doc, _ = probe.probe_json(self, ["-t", TIMEOUT, target], self.ns.run, expect_rc)
        (address,) = doc["targets"][0]["addresses"]
        return address

    def test_rate_limited_requests_are_reported_as_no_answer(self):
        """Every run agrees with chronyd: dropped by it means timeout (exit 1), answered (the
        first of a burst, or a leak) means ok; runs go on until chronyd dropped one."""
        target = f"127.0.0.1:{RATE_PORT}"
        verdicts = []
        for _ in range(RATE_ATTEMPTS):
            before = self.rate.serverstats()
            result = self.run_probe(["-j", "-t", TIMEOUT, target])
            after = self.rate.serverstats()
            received = after["NTP packets received"] - before["NTP packets received"]
            dropped = after["NTP packets dropped"] - before["NTP packets dropped"]
            self.assertEqual(received, 1, "one request per run")
            (a,) = json.loads(result.stdout)["targets"][0]["addresses"]
            if dropped:
                self.assertEqual(result.returncode, 1, result.stdout)
                self.assertEqual(a["error"]["kind"], "timeout")
                self.assertEqual(a["error"]["message"], f"no reply within {TIMEOUT} s")
                self.assertEqual((a["requests"], a["replies"]), (1, 0))
            else:
                self.assertEqual(result.returncode, 0, result.stdout)
                self.assertTrue(a["ok"])
            verdicts.append(bool(dropped))
            if dropped:
                break
        self.assertTrue(any(verdicts), f"chronyd never rate-limited: {verdicts}")

    def test_rate_limited_text_and_nagios(self):
        """Right after an answer: text says timeout, --nagios UNKNOWN (no reply), exit 3."""
        target = f"127.0.0.1:{RATE_PORT}"
        for args, code in [([], 1), (["--nagios"], 3)]:
            with self.subTest(args=args):
                for _ in range(RATE_ATTEMPTS):
                    before = self.rate.serverstats()["NTP packets dropped"]
                    result = self.run_probe(args + ["-t", TIMEOUT, target])
                    if self.rate.serverstats()["NTP packets dropped"] > before:
                        break
                self.assertEqual(result.returncode, code, result.stdout)
                if args:
                    self.assertEqual(result.stdout, f"NTP UNKNOWN: {target} no reply within "
                                                    f"{TIMEOUT} s\n")
                else:
                    (line,) = probe.parse_summary(result.stdout)
                    self.assertEqual((line["where"], line["kind"]), (target, "timeout"))

    def test_denied_client_gets_no_answer_and_an_allowed_one_does(self):
        """From 127.0.0.1 (denied): a timeout, and on the wire a request with no answer; from
        127.0.0.2 (allowed) the same chronyd answers."""
        with wire.Capture(self.ns, f"udp port {DENY_PORT}", self.deny.dir) as capture:
            denied = self.probe_address(f"127.0.0.1:{DENY_PORT}", 1)
        self.assertEqual(denied["error"]["kind"], "timeout")
        self.assertEqual((denied["requests"], denied["replies"]), (1, 0))
        datagrams = capture.datagrams()
        self.assertEqual([(d.src, d.mode) for d in datagrams], [("127.0.0.1", 3)],
                         "one request, no answer")
        before = self.deny.serverstats()["NTP packets received"]
        allowed = self.probe_address(f"127.0.0.2:{DENY_PORT}", 0)
        self.assertTrue(allowed["ok"])
        self.assertEqual(allowed["server"]["stratum"], int(self.deny.tracking()["stratum"]))
        self.assertEqual(self.deny.serverstats()["NTP packets received"], before + 1)

    def test_no_ipv6_socket_means_port_unreachable(self):
        """chronyd listens on no IPv6 address (ss says so): [::1] is unreachable at once."""
        sockets = self.ns.run(["ss", "-u", "-a", "-n", "-H"], check=True).stdout
        local = [line.split()[3] for line in sockets.splitlines()]
        self.assertIn(f"0.0.0.0:{DENY_PORT}", local)
        self.assertFalse([s for s in local if s.startswith("[") and
                          s.endswith(f"]:{DENY_PORT}")], local)
        target = f"[::1]:{DENY_PORT}"
        a = self.probe_address(target, 1)
        self.assertEqual(a["error"]["kind"], "unreachable")
        self.assertEqual(a["error"]["message"], f"port unreachable: nothing listens on {target}")
        result = self.run_probe(["--nagios", target])
        self.assertEqual(result.returncode, 3, result.stdout)
        result = self.run_probe(["--nagios", "--no-reply-critical", target])
        self.assertEqual(result.returncode, 2, result.stdout)


if __name__ == "__main__":
    unittest.main()
