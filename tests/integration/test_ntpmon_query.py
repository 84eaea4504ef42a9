"""ntpmon-query against NTPsec 1.2.2's ntpd, every value compared with what ntpq prints.

One namespace: chronyd (local stratum 3, NTS on 11460) and ntpd synchronised to it over NTS,
with an unfed SHM reference clock (a second association, a clock for clockvars), keys 1 (the
controlkey) and 2 (trusted, not the controlkey), `disable ntp` and no CAP_SYS_TIME. ntpq is
the independent truth: ntpmon-query's values must be the ones ntpq reads from the same server
(`ntpq -c raw` shows them as sent). Values that move between two reads (clock, offset, the
clock's poll counter, when) are compared under a snapshot: ntpq before, ntpmon-query, ntpq
after; where ntpq's two reads agree ntpmon-query must agree exactly, and a snapshot that
straddles a change is taken again (a bounded number of times).
"""

import contextlib
import json
import os
import re
import unittest

import jsonschema

import peers

with open(os.path.join(peers.source_dir(), "docs", "ntpmon-query.schema.json")) as f:
    SCHEMA = jsonschema.Draft202012Validator(json.load(f))

NTS_SYNC_TIMEOUT = 40.0
ATTEMPTS = 4
KEY_HEX = "000102030405060708090a0b0c0d0e0f10111213"
KEYS = f"1 sha1 {KEY_HEX}\n2 sha1 {KEY_HEX[::-1]}\n"
# Key 1 with another secret, and key 3, which the server does not have.
WRONG_KEYS = f"1 sha1 {KEY_HEX[:-1]}4\n3 sha1 {KEY_HEX}\n"
# Bytes NTPsec 1.2.2 garbles in these (PEERS.md); both sides decode them their own way.
GARBLED = {"filtdelay", "filtoffset", "filtdisp"}


def ntpq_raw(text):
    """`ntpq -c raw -c rv/cv ...` output: (status word, [(name, raw value)...]) in order."""
    lines = [line for line in text.splitlines()
             if not line.startswith(("Output set to", "server="))]
    head = next((line for line in lines if line.startswith("associd=")), None)
    # ntpq prints no status line for variables asked by name.
    status = int(re.search(r"status=(0x[0-9a-f]+)", head).group(1), 16) if head else None
    body = " ".join(lines[lines.index(head) + 1:] if head else lines)
    items = re.findall(r'\s*([\w.]+)=("[^"]*"|[^,]*)(?:,|$)', body)
    return status, [(name, value.strip()) for name, value in items]


class NtpmonQueryTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        stack = contextlib.ExitStack()
        cls.addClassCleanup(stack.close)
        cls.ns = stack.enter_context(peers.Namespace())
        cls.chronyd = stack.enter_context(peers.Chronyd(cls.ns, port=11123, local_stratum=3,
                                                        nts=True, ntsport=11460))
        cls.ntpd = stack.enter_context(peers.Ntpd(cls.ns, keys=KEYS, config_extra="\n".join([
            "tos minsane 1",
            "trustedkey 1 2",
            "controlkey 1",
            "refclock shm unit 0 refid SHM0 minpoll 1 maxpoll 1",
            f"server 127.0.0.1:{cls.chronyd.ntsport} nts ca {cls.chronyd.ca_cert} "
            "iburst minpoll 3 maxpoll 4 prefer"])))
        cls.ntpd.wait_variable("stratum", "4", timeout=NTS_SYNC_TIMEOUT)

    def ntpq(self, *commands, host="127.0.0.1", numeric=False):
        args = (["-n"] if numeric else []) + [a for c in commands for a in ("-c", c)]
        return self.ntpd.ntpq(*args, host=host)

    def mon(self, *args, rc=0):
        p = self.ns.run([peers.binary("ntpmon-query"), *args])
        self.assertEqual(p.returncode, rc, p.stdout + p.stderr)
        return p.stdout

    def mon_json(self, *args, rc=0):
        doc = json.loads(self.mon("-j", *args, rc=rc))
        SCHEMA.validate(doc)
        return doc

    def snapshot(self, truth, ours):
        """(truth before, ours, truth after) with truth unchanged across, else the last try."""
        for _ in range(ATTEMPTS):
            before, value, after = truth(), ours(), truth()
            if before == after:
                return before, value, True
        return before, value, False

    def associations(self):
        doc = self.mon_json("127.0.0.1", "associations")
        return [a["association_id"] for a in doc["reads"][0]["associations"]]

    def assert_variables_equal(self, read, truth, stable):
        status, items = truth
        ours = [(v["name"], v["raw"]) for v in read["variables"]]
        self.assertEqual([n for n, _ in ours], [n for n, _ in items])
        if not stable:
            return
        self.assertEqual(read["status"]["word"], status)
        for (name, raw), (_, expected) in zip(ours, items):
            if name not in GARBLED:
                self.assertEqual(raw, expected, name)

    def test_sysvars_equal_ntpq_rv(self):
        # ntpq's raw rv just before and just after ours: a value the two agree on must be ours
        # to the letter; one that moved between them (clock; rootdisp grows with the time since
        # the last update, 15 PPM) must lie between them. Asserting every value equal to one
        # of the two made this test fail whenever ntpd updated in between (seen in CI).
        before = ntpq_raw(self.ntpq("raw", "rv"))
        doc = self.mon_json("127.0.0.1", "sysvars")
        after = ntpq_raw(self.ntpq("raw", "rv"))
        self.assertTrue(doc["ok"])
        (read,) = doc["reads"]
        v = {x["name"]: x for x in read["variables"]}
        self.assertEqual(v["stratum"]["value"], 4)
        self.assertEqual(v["version"]["value"], dict(after[1])["version"].strip('"'))
        self.assertEqual(v["reftime"]["type"], "timestamp")
        names = [n for n, _ in after[1]]
        self.assertIn("clock", names)
        self.assertEqual([x["name"] for x in read["variables"]], names)
        if before[0] == after[0]:
            self.assertEqual(read["status"]["word"], after[0])
        moved = 0
        for (name, first), (_, last), x in zip(before[1], after[1], read["variables"]):
            with self.subTest(variable=name):
                if first == last:
                    self.assertEqual(x["raw"], last)
                elif name == "clock" or name.endswith("time"):
                    moved += 1  # timestamps: their order is checked by the clock's own test
                else:
                    moved += 1
                    lo, hi = sorted((float(first), float(last)))
                    self.assertTrue(lo <= float(x["raw"]) <= hi, (first, x["raw"], last))
        self.assertLess(moved, len(names) // 2)  # most values did not move at all

    def test_sysvars_by_name_and_over_ipv6(self):
        doc = self.mon_json("::1", "rv", "stratum", "refid", "nosuchvar", "leap")
        (read,) = doc["reads"]
        truth = dict(ntpq_raw(self.ntpq("raw", "rv 0 stratum,refid,leap", host="::1"))[1])
        self.assertEqual({v["name"]: v["raw"] for v in read["variables"]}, truth)
        self.assertEqual(read["refused"], [{"name": "nosuchvar", "server_error": "UNKNOWNVAR"}])
        self.assertEqual(doc["server"]["address"], "::1")

    def test_text_sysvars_status_line_and_values(self):
        text = self.mon("127.0.0.1", "sysvars")
        status, items = ntpq_raw(self.ntpq("raw", "rv"))
        self.assertTrue(text.startswith(f"associd=0 status={status:04x} "), text)
        for name, value in items:
            if name != "clock":
                self.assertIn(f"{name}={value}", text)

    def test_associations_equal_ntpq_as(self):
        truth, text, stable = self.snapshot(lambda: self.ntpq("as").strip("\n"),
                                            lambda: self.mon("127.0.0.1", "as").strip("\n"))
        self.assertTrue(stable)
        self.assertEqual(text, truth)
        self.assertEqual(len(text.splitlines()), 4)  # header, rule, NTS server, SHM clock

    def peer_table(self, text):
        rows = {}
        for line in text.splitlines()[2:]:
            cols = line[1:].split()
            rows[line[:16]] = (line[0], cols)
        return rows

    def test_peers_equal_ntpq_p(self):
        for numeric in (False, True):
            with self.subTest(numeric=numeric):
                args = ["-n"] if numeric else []

                def truth():
                    return self.ntpd.ntpq(*args, "-p", host="127.0.0.1")

                def without_when(text):
                    return [line[:37] + line[42:] for line in text.splitlines()]

                for _ in range(ATTEMPTS):
                    before = truth()
                    ours = self.mon(*args, "127.0.0.1", "peers")
                    after = truth()
                    if without_when(before) == without_when(after):
                        break
                self.assertEqual(without_when(ours), without_when(before))
                self.assertEqual(ours.splitlines()[:2], before.splitlines()[:2])
                for mine, theirs in zip(ours.splitlines()[2:], before.splitlines()[2:]):
                    when_mine, when_theirs = mine[37:42].strip(), theirs[37:42].strip()
                    if when_theirs == "-":
                        self.assertEqual(when_mine, "-")
                    else:
                        self.assertLessEqual(abs(int(when_mine) - int(when_theirs)), 2)
                self.assertIn("*", [line[0] for line in ours.splitlines()[2:]])

    def test_peers_json_rows(self):
        doc = self.mon_json("-n", "127.0.0.1", "peers")
        rows = {p["remote"]: p for p in doc["peers"]}
        self.assertEqual(rows["127.0.0.1"]["tally"], "*")
        self.assertEqual(rows["127.0.0.1"]["stratum"], 3)
        self.assertEqual(rows["SHM(0)"]["type"], "l")
        self.assertIsNone(rows["SHM(0)"]["when"])
        self.assertEqual(rows["SHM(0)"]["reach_octal"], "0")

    def test_peervars_of_each_association_equal_ntpq(self):
        for assoc in self.associations():
            with self.subTest(assoc=assoc):
                truth, doc, stable = self.snapshot(
                    lambda: ntpq_raw(self.ntpq("raw", f"rv {assoc}")),
                    lambda: self.mon_json("127.0.0.1", "peervars", str(assoc)))
                (read,) = doc["reads"]
                self.assertTrue(read["ok"])
                self.assert_variables_equal(read, truth, stable)
        doc = self.mon_json("127.0.0.1", "peervars", "all")
        self.assertEqual([r["association_id"] for r in doc["reads"][1:]], self.associations())

    def test_clockvars_equal_ntpq_cv(self):
        shm = [a for a in self.associations()
               if "SHM" in self.ntpq(f"rv {a} srchost")]
        (assoc,) = shm
        truth, doc, stable = self.snapshot(
            lambda: ntpq_raw(self.ntpq("raw", f"cv {assoc}")),
            lambda: self.mon_json("127.0.0.1", "cv", str(assoc)))
        (read,) = doc["reads"]
        self.assert_variables_equal(read, truth, stable)
        word = truth[0]
        self.assertEqual(read["status"]["word"], word)
        names = ["clk_unspec", "clk_no_reply", "clk_bad_format", "clk_fault",
                 "clk_bad_signal", "clk_bad_date", "clk_bad_time"]
        self.assertEqual(read["status"]["state"], names[word & 0xf] if word & 0xf < 7 else
                         f"clk_{word & 0xf}")
        # The next nibble counts the clock's non-nominal reports up to 15: for an unfed SHM
        # clock every poll is a no-reply report, so it is min(noreply, 15) of the same answer,
        # and ntpq's cooked status line says "N events".
        noreply = int(next(v["raw"] for v in read["variables"] if v["name"] == "noreply"))
        self.assertEqual(read["status"]["event_count"], min(noreply, 15))
        if stable:
            cooked = self.ntpq(f"cv {assoc}").splitlines()[0]
            self.assertIn(f"{(word >> 4) & 0xf} event", cooked)
        # Without an association: every clock, and only clocks.
        doc = self.mon_json("127.0.0.1", "clockvars")
        self.assertEqual([r["association_id"] for r in doc["reads"][1:]], [assoc])

    def test_unknown_association_is_a_server_error(self):
        doc = self.mon_json("127.0.0.1", "peervars", "999", rc=1)
        self.assertEqual(doc["error"]["server_error"], "BADASSOC")
        p = self.ns.run(["ntpq", "-c", "rv 999", "127.0.0.1"])
        self.assertIn("Unknown associd", p.stdout + p.stderr)

    def test_authenticated_requests(self):
        """ntpd signs its answer with the key of a request it verified (the controlkey or any
        trusted key, for reads); a request it cannot verify gets an unsigned answer."""
        keyfile = self.ntpd.keyfile
        for key in ("1", "2"):
            doc = self.mon_json("-a", key, "-k", keyfile, "127.0.0.1", "sysvars")
            self.assertTrue(doc["ok"])
            self.assertEqual(doc["reads"][0]["mac"], "verified")
        wrong = self.ntpd.write("wrong.keys", WRONG_KEYS)
        os.chmod(wrong, 0o600)
        for key in ("1", "3"):
            doc = self.mon_json("-a", key, "-k", wrong, "127.0.0.1", "sysvars", rc=1)
            self.assertEqual(doc["error"]["kind"], "auth")
            self.assertEqual(doc["reads"][0]["mac"], "missing")
        text = self.mon("-a", "3", "-k", wrong, "127.0.0.1", "sysvars", rc=1)
        self.assertIn("authentication failed", text)


    def test_statistics_commands_agree_with_ntpq(self):
        """sysstats, iostats, monstats, authinfo, kerninfo: each integer counter lies between
        what ntpq printed before and after (our own requests count too). ntpq's label of each
        variable is read from its own tables in /usr/bin/ntpq (ntpq is Python in NTPsec)."""
        with open("/usr/bin/ntpq") as f:
            labels = dict(re.findall(r'\("(\w+)",\s*"([^"]+?):?\s*",\s*NTP_\w+\)', f.read()))
        self.assertEqual(labels["ss_uptime"], "uptime")

        def ntpq_values(command):
            values = {}
            for line in self.ntpq(command).splitlines():
                m = re.match(r"^(.+?):?\s{2,}(\S+)", line)
                if not m:
                    continue
                text = m.group(2)
                if re.fullmatch(r"\d+:\d\d:\d\d", text):
                    h, mi, s = (int(x) for x in text.split(":"))
                    values[m.group(1).strip()] = h * 3600 + mi * 60 + s
                elif re.fullmatch(r"-?\d+", text):
                    values[m.group(1).strip()] = int(text)
            return values

        for command in ("sysstats", "iostats", "monstats", "authinfo", "kerninfo"):
            with self.subTest(command):
                for _ in range(ATTEMPTS):
                    before = ntpq_values(command)
                    doc = self.mon_json("127.0.0.1", command)
                    after = ntpq_values(command)
                    ours = {v["name"]: v["value"] for r in doc["reads"] for v in r["variables"]
                            if v["type"] == "integer"}
                    compared = [n for n in ours if labels.get(n) in before and
                                labels.get(n) in after]
                    bad = [n for n in compared if not
                           min(before[labels[n]], after[labels[n]]) <= ours[n] <=
                           max(before[labels[n]], after[labels[n]])]
                    if not bad:
                        break
                self.assertTrue(doc["ok"], doc["error"])
                self.assertGreaterEqual(len(compared), 3, (command, ours, before))
                self.assertEqual(bad, [], (command, ours, before, after))
                text = self.mon("127.0.0.1", command)
                for name in ours:
                    self.assertRegex(text, rf"(?m)^{name}:\s+\S")
        # ntpsec knows no authkuncached/authkexpired: asked alone, refused, listed.
        doc = self.mon_json("127.0.0.1", "authinfo")
        refused = [r["name"] for read in doc["reads"] for r in read["refused"]]
        self.assertEqual(sorted(refused), ["authkexpired", "authkuncached"])

    def prometheus(self, *args):
        text = self.mon("--prometheus", "127.0.0.1", *args)
        check = peers.run(["promtool", "check", "metrics"], input=text)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        samples = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                series, value = line.rsplit(" ", 1)
                samples[series] = float(value)
        return samples

    def test_prometheus_passes_promtool_and_agrees_with_ntpq(self):
        rv = dict(ntpq_raw(self.ntpq("raw", "rv"))[1])
        m = self.prometheus("sysvars")
        self.assertEqual(m['ntpkit_mode6_up{server="127.0.0.1"}'], 1)
        self.assertEqual(m['ntpkit_ntpd_stratum{server="127.0.0.1"}'], int(rv["stratum"]))
        self.assertEqual(m['ntpkit_ntpd_precision_log2{server="127.0.0.1"}'],
                         int(rv["precision"]))
        m = self.prometheus("-n", "peers")
        reach = {}
        for line in self.ntpd.ntpq("-n", "-p").splitlines()[2:]:
            reach[line[1:17].strip()] = int(line[48:53], 8)
        got = {re.search(r'remote="([^"]*)"', k).group(1): v for k, v in m.items()
               if k.startswith("ntpkit_peer_reach{")}
        self.assertEqual(got, reach)
        for command in (["peervars", "all"], ["clockvars"]):
            m = self.prometheus(*command)
            self.assertTrue(any(k.startswith("ntpkit_mode6_variable{") for k in m), command)


class RefusingNtpdTest(unittest.TestCase):
    """An ntpd whose restrict lines allow no mode 6 (noquery for everyone): a timeout."""

    @classmethod
    def setUpClass(cls):
        stack = contextlib.ExitStack()
        cls.addClassCleanup(stack.close)
        cls.ns = stack.enter_context(peers.Namespace())
        cls.ntpd = stack.enter_context(NoQueryNtpd(cls.ns))

    def test_no_answer_is_a_timeout(self):
        p = self.ns.run([peers.binary("ntpmon-query"), "-j", "-t", "0.5", "127.0.0.1", "rv"])
        self.assertEqual(p.returncode, 1, p.stderr)
        doc = json.loads(p.stdout)
        SCHEMA.validate(doc)
        self.assertEqual(doc["error"]["kind"], "timeout")
        self.assertEqual(doc["reads"][0]["requests"], 2)


class NoQueryNtpd(peers.Ntpd):
    """An orphan ntpd that serves time but no mode 6 to anyone."""

    def config(self):
        return super().config().replace("restrict 127.0.0.1\n", "restrict 127.0.0.1 noquery\n") \
            .replace("restrict ::1\n", "restrict ::1 noquery\n")

    def start(self):
        conf = self.write("ntp.conf", self.config())
        self._spawn(["setpriv", "--bounding-set=-sys_time", "--inh-caps=-sys_time", self.ntpd,
                     "-n", "-c", conf, "-p", self.pidfile, "-l", self.logfile])
        peers.wait_until(lambda: self._check_alive() or self.pid(), peers.START_TIMEOUT,
                         what="ntpd pidfile")


if __name__ == "__main__":
    unittest.main()
