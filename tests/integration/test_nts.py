"""NTS (RFC 8915) against real servers and a hostile one, through the library.

tests/tools/nts_probe runs net::query_nts() (NTS-KE over TLS 1.3, then the NTS-protected NTP
exchange) and prints everything the library reports as JSON. The servers run in network
namespaces made here (named nknts-<pid>-<n>), with certificates made here by `openssl req` and
`openssl x509`, the CA passed explicitly (--ca-file):

  chronyd 4.3 (Debian's package, -x)   the truth is what it says of itself: `chronyc
                                       serverstats` (NTS-KE connections, authenticated packets)
                                       and the certificate files (`openssl x509`)
  NTPsec ntpd 1.2.2 (Debian's package) serves NTS-KE and NTS too: its `ntsinfo` counters
  tests/tools/nts_hostile              the answers no real server gives, one per scenario

Every failure must come back as its typed cause (model::error_cause) and the step that failed,
within generous bounds that only catch hangs.
"""

import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import peers

BUILD = peers.build_dir()
PROBE = os.path.join(BUILD, "tests", "nts_probe")
HOSTILE = os.path.join(BUILD, "tests", "nts_hostile")
NTPD = "/usr/sbin/ntpd"
# A probe must end well within this (every step has its own smaller bound).
PROBE_LIMIT = 30

_numbers = itertools.count()


class NtsNamespace(peers.Namespace):
    """peers.Namespace named nknts-<pid>-<n>; stale ones of dead test runs are removed."""

    def __init__(self):
        super().__init__()
        self.name = f"nknts-{os.getpid()}-{next(_numbers)}"

    def __enter__(self):
        peers.require_netns()
        for line in peers.run(["ip", "netns", "list"]).stdout.splitlines():
            m = re.match(r"(nknts-(\d+)-\d+)\b", line)
            if m and not os.path.exists(f"/proc/{m.group(2)}"):
                peers.run(["ip", "netns", "delete", m.group(1)])
        return super().__enter__()


def openssl(*args):
    peers.run(["openssl"] + list(args), check=True)


class Pki:
    """A throw-away CA and server certificates signed by it, made with openssl."""

    EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]

    def __init__(self, directory, name="ntpkit NTS test CA"):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.ca_key = self.path("ca.key")
        self.ca_cert = self.path("ca.crt")
        openssl("req", "-x509", *self.EC, "-keyout", self.ca_key, "-out", self.ca_cert,
                "-days", "2", "-subj", f"/CN={name}")

    def path(self, name):
        return os.path.join(self.dir, name)

    def server(self, label, san="IP:127.0.0.1,IP:::1,DNS:localhost", days=2, cn="127.0.0.1"):
        """A server key and certificate; days=-1 gives one whose notAfter has passed."""
        key, csr, cert, ext = (self.path(f"{label}.{x}") for x in ("key", "csr", "crt", "ext"))
        with open(ext, "w") as f:
            f.write(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n"
                    "extendedKeyUsage=serverAuth\n")
        openssl("req", *self.EC, "-keyout", key, "-out", csr, "-subj", f"/CN={cn}")
        openssl("x509", "-req", "-in", csr, "-CA", self.ca_cert, "-CAkey", self.ca_key,
                "-CAcreateserial", "-out", cert, "-days", str(days), "-extfile", ext)
        return cert, key


def certificate_facts(cert):
    """What `openssl x509` says of a certificate: notAfter (epoch s), SHA-256, subject."""
    out = peers.run(["openssl", "x509", "-in", cert, "-noout", "-enddate", "-fingerprint",
                     "-sha256", "-subject", "-nameopt", "RFC2253"], check=True).stdout
    facts = dict(line.split("=", 1) for line in out.splitlines())
    end = peers.run(["date", "-u", "-d", facts["notAfter"], "+%s"], check=True).stdout
    fingerprint = next(v for k, v in facts.items() if "Fingerprint" in k)
    return {"not_after": int(end), "sha256": fingerprint.replace(":", "").lower(),
            "subject": facts["subject"]}


