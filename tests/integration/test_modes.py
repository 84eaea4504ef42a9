"""ntpprobe's other modes against real servers: broadcast listening and interleaved mode.

Broadcast: chronyd's `broadcast INTERVAL ADDRESS PORT` (chrony.conf(5); 1 s is accepted)
sends mode 5 packets from its NTP socket (127.0.0.1:11123) to 127.0.0.1:12123 and to
127.255.255.255:12124. `ntpprobe --listen-broadcast -p PORT` must report chronyd as the sender
with mode 5 samples whose transmit timestamps are the ones on the wire (tcpdump) and whose
header is what `chronyc tracking` says; a datagram that is not a broadcast is ignored.

Interleaved (RFC 9769): chronyd answers a client's third request on in interleaved mode,
which its `serverstats` counts ("Interleaved NTP packets"). ntpprobe -x marks those samples,
selects one (its T3 is the kernel's send time, so its delay is the least) and the offset on
loopback is within microseconds. NTPsec ntpd has no interleaved server mode: every sample
stays basic and the run still succeeds.
"""

import contextlib
import json
import struct
import subprocess
import unittest

import peers
import probe
import wire

CHRONY_PORT = 11123
UNICAST_PORT = 12123
BROADCAST_PORT = 12124
STRAY_PORT = 12125
QUIET_PORT = 12126
# chronyd broadcasts every second; -n 2 arrives within 2 s, -t 5 bounds the wait.
LISTEN = ["--listen-broadcast", "-n", "2"]
WAIT = ["--listen-duration", "5"]
STRAY_SCRIPT = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for first in (0x24, 0x23, 0x26):  # server, client, control: none of them a broadcast
    s.sendto(bytes([first, 2]) + bytes(46), ("127.0.0.1", int(sys.argv[1])))
"""
XLEAVE = ["-x", "-n", "5", "-i", "0.2", "--allow-fast"]


def transmit_hex(payload):
    """The transmit timestamp of an NTP packet as ntpprobe's JSON writes it."""
    seconds, fraction = struct.unpack_from("!II", payload, 40)
    return f"0x{seconds:08x}.{fraction:08x}"


