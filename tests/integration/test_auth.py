"""ntpprobe -a ID -k FILE against chronyd 4.3 and NTPsec ntpd 1.2.2: every key type, both key
file formats, both MAC lengths, wrong secrets and unknown key ids.

Both servers run in one network namespace (chronyd on port 11123, ntpd on 123), each with its
own key file holding the same secrets (KEYS). ntpprobe gets a key file of either format; the
format decides how a digest longer than 20 bytes goes out, and --mac-length overrides it:
  full  the whole digest in an NTPv3 request (chrony.keys' convention, --mac-length full)
  20    the digest truncated to 20 bytes in an NTPv4 request (ntp.keys', --mac-length 20)
Digests of 20 bytes or less (MD5, SHA1, the CMACs) go out whole in NTPv4 either way.

What the servers accepted (verified by every run of test_every_key_type_and_mac_shape: the
server's own counters must agree with ntpprobe's verdict):

    key type    digest   chronyd full  chronyd 20   ntpd full  ntpd 20
    MD5          16        yes           yes          yes        yes
    SHA1         20        yes           yes          yes        yes
    SHA256       32        yes           yes          no         yes
    SHA384       48        yes           yes          no         yes
    SHA512       64        yes           yes          no         yes
    SHA3-224     28        yes           yes          no         yes
    SHA3-256     32        yes           yes          no         yes
    SHA3-384     48        yes           yes          no         yes
    SHA3-512     64        yes           yes          no         yes
    AES128-CMAC  16        yes           yes          yes        yes
    AES256-CMAC  16        yes           yes          yes        yes
    AES192-CMAC  16        no key type   no key type  yes        yes

chronyd answers in the shape it was asked (a full digest in NTPv3, or 20 bytes in NTPv4);
ntpd always truncates to 20 bytes. A request either server rejects (a long full digest at
ntpd, an unknown key id, another secret) is dropped without an answer: ntpprobe reports a
timeout with a hint at the MAC, and --nagios says UNKNOWN (no reply) unless
--no-reply-critical. The servers' counters: chronyd `serverstats` ("Authenticated NTP
packets" counts accepted requests), ntpd `authinfo` ("encryptions": signed answers) and
`sysstats` ("authentication failed"; a full digest longer than 20 bytes is not even read as a
MAC: "bad length or format").
"""

import contextlib
import json
import os
import unittest

import peers
import probe

CHRONY_PORT = 11123
H16 = "000102030405060708090a0b0c0d0e0f"
H24 = H16 + "1011121314151617"
H32 = H16 + "101112131415161718191a1b1c1d1e1f"

# id, chrony.keys type (None: chrony 4.3 has none), ntp.keys type, secret, digest bytes,
# the name ntpprobe reports.
KEYS = [
    (1, "MD5", "md5", H16, 16, "MD5"),
    (2, "SHA1", "sha1", H16, 20, "SHA1"),
    (3, "SHA256", "sha256", H32, 32, "SHA256"),
    (4, "SHA384", "sha384", H32, 48, "SHA384"),
    (5, "SHA512", "sha512", H32, 64, "SHA512"),
    (6, "SHA3-224", "sha3-224", H32, 28, "SHA3-224"),
    (7, "SHA3-256", "sha3-256", H32, 32, "SHA3-256"),
    (8, "SHA3-384", "sha3-384", H32, 48, "SHA3-384"),
    (9, "SHA3-512", "sha3-512", H32, 64, "SHA3-512"),
    (10, "AES128", "aes", H16, 16, "AES128-CMAC"),
    (11, "AES256", "aes-256", H32, 16, "AES256-CMAC"),
    (12, None, "aes-192", H24, 16, "AES192-CMAC"),
]
LONG_DIGEST = 20  # longer digests are where the conventions differ
# A key id neither server has.
UNKNOWN_ID = 77
# A chrony.keys line whose unprefixed key is ASCII (chrony's reading) but looks like hex: an
# ntp.keys reader takes it as 20 bytes of hex. No line of such a file says which format it is.
HEXLIKE_ID = 20
HEXLIKE = f"{HEXLIKE_ID} SHA1 0123456789abcdef0123456789abcdef01234567\n"
REJECT_TIMEOUT = "0.5"
DROP_HINT = "servers drop requests whose MAC they reject"