def nts_chronyd(ns, pki, label, port, ntsport, cert=None, extra="", bind=("127.0.0.1",)):
    """chronyd serving NTP on `port` and, with a certificate, NTS-KE on `ntsport`."""
    config = extra
    if cert is not None:
        crt, key = cert
        dump = os.path.join(pki.dir, f"{label}-nts")
        os.makedirs(dump, exist_ok=True)
        config += (f"\nntsport {ntsport}\nntsservercert {crt}\nntsserverkey {key}\n"
                   f"ntsdumpdir {dump}\nntsprocesses 0\n")
    return peers.Chronyd(ns, port=port, bind=bind, allow=("127.0.0.0/8", "::1"),
                         config_extra=config)


class Probe:
    """Runs nts_probe inside a namespace; the parsed JSON, exit status and time taken."""

    def __init__(self, ns):
        self.ns = ns

    def __call__(self, *args, ca=None, expect_ok=None, host="127.0.0.1"):
        cmd = [PROBE, "--host", host] + list(args)
        if ca:
            cmd += ["--ca-file", ca]
        started = time.monotonic()
        out = self.ns.run(cmd, timeout=PROBE_LIMIT)
        took = time.monotonic() - started
        try:
            report = json.loads(out.stdout)
        except json.JSONDecodeError as e:
            raise AssertionError(f"nts_probe {' '.join(args)}: no JSON ({e}): "
                                 f"{out.stdout}{out.stderr}")
        report["_exit"] = out.returncode
        report["_took"] = took
        if expect_ok is not None and (report["ok"] != expect_ok or
                                      (expect_ok and out.returncode != 0)):
            raise AssertionError(json.dumps(report, indent=1) + out.stderr)
        return report


def require_tools(test):
    for tool in (PROBE, HOSTILE):
        if not os.access(tool, os.X_OK):
            raise RuntimeError(f"{tool} is not built (NTPKIT_BUILD_DIR={BUILD})")