class BroadcastTest(unittest.TestCase):
    """--listen-broadcast hears chronyd's broadcasts."""

    @classmethod
    def setUpClass(cls):
        stack = contextlib.ExitStack()
        cls.addClassCleanup(stack.close)
        cls.ns = stack.enter_context(peers.Namespace())
        cls.chronyd = stack.enter_context(peers.Chronyd(cls.ns, port=CHRONY_PORT, config_extra=(
            f"broadcast 1 127.0.0.1 {UNICAST_PORT}\n"
            f"broadcast 1 127.255.255.255 {BROADCAST_PORT}\n"
            f"broadcast 1 127.0.0.1 {STRAY_PORT}")))

    def listen_json(self, args, expect_rc=0):
        """`ntpprobe -j --listen-broadcast ARGS`: the one target."""
        wait = [] if "--listen-duration" in args else WAIT
        doc, result = probe.probe_json(self, LISTEN + wait + args, self.ns.run, expect_rc)
        self.assertEqual(result.stderr, "")
        (target,) = doc["targets"]
        return target

    def assert_heard_chronyd(self, address, sent):
        """One sender, chronyd's NTP socket, with mode 5 samples that were on the wire and a
        header as chronyc tracking says."""
        tracking = self.chronyd.tracking()
        self.assertTrue(address["ok"], address["error"])
        self.assertEqual((address["address"], address["port"]), ("127.0.0.1", CHRONY_PORT))
        self.assertEqual((address["requests"], address["replies"]), (0, 2))
        server = address["server"]
        self.assertEqual(server["mode"], 5)
        self.assertEqual(server["stratum"], int(tracking["stratum"]))
        self.assertEqual(server["refid"]["raw"], "0x" + tracking["ref_id"].lower())
        self.assertEqual(server["leap"], peers.CHRONY_LEAP[tracking["leap_status"]])
        for sample in address["samples"]:
            self.assertTrue(sample["broadcast"])
            self.assertEqual(sample["verdict"], "ok")
            self.assertIsNone(sample["t1"])
            self.assertIn(sample["t3"]["ntp"], sent, "a transmit time chronyd did not send")

    def test_hears_chronyd_broadcasting_to_an_address(self):
        """To 127.0.0.1:12123: two samples; with --broadcast-delay 0 the offset is the one-way
        delay on loopback (microseconds), with the default it is 4 ms more."""
        for delay, expected in (([], 0.004), (["--broadcast-delay", "0"], 0.0)):
            with self.subTest(delay=delay):
                with wire.Capture(self.ns, f"udp port {UNICAST_PORT}", self.chronyd.dir,
                                  f"unicast{len(delay)}") as capture:
                    target = self.listen_json(["-p", str(UNICAST_PORT)] + delay)
                sent = {transmit_hex(d.payload) for d in capture.datagrams() if d.mode == 5}
                self.assertTrue(target["ok"])
                self.assertEqual(target["target"], f"broadcast 0.0.0.0:{UNICAST_PORT}")
                (address,) = target["addresses"]
                self.assert_heard_chronyd(address, sent)
                self.assertLess(abs(address["offset"] - expected), 1e-3, address["offset"])

    def test_hears_the_broadcast_address_and_filters_senders(self):
        """To 127.255.255.255:12124, text output; naming the sender keeps it, naming another
        address hears nothing (exit 1, a timeout of the whole target)."""
        result = probe.run_probe(LISTEN + WAIT + ["-p", str(BROADCAST_PORT), "127.0.0.1"],
                                 self.ns.run, timeout=20)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        (line,) = probe.parse_summary(result.stdout)
        self.assertEqual(line["where"], f"127.0.0.1:{CHRONY_PORT} (0.0.0.0)")
        self.assertEqual(line["stratum"], self.chronyd.tracking()["stratum"])
        target = self.listen_json(["--listen-duration", "2.5", "-p", str(BROADCAST_PORT), "127.0.0.2"],
                                  expect_rc=1)
        self.assertEqual(target["addresses"], [])
        self.assertEqual(target["error"]["kind"], "timeout")

    def test_a_datagram_that_is_not_a_broadcast_is_ignored(self):
        """Mode 4, 3 and 6 datagrams sent to the listening port while chronyd broadcasts to
        it: only chronyd is reported, ok, and the run succeeds."""
        with wire.Capture(self.ns, f"udp port {STRAY_PORT}", self.chronyd.dir,
                          "stray") as capture:
            proc = self.ns.popen([peers.binary("ntpprobe"), "-j"] + LISTEN + WAIT +
                                 ["-p", str(STRAY_PORT)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            wait_listening(self.ns, STRAY_PORT)
            self.ns.run(["python3", "-c", STRAY_SCRIPT, str(STRAY_PORT)], check=True)
            out, err = proc.communicate(timeout=20)
        strays = [d for d in capture.datagrams() if d.mode != 5]
        self.assertEqual(len(strays), 3, "the stray datagrams reached the port")
        self.assertEqual((proc.returncode, err), (0, ""), out)
        (target,) = json.loads(out)["targets"]
        self.assertTrue(target["ok"], target)
        (address,) = target["addresses"]
        sent = {transmit_hex(d.payload) for d in capture.datagrams() if d.mode == 5}
        self.assert_heard_chronyd(address, sent)

    def test_only_stray_datagrams_are_no_broadcast_heard(self):
        """On a port nobody broadcasts to, the three stray datagrams are all that comes: no
        sender is reported, the target fails with a timeout that counts them."""
        proc = self.ns.popen([peers.binary("ntpprobe"), "-j", "--listen-broadcast", "--listen-duration", "2",
                              "-p", str(QUIET_PORT)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        wait_listening(self.ns, QUIET_PORT)
        self.ns.run(["python3", "-c", STRAY_SCRIPT, str(QUIET_PORT)], check=True)
        out, err = proc.communicate(timeout=20)
        self.assertEqual((proc.returncode, err), (1, ""), out)
        (target,) = json.loads(out)["targets"]
        self.assertEqual(target["addresses"], [])
        self.assertEqual(target["error"]["kind"], "timeout")
        self.assertEqual(target["error"]["message"],
                         "no broadcast heard within 2 s (ignored: 3 mode)")


def wait_listening(ns, port, timeout=5.0):
    """Waits (bounded) until a UDP socket is bound to `port` in the namespace."""
    def bound():
        out = ns.run(["ss", "-u", "-l", "-n", "-H", f"sport = :{port}"]).stdout
        return out.strip() != ""
    peers.wait_until(bound, timeout, what=f"a socket on UDP port {port}")


class InterleavedTest(unittest.TestCase):
    """-x against chronyd (interleaved server) and ntpd (none)."""

    @classmethod
    def setUpClass(cls):
        stack = contextlib.ExitStack()
        cls.addClassCleanup(stack.close)
        cls.ns = stack.enter_context(peers.Namespace())
        cls.chronyd = stack.enter_context(peers.Chronyd(cls.ns, port=CHRONY_PORT))
        cls.ntpd = stack.enter_context(peers.Ntpd(cls.ns))

    def probe_address(self, target):
        """`ntpprobe -j -x -n 5 -i 0.2 --allow-fast TARGET`: its one address."""
        doc, _ = probe.probe_json(self, XLEAVE + [target], self.ns.run)
        (address,) = doc["targets"][0]["addresses"]
        return address

    def test_chronyd_answers_interleaved_and_the_exact_sample_wins(self):
        """Over IPv4 and IPv6: later samples interleaved (as many as chronyd counted), the
        selected one among them, with less delay than every basic sample, |offset| < 20 us."""
        for target in (f"127.0.0.1:{CHRONY_PORT}", f"[::1]:{CHRONY_PORT}"):
            with self.subTest(target=target):
                before = self.chronyd.serverstats()["Interleaved NTP packets"]
                a = self.probe_address(target)
                served = self.chronyd.serverstats()["Interleaved NTP packets"] - before
                self.assertTrue(a["ok"], a["error"])
                self.assertEqual(a["requests"], 5)
                samples = a["samples"]
                flags = [s["interleaved"] for s in samples]
                self.assertEqual(sum(flags), served, "interleaved samples vs chronyd's count")
                self.assertGreater(served, 0)
                self.assertEqual(flags, sorted(flags), "basic samples first, then interleaved")
                for s in samples:
                    probe.assert_sample_good(self, s)
                (selected,) = [s for s in samples if s["selected"]]
                self.assertTrue(selected["interleaved"])
                basic = [s["delay"] for s in samples if not s["interleaved"]]
                self.assertLess(selected["delay"], min(basic))
                self.assertLess(abs(a["offset"]), 20e-6)
                self.assertEqual(a["server"]["stratum"], int(self.chronyd.tracking()["stratum"]))

    def test_ntpd_stays_basic_and_succeeds(self):
        """ntpd ignores the interleaved request fields: five basic answers, a good result."""
        a = self.probe_address("127.0.0.1")
        self.assertTrue(a["ok"], a["error"])
        self.assertEqual((a["requests"], a["replies"]), (5, 5))
        self.assertEqual([s["interleaved"] for s in a["samples"]], [False] * 5)
        for s in a["samples"]:
            probe.assert_sample_good(self, s)
        self.assertEqual(a["server"]["stratum"], int(self.ntpd.variables()["stratum"]))
        self.assertLess(abs(a["offset"]), 1e-3)


if __name__ == "__main__":
    unittest.main()