def other_secret(secret):
    """A secret of the same length with every bit flipped."""
    return "".join(f"{15 - int(digit, 16):x}" for digit in secret)


def chrony_keys(keys):
    """chrony.keys text for the entries that have a chrony type."""
    return "".join(f"{i} {ctype} HEX:{secret}\n" for i, ctype, _, secret, _, _ in keys if ctype)


def ntp_keys(keys):
    """ntp.keys text for the entries (ntpsec reads a secret over 20 characters as hex)."""
    return "".join(f"{i} {ntype} {secret}\n" for i, _, ntype, secret, _, _ in keys)


def request_shape(digest, fmt, mac_length):
    """(digest bytes, NTP version) of ntpprobe's request: the convention of the key file's
    format, or the --mac-length given."""
    if digest <= LONG_DIGEST:
        return digest, 4
    shape = mac_length or ("full" if fmt == "chrony" else "20")
    return (digest, 3) if shape == "full" else (LONG_DIGEST, 4)


def accepted(server, chrony_type, digest, shape):
    """What the table in the module docstring says the server does with the request."""
    if server == "chronyd":
        return chrony_type is not None
    return digest <= LONG_DIGEST or shape == "20"


class AuthTest(unittest.TestCase):
    """ntpprobe's MACs as chronyd and ntpd judge them."""

    @classmethod
    def setUpClass(cls):
        stack = contextlib.ExitStack()
        cls.addClassCleanup(stack.close)
        cls.ns = stack.enter_context(peers.Namespace())
        trusted = " ".join(str(k[0]) for k in KEYS)
        cls.chronyd = stack.enter_context(peers.Chronyd(cls.ns, port=CHRONY_PORT,
                                                        keys=chrony_keys(KEYS) + HEXLIKE))
        cls.ntpd = stack.enter_context(peers.Ntpd(cls.ns, keys=ntp_keys(KEYS),
                                                  config_extra=f"trustedkey {trusted}"))
        cls.targets = {"chronyd": f"127.0.0.1:{CHRONY_PORT}", "ntpd": "127.0.0.1"}
        cls.files = {"chrony": cls.key_file("client-chrony.keys", chrony_keys(KEYS)),
                     "ntp": cls.key_file("client-ntp.keys", ntp_keys(KEYS))}

    @classmethod
    def key_file(cls, name, text):
        """A client key file, mode 0600 (ntpprobe warns about group/other-readable ones)."""
        path = cls.chronyd.path(name)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(text)
        return path

    def counters(self, server):
        """The server's own counts of authenticated traffic."""
        if server == "chronyd":
            stats = self.chronyd.serverstats()
            return {"received": stats["NTP packets received"],
                    "authenticated": stats["Authenticated NTP packets"]}
        stats = self.ntpd.counters("sysstats", "authinfo")
        return {"signed": stats["encryptions"],
                "rejected": stats["authentication failed"] + stats["bad length or format"]}

    def server_verdict(self, server, before, after):
        """True when the server accepted (and signed its answer to) the one request sent
        between the two counter readings, False when it rejected it."""
        if server == "chronyd":
            self.assertEqual(after["received"] - before["received"], 1, "chronyd got 1 request")
            return {1: True, 0: False}[after["authenticated"] - before["authenticated"]]
        signed = after["signed"] - before["signed"]
        rejected = after["rejected"] - before["rejected"]
        self.assertEqual(signed + rejected, 1, f"ntpd: {before} -> {after}")
        return signed == 1

    def probe_json(self, server, args, expect_rc):
        """`ntpprobe -j ARGS TARGET` against one server; its only address, and the server's
        verdict on the request."""
        before = self.counters(server)
        result = probe.run_probe(["-j", "-t", REJECT_TIMEOUT] + args + [self.targets[server]],
                                 self.ns.run)
        after = self.counters(server)
        self.assertEqual(result.returncode, expect_rc, result.stdout + result.stderr)
        self.assertEqual(result.stderr, "")
        (address,) = json.loads(result.stdout)["targets"][0]["addresses"]
        return address, self.server_verdict(server, before, after)

    def test_every_key_type_and_mac_shape(self):
        """Each server, key type, key file format and --mac-length: ntpprobe says
        authenticated exactly when the server's counters show it accepted the MAC, and that
        is what the table says; the request and the answer have the expected shape."""
        for server in ("chronyd", "ntpd"):
            for fmt in ("chrony", "ntp"):
                for key_id, ctype, _, _, digest, name in KEYS:
                    if fmt == "chrony" and ctype is None:
                        continue
                    for mac_length in (None, "full", "20"):
                        with self.subTest(server=server, file=fmt, key=name,
                                          mac_length=mac_length):
                            self.check_one(server, fmt, key_id, ctype, digest, name, mac_length)

    def check_one(self, server, fmt, key_id, ctype, digest, name, mac_length):
        """One case of test_every_key_type_and_mac_shape."""
        shape_bytes, version = request_shape(digest, fmt, mac_length)
        expected = accepted(server, ctype, digest, "20" if shape_bytes == LONG_DIGEST else "full")
        args = ["-a", str(key_id), "-k", self.files[fmt]]
        if mac_length:
            args += ["--mac-length", mac_length]
        a, server_accepted = self.probe_json(server, args, 0 if expected else 1)
        self.assertEqual(server_accepted, expected, "the server disagrees with the table")
        auth = a["authentication"]
        self.assertEqual((auth["key_id"], auth["algorithm"], auth["digest_bytes"],
                          auth["request_version"]), (key_id, name, shape_bytes, version))
        if expected:
            self.assertEqual(auth["status"], "authenticated")
            self.assertTrue(a["ok"], a["error"])
            self.assertEqual(a["server"]["mac"], {"key_id": key_id, "digest_bytes": shape_bytes},
                             "the answer's MAC")
        else:
            self.assertEqual(auth["status"], "no_reply")
            self.assertEqual(a["error"]["kind"], "timeout")
            self.assertIn(DROP_HINT, a["error"]["message"])

    def test_text_says_authenticated_with_the_key_id(self):
        """Plain text ends with `authenticated (key N)`; -v names key, digest and version."""
        for server, fmt, key_id, detail in [
                ("chronyd", "chrony", 3, "key 3 SHA256, 32-byte digest in NTPv3"),
                ("chronyd", "ntp", 9, "key 9 SHA3-512, 20-byte digest in NTPv4"),
                ("ntpd", "ntp", 5, "key 5 SHA512, 20-byte digest in NTPv4"),
                ("ntpd", "ntp", 12, "key 12 AES192-CMAC, 16-byte digest in NTPv4")]:
            with self.subTest(server=server, key=key_id):
                args = ["-a", str(key_id), "-k", self.files[fmt], self.targets[server]]
                result = probe.run_probe(args, self.ns.run)
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
                self.assertTrue(result.stdout.rstrip("\n").endswith(
                    f"  authenticated (key {key_id})"), result.stdout)
                probe.parse_summary(result.stdout.replace(f"  authenticated (key {key_id})", ""))
                verbose = probe.run_probe(["-v"] + args, self.ns.run)
                (block,) = probe.parse_verbose(verbose.stdout)
                self.assertEqual(block["fields"]["authentication"],
                                 f"{detail}: authenticated")
                self.assertEqual(block["fields"]["mac"].split(",")[0], f"key {key_id}")

    def wrong_key_files(self):
        """Client key files that the servers reject: (what, file, key id). Same ids and types
        as theirs with other secrets, and an id neither server has."""
        other = [(i, c, n, other_secret(s), d, name) for i, c, n, s, d, name in KEYS]
        return [("other secret, chrony.keys", self.key_file("other-chrony.keys",
                                                            chrony_keys(other))),
                ("other secret, ntp.keys", self.key_file("other-ntp.keys", ntp_keys(other))),
                ("unknown id", self.key_file("unknown.keys", f"{UNKNOWN_ID} SHA1 HEX:{H16}\n"))]

    def test_wrong_secret_or_unknown_id_is_a_timeout_with_the_mac_hint(self):
        """Both servers drop what they cannot verify: exit 1, error kind timeout with the
        hint, authentication status no_reply, and the server counted a rejection."""
        for what, path in self.wrong_key_files():
            ids = [UNKNOWN_ID] if what == "unknown id" else [1, 2, 3, 10]
            for server in ("chronyd", "ntpd"):
                for key_id in ids:
                    with self.subTest(what=what, server=server, key=key_id):
                        a, server_accepted = self.probe_json(
                            server, ["-a", str(key_id), "-k", path], 1)
                        self.assertFalse(server_accepted)
                        self.assertEqual(a["error"]["kind"], "timeout")
                        self.assertIn(DROP_HINT, a["error"]["message"])
                        self.assertIn(f"key {key_id}", a["error"]["message"])
                        self.assertEqual(a["authentication"]["status"], "no_reply")
                        self.assertEqual((a["requests"], a["replies"]), (1, 0))

    def test_a_guessed_key_file_format_is_named_with_the_way_out(self):
        """A chrony.keys file no line of which says its format is read as ntp.keys; chronyd
        then drops the requests and the timeout message says the format was guessed and names
        --key-format chrony, which makes it work; a file named like chrony's is read as
        chrony.keys without being told."""
        plain = self.key_file("client-plain.keys", HEXLIKE)
        a, accepted = self.probe_json("chronyd", ["-a", str(HEXLIKE_ID), "-k", plain], 1)
        self.assertFalse(accepted)
        self.assertIn("the key file was read as ntp.keys because no line is specific to either "
                      "format (--key-format chrony reads it as chrony.keys)",
                      a["error"]["message"])
        a, accepted = self.probe_json("chronyd", ["--key-format", "chrony", "-a",
                                                  str(HEXLIKE_ID), "-k", plain], 0)
        self.assertTrue(accepted)
        self.assertEqual(a["authentication"]["status"], "authenticated")
        named = self.key_file("client.chrony.keys", HEXLIKE)
        a, accepted = self.probe_json("chronyd", ["-a", str(HEXLIKE_ID), "-k", named], 0)
        self.assertTrue(accepted)

    def test_a_long_digest_ntpd_drops_names_mac_length_20(self):
        """A SHA256 key of a chrony.keys file goes out whole in NTPv3, which NTPsec's ntpd
        drops: the hint names --mac-length 20, and with it ntpd answers."""
        a, accepted = self.probe_json("ntpd", ["-a", "3", "-k", self.files["chrony"]], 1)
        self.assertFalse(accepted)
        self.assertIn("its 32-byte digest is what chronyd expects, NTPsec's ntpd wants it cut to "
                      "20 bytes (--mac-length 20)", a["error"]["message"])
        a, accepted = self.probe_json("ntpd", ["--mac-length", "20", "-a", "3", "-k",
                                               self.files["chrony"]], 0)
        self.assertTrue(accepted)

    def test_nagios_wrong_key_is_unknown_or_critical_as_documented(self):
        """--nagios: a dropped request is no reply, UNKNOWN (exit 3); with
        --no-reply-critical CRITICAL (exit 2); the right key is OK."""
        (_, wrong), *_ = self.wrong_key_files()
        for server in ("chronyd", "ntpd"):
            target = self.targets[server]
            with self.subTest(server=server):
                cases = [(["-a", "2", "-k", wrong], 3, "UNKNOWN"),
                         (["--no-reply-critical", "-a", "2", "-k", wrong], 2, "CRITICAL"),
                         (["-a", "2", "-k", self.files["ntp"]], 0, "OK")]
                for args, code, state in cases:
                    result = probe.run_probe(["--nagios", "-t", REJECT_TIMEOUT] + args + [target],
                                             self.ns.run)
                    self.assertEqual(result.returncode, code, result.stdout)
                    self.assertTrue(result.stdout.startswith(f"NTP {state}: "), result.stdout)
                    if code:
                        self.assertIn(DROP_HINT, result.stdout)


if __name__ == "__main__":
    unittest.main()