class ChronydNts(unittest.TestCase):
    """chronyd 4.3 as NTS server: success equal to what chronyd counts, and each failure."""

    @classmethod
    def setUpClass(cls):
        require_tools(cls)
        cls.tmp = tempfile.TemporaryDirectory(prefix="ntpkit-nts-")
        cls.pki = Pki(os.path.join(cls.tmp.name, "pki"))
        cls.good_cert = cls.pki.server("good")
        cls.other_ca = Pki(os.path.join(cls.tmp.name, "other"), name="another CA")
        cls.ns = NtsNamespace().__enter__()
        cls.servers = []
        try:
            def start(*args, **kwargs):
                server = nts_chronyd(cls.ns, cls.pki, *args, **kwargs).__enter__()
                cls.servers.append(server)
                return server
            cls.good = start("good", 11123, 11460, cert=cls.good_cert,
                             bind=("127.0.0.1", "::1"))
            cls.expired = start("expired", 11124, 11461, cert=cls.pki.server("expired", days=-1))
            cls.other_name = start("other", 11125, 11462,
                                   cert=cls.pki.server("other", san="DNS:ntp.other.example",
                                                       cn="ntp.other.example"))
            cls.plain = start("plain", 11126, 11463)
            # ntsrotate 1: a new server key every second; chronyd keeps four, so a cookie is
            # undecodable after about four seconds.
            cls.rotating = start("rotating", 11127, 11464, cert=cls.pki.server("rotating"),
                                 extra="ntsrotate 1")
        except BaseException:
            cls.tearDownClass()
            raise
        cls.probe = Probe(cls.ns)

    @classmethod
    def tearDownClass(cls):
        for server in reversed(getattr(cls, "servers", [])):
            server.close()
        if getattr(cls, "ns", None):
            cls.ns.close()
        cls.tmp.cleanup()

    def assertFailure(self, report, kind, cause, step):
        error = report["error"]
        self.assertIsNotNone(error, json.dumps(report, indent=1))
        self.assertEqual((error["kind"], error["cause"], report["nts"]["failed_step"]),
                         (kind, cause, step), json.dumps(report, indent=1))
        self.assertEqual(report["_exit"], 1)
        self.assertFalse(report["ok"])

    def test_success_equals_what_chronyd_counts(self):
        before = self.good.serverstats()
        r = self.probe("--ke-port", "11460", "--samples", "3", "--interval-ms", "200",
                       ca=self.pki.ca_cert, expect_ok=True)
        after = self.good.serverstats()
        n = r["nts"]
        # chronyd's own counts: one NTS-KE session, three authenticated NTP requests.
        self.assertEqual(after["NTS-KE connections accepted"] -
                         before["NTS-KE connections accepted"], 1)
        self.assertEqual(after["Authenticated NTP packets"] - before["Authenticated NTP packets"],
                         3)
        self.assertEqual(after["NTP packets received"] - before["NTP packets received"],
                         r["requests"])
        self.assertEqual(r["requests"], 3)
        self.assertEqual(r["auth"], "authenticated")
        self.assertEqual(n["authenticated_samples"], 3)
        self.assertTrue(all(s["nts_authenticated"] for s in r["samples"]))
        # One new cookie per answer (one cookie sent, no placeholder needed: 7 left of 8).
        self.assertEqual([s["new_cookies"] for s in r["samples"]], [1, 1, 1])
        self.assertEqual((n["cookies_sent"], n["cookies_received"], n["cookies_left"]), (3, 3, 8))
        # TLS 1.3 and ALPN; the AEAD is the one offered.
        self.assertEqual((n["tls_version"], n["alpn"]), ("TLSv1.3", "ntske/1"))
        self.assertEqual((n["aead_id"], n["aead"]), (15, "AEAD_AES_SIV_CMAC_256"))
        self.assertEqual(n["next_protocol"], 0)
        # chronyd sends NTPv4 Port Negotiation because its NTP port is not 123, no server
        # record (so NTP goes to the NTS-KE address), and 8 cookies of 100 bytes: key id 4,
        # nonce 16, SIV of the two 32-byte keys 16 + 64 (chrony's nts_ke_server.c).
        self.assertEqual((n["ntp_port"], n["ntp_server"]), (11123, None))
        self.assertEqual((n["ntp_address"], n["ntp_port_used"]), ("127.0.0.1", 11123))
        self.assertEqual(n["cookie_sizes"], [100] * 8)
        names = [rec["name"] for rec in n["records"]]
        self.assertEqual(names[-1], "end_of_message")
        self.assertEqual(names.count("new_cookie"), 8)
        # The certificate as openssl reads the file chronyd serves.
        facts = certificate_facts(self.good_cert[0])
        cert = n["certificate"]
        self.assertEqual(cert["not_after"], facts["not_after"])
        self.assertEqual(cert["sha256"], facts["sha256"])
        self.assertEqual(cert["subject"], facts["subject"])
        self.assertEqual(cert["issuer"], "CN=ntpkit NTS test CA")
        self.assertEqual(n["verify_result"], 0)
        self.assertGreater(cert["remaining_s"], 86400)
        # Same clock on both sides: the offsets are tiny, and they keep their sign.
        for s in r["samples"]:
            self.assertLess(abs(s["offset_s"]), 0.01)
            self.assertGreaterEqual(s["delay_s"], 0)
        print(f"\n  NTS-KE against chronyd: connect {n['connect_s'] * 1e3:.2f} ms, handshake "
              f"{n['handshake_s'] * 1e3:.2f} ms, exchange {n['exchange_s'] * 1e3:.2f} ms, "
              f"all {n['ke_s'] * 1e3:.2f} ms")

    def test_real_answers_verify_and_a_bad_cookie_gets_a_nak(self):
        # nts_probe --capture sends two requests by hand (proto::append_nts_request): one with
        # a good cookie and 3 placeholders, one with a cookie chronyd cannot decrypt. Its files
        # are the fuzz targets' seeds (tests/fuzz/corpus/nts_*), which replay here too.
        with tempfile.TemporaryDirectory(prefix="ntpkit-nts-capture-") as out:
            run = self.ns.run([PROBE, "--host", "127.0.0.1", "--ke-port", "11460", "--ca-file",
                               self.pki.ca_cert, "--capture", out], timeout=PROBE_LIMIT)
            self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
            answers = json.loads(run.stdout)["answers"]
            self.assertTrue(answers["good"]["verified"], answers)
            self.assertEqual(answers["good"]["cookies"], 4)  # one per cookie and placeholder
            # RFC 8915 §5.7: the response is as long as the request.
            self.assertEqual(answers["good"]["size"], answers["good"]["request_size"])
            self.assertTrue(answers["nak"]["nak"], answers)
            self.assertEqual(answers["nak"]["error"], "no NTS authenticator field")
            for target in ("nts_ke", "nts_ef"):
                fuzzer = os.path.join(BUILD, "tests", "fuzz", f"fuzz_{target}")
                replay = peers.run([fuzzer, out], timeout=120)
                self.assertEqual(replay.returncode, 0, replay.stdout + replay.stderr)

    def test_interleaved_mode_over_nts(self):
        # RFC 9769 interleaved mode with NTS: chronyd answers a client's third request on
        # interleaved (as in test_modes.py), and those answers are NTS-authenticated too.
        before = self.good.serverstats()
        r = self.probe("--ke-port", "11460", "--samples", "4", "--interval-ms", "200",
                       "--interleaved", "on", ca=self.pki.ca_cert, expect_ok=True)
        after = self.good.serverstats()
        flags = [s["interleaved"] for s in r["samples"]]
        served = after["Interleaved NTP packets"] - before["Interleaved NTP packets"]
        self.assertTrue(all(s["nts_authenticated"] for s in r["samples"]))
        self.assertEqual(sum(flags), served)
        self.assertGreater(served, 0)
        self.assertEqual(flags, sorted(flags))  # basic first, then interleaved
        self.assertEqual(after["Authenticated NTP packets"] - before["Authenticated NTP packets"],
                         4)

    def test_over_ipv6_the_address_is_checked_and_ntp_follows_it(self):
        # No server record: NTP goes to the NTS-KE server's own address (RFC 8915 §4.1.7),
        # here ::1, and the certificate's IP:::1 subjectAltName is what is checked.
        before = self.good.serverstats()
        r = self.probe("--ke-port", "11460", host="::1", ca=self.pki.ca_cert, expect_ok=True)
        after = self.good.serverstats()
        self.assertEqual((r["nts"]["ntp_address"], r["nts"]["ntp_port_used"]), ("::1", 11123))
        self.assertEqual(r["nts"]["server_name"], "::1")
        self.assertEqual(after["Authenticated NTP packets"] - before["Authenticated NTP packets"],
                         1)

    def test_another_aead_offered_first_is_not_chosen_unless_the_server_has_it(self):
        # Offering 17, 16, 15: chronyd 4.3 (gnutls) implements only 15 of these, and picks it.
        r = self.probe("--ke-port", "11460", "--aead", "17,16,15", ca=self.pki.ca_cert,
                       expect_ok=True)
        self.assertEqual(r["nts"]["aead_id"], 15)

    def test_a_wrong_ca_is_an_untrusted_certificate(self):
        r = self.probe("--ke-port", "11460", ca=self.other_ca.ca_cert)
        self.assertFailure(r, "tls", "certificate_untrusted", "certificate")
        # The certificate is still reported, and nothing was asked of the server.
        self.assertEqual(r["nts"]["certificate"]["subject"], "CN=127.0.0.1")
        self.assertNotEqual(r["nts"]["verify_result"], 0)
        self.assertEqual(r["nts"]["records"], [])

    def test_an_expired_certificate_is_expired(self):
        r = self.probe("--ke-port", "11461", ca=self.pki.ca_cert)
        self.assertFailure(r, "tls", "certificate_expired", "certificate")
        self.assertLess(r["nts"]["certificate"]["remaining_s"], 0)

    def test_a_certificate_for_another_name_is_the_wrong_name(self):
        r = self.probe("--ke-port", "11462", ca=self.pki.ca_cert)
        self.assertFailure(r, "tls", "certificate_wrong_name", "certificate")
        self.assertEqual(r["error"]["detail"], "127.0.0.1")
        # --nts-server-name: the same server checked against the name on its certificate.
        ok = self.probe("--ke-port", "11462", "--server-name", "ntp.other.example",
                        ca=self.pki.ca_cert, expect_ok=True)
        self.assertEqual(ok["nts"]["server_name"], "ntp.other.example")
        self.assertEqual(ok["nts"]["ntp_port_used"], 11125)

    def test_a_server_without_nts_ke_refuses_the_connection(self):
        r = self.probe("--ke-port", "11463", ca=self.pki.ca_cert)
        self.assertFailure(r, "nts", "nts_ke_unreachable", "connect")
        self.assertEqual(r["requests"], 0)

    def test_cookies_from_before_a_key_rotation_get_an_nts_nak(self):
        saved = os.path.join(self.tmp.name, "rotating.ke")
        ke = self.probe("--ke-port", "11464", "--save-ke", saved, ca=self.pki.ca_cert)
        self.assertIsNone(ke["error"], json.dumps(ke, indent=1))
        before = self.rotating.serverstats()
        time.sleep(5)  # four rotations: the cookies' key is gone from chronyd
        r = self.probe("--load-ke", saved, "--samples", "2")
        after = self.rotating.serverstats()
        self.assertFailure(r, "nts", "nts_nak", "ntp")
        self.assertEqual(r["error"]["kiss_code"], "NTSN")
        self.assertEqual(r["auth"], "nts_nak")
        self.assertTrue(r["nts"]["nak"])
        self.assertEqual(r["requests"], 1)  # nothing more after the NAK
        self.assertEqual(after["NTP packets received"] - before["NTP packets received"], 1)
        self.assertEqual(after["Authenticated NTP packets"] - before["Authenticated NTP packets"],
                         0)


class NtpsecNts(unittest.TestCase):
    """NTPsec ntpd 1.2.2 from Debian serves NTS-KE (port 4460) and NTS: a second server."""

    def test_success_equals_what_ntpd_counts(self):
        require_tools(self)
        if not os.access(NTPD, os.X_OK):
            raise unittest.SkipTest(f"{NTPD} missing (Debian package ntpsec)")
        with tempfile.TemporaryDirectory(prefix="ntpkit-nts-ntpsec-") as tmp:
            pki = Pki(os.path.join(tmp, "pki"))
            crt, key = pki.server("ntpd")
            cookies = os.path.join(tmp, "nts-keys")
            extra = f"nts cert {crt} key {key} cookie {cookies} enable mintls TLS1.3"
            with NtsNamespace() as ns, peers.Ntpd(ns, config_extra=extra) as ntpd:
                counters = ("nts_ke_serves_good,nts_server_recv_good,nts_server_send,"
                            "nts_cookie_make")

                def ntsinfo():
                    text = ntpd.ntpq("-c", f"rv 0 {counters}")
                    return {k: int(v) for k, v in re.findall(r"(nts_\w+)=(\d+)", text)}

                peers.wait_until(lambda: ns.run(["ss", "-ltn", "sport = :4460"]).stdout
                                 .count("LISTEN") > 0, 10, what="ntpd NTS-KE listening")
                before = ntsinfo()
                r = Probe(ns)("--ke-port", "4460", "--samples", "2", "--interval-ms", "200",
                              ca=pki.ca_cert, expect_ok=True)
                after = ntsinfo()
                out = os.path.join(tmp, "capture")
                os.makedirs(out)
                run = ns.run([PROBE, "--host", "127.0.0.1", "--ke-port", "4460", "--ca-file",
                              pki.ca_cert, "--capture", out], timeout=PROBE_LIMIT)
                capture = json.loads(run.stdout)
        n = r["nts"]
        delta = {k: after[k] - before.get(k, 0) for k in after}
        self.assertEqual(delta["nts_ke_serves_good"], 1)
        self.assertEqual(delta["nts_server_recv_good"], 2)
        self.assertEqual(delta["nts_server_send"], 2)
        self.assertEqual(delta["nts_cookie_make"], 8 + 2)  # 8 from NTS-KE, 1 per answer
        self.assertEqual(r["auth"], "authenticated")
        self.assertTrue(all(s["nts_authenticated"] for s in r["samples"]))
        self.assertEqual((n["aead_id"], n["tls_version"]), (15, "TLSv1.3"))
        # NTPsec serves NTP on 123 and sends no port record; its cookies are 104 bytes.
        self.assertEqual((n["ntp_port"], n["ntp_port_used"]), (None, 123))
        self.assertEqual(n["cookies"], 8)
        self.assertEqual(r["samples"][0]["stratum"], 10)  # tos orphan 10
        # nts_probe --capture against it (see ChronydNts): its answer verifies; to a cookie it
        # cannot decrypt, NTPsec 1.2.2 sends nothing at all (no NAK, unlike chronyd).
        self.assertEqual(capture["captured"], 1, capture)
        self.assertTrue(capture["answers"]["good"]["verified"], capture)
        self.assertNotIn("nak", capture["answers"])


class HostileNtsKe(unittest.TestCase):
    """Answers no real server gives, each a named failure within its time bound."""

    @classmethod
    def setUpClass(cls):
        require_tools(cls)
        cls.tmp = tempfile.TemporaryDirectory(prefix="ntpkit-nts-hostile-")
        cls.pki = Pki(os.path.join(cls.tmp.name, "pki"))
        cls.cert, cls.key = cls.pki.server("hostile")
        cls.ns = NtsNamespace().__enter__()
        cls.probe = Probe(cls.ns)

    @classmethod
    def tearDownClass(cls):
        cls.ns.close()
        cls.tmp.cleanup()

    def run_scenario(self, scenario, *probe_args, hostile_args=()):
        """Starts nts_hostile for one connection, probes it, stops it by its PID."""
        proc = self.ns.popen([HOSTILE, "--cert", self.cert, "--key", self.key, "--scenario",
                              scenario, "--lifetime", "20"] + list(hostile_args),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline()
            port = re.match(r"port=(\d+)", line)
            if port is None:  # it exited: its stderr says why (read only then, it blocks)
                self.fail(f"nts_hostile: {line!r} {proc.stderr.read()}")
            return self.probe("--ke-port", port.group(1), "--timeout-ms", "500",
                              "--handshake-timeout-ms", "1500", "--ke-timeout-ms", "1500",
                              *probe_args, ca=self.pki.ca_cert)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=peers.STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def check(self, scenario, kind, cause, step, code=None, bound=5.0, **kwargs):
        r = self.run_scenario(scenario, **kwargs)
        error = r["error"] or {}
        self.assertEqual((error.get("kind"), error.get("cause"), r["nts"]["failed_step"]),
                         (kind, cause, step), json.dumps(r, indent=1))
        if code is not None:
            self.assertEqual(error["code"], code)
        self.assertLess(r["_took"], bound)  # catches a hang, not a speed goal
        return r

    def test_missing_end_of_message(self):
        self.check("no_end_of_message", "nts", "nts_ke_closed", "key_exchange",
                   code="NTS-KE message without end of message")

    def test_no_end_of_message_on_an_open_connection_times_out(self):
        r = self.check("hold_without_end", "nts", "nts_ke_timeout", "key_exchange")
        self.assertEqual(r["error"]["detail"], "key_exchange")
        self.assertGreaterEqual(r["_took"], 1.5)

    def test_a_cookie_less_answer(self):
        self.check("no_cookies", "nts", "nts_ke_no_cookies", "key_exchange")

    def test_an_unknown_critical_record(self):
        self.check("unknown_critical", "nts", "nts_ke_malformed", "key_exchange",
                   code="unknown critical NTS-KE record")

    def test_an_aead_we_did_not_offer(self):
        self.check("aead_not_offered", "nts", "nts_ke_aead_not_offered", "key_exchange")

    def test_no_aead_in_common(self):
        self.check("no_common_aead", "nts", "nts_ke_no_common_aead", "key_exchange")

    def test_no_ntpv4(self):
        self.check("no_ntpv4", "nts", "nts_ke_bad_next_protocol", "key_exchange")

    def test_an_error_record(self):
        r = self.check("error_record", "nts", "nts_ke_error_record", "key_exchange")
        self.assertEqual(r["error"]["nts_code"], 1)
        self.assertEqual(r["nts"]["errors"], [1])

    def test_records_after_end_of_message(self):
        self.check("records_after_end", "nts", "nts_ke_malformed", "key_exchange",
                   code="NTS-KE record after end of message")

    def test_an_oversized_record(self):
        self.check("oversized_record", "nts", "nts_ke_malformed", "key_exchange",
                   code="NTS-KE record too long")

    def test_a_truncated_record(self):
        self.check("truncated_record", "nts", "nts_ke_closed", "key_exchange",
                   code="truncated packet")

    def test_a_server_record_pointing_elsewhere(self):
        # NTP goes where the record says: 127.0.0.2, where nothing listens on that port.
        r = self.check("server_elsewhere", "unreachable", "port_unreachable", "ntp",
                       hostile_args=("--ntp-server", "127.0.0.2", "--ntp-port", "11999"))
        self.assertEqual((r["nts"]["ntp_server"], r["nts"]["ntp_port"]), ("127.0.0.2", 11999))
        self.assertEqual((r["nts"]["ntp_address"], r["nts"]["ntp_port_used"]),
                         ("127.0.0.2", 11999))
        self.assertIn("127.0.0.2:11999", r["error"]["message"])

    def test_a_server_record_that_does_not_resolve(self):
        r = self.check("server_elsewhere", "nts", "nts_server_unresolved", "ntp_resolve",
                       hostile_args=("--ntp-server", "ntp.nowhere.invalid"))
        self.assertEqual(r["error"]["detail"], "ntp.nowhere.invalid")

    def test_a_stalled_handshake(self):
        r = self.check("stall_handshake", "nts", "nts_ke_timeout", "tls_handshake")
        self.assertEqual(r["error"]["detail"], "tls_handshake")
        self.assertGreaterEqual(r["_took"], 1.5)

    def test_a_server_without_alpn(self):
        self.check("no_alpn", "tls", "alpn_refused", "tls_handshake")

    def test_a_tls_1_2_server(self):
        r = self.check("tls12_only", "tls", "tls_handshake_failed", "tls_handshake")
        self.assertIn("protocol version", r["error"]["detail"])

    def test_the_good_scenario_completes_the_key_exchange(self):
        # The baseline: the exchange succeeds; NTP then finds nothing on port 123.
        r = self.check("good", "unreachable", "port_unreachable", "ntp")
        self.assertEqual(r["nts"]["cookies"], 8)


if __name__ == "__main__":
    unittest.main()
