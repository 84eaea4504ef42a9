"""ntpclients, the program, against independent truth.

- Capture files tcpdump wrote on a namespace's loopback while real clients (ntpdig,
  python3-ntplib v3 and v4, chronyd as a client, ntpq's mode 6) asked a real chronyd:
  `ntpclients pcap -j` counts what tshark counts (datagrams by mode and version, distinct
  clients, answers with a delta time and each delta to the nanosecond); the CSV rows add up to
  tshark's datagrams; --prometheus passes `promtool check metrics` and its counters are
  tshark's; --plot is an SVG document; --nagios judges the thresholds as documented.
- A responder that holds its answers by known times: the slowest answers are the longest
  holds, with the frame numbers tshark gives those frames.
- A live capture in the namespace while clients ask chronyd: the requests counted are the
  requests chronyd says it received (`chronyc serverstats`) and the ones tcpdump wrote;
  --every gives one JSON line per period whose packets add up to the whole; SIGINT ends the
  capture with the report and exit 0; as root, privileges are dropped to --user.
- Hostile and broken inputs: missing, a directory, not a capture, a cut file, a corrupt gzip
  stream, a header claiming 4 GiB frames, an empty file: one line on stderr each, the report of
  what was read, exit 1, nothing hangs. Every JSON document is valid against
  docs/ntpclients.schema.json.
"""

import gzip
import json
import os
import re
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

import jsonschema

import peers
import test_capture_counts as cc

SOURCE = peers.source_dir()
SCHEMA = os.path.join(SOURCE, "docs", "ntpclients.schema.json")
HERE = os.path.dirname(os.path.abspath(__file__))


def ntpclients():
    return os.path.join(peers.build_dir(), "apps", "ntpclients")


def validator():
    with open(SCHEMA) as f:
        return jsonschema.Draft202012Validator(json.load(f))


VALIDATOR = validator()


def run(*args, timeout=120, **kw):
    return subprocess.run([ntpclients()] + [str(a) for a in args], capture_output=True,
                          text=True, timeout=timeout, **kw)


def document(case, text):
    """One JSON document, checked against the schema."""
    doc = json.loads(text)
    problems = [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(doc)]
    case.assertEqual(problems, [], "schema")
    return doc


def report(case, *args, expect=0):
    r = run("pcap", "-j", *args)
    case.assertEqual(r.returncode, expect, r.stderr)
    return document(case, r.stdout)


def tshark_modes(path, port=123):
    rows = cc.tshark(path, ["ntp.flags.mode", "ntp.flags.vn", "_ws.col.Source",
                            "udp.dstport"], f"{cc.on_port(port)} && ntp && !_ws.malformed", port)
    return rows


MODE_NAMES = {1: "symmetric_active", 2: "symmetric_passive", 3: "client", 4: "server",
              5: "broadcast", 6: "control", 7: "private"}


class Captured(unittest.TestCase):
    """Files tcpdump wrote while real clients asked a real chronyd (and a held responder)."""

    @classmethod
    def setUpClass(cls):
        peers.require_netns()
        cls.dir = tempfile.mkdtemp(prefix="nkcli-")
        cls.ns = cc.NkcapNamespace()
        cls.ns.__enter__()
        try:
            cls.ns.add_address("127.0.0.2/8")
            cls.ns.add_address("127.0.0.3/8")
            cls.capture = os.path.join(cls.dir, "lo.pcap")
            cls.held = os.path.join(cls.dir, "held.pcap")
            with peers.Chronyd(cls.ns, port=123, bind=(),
                               allow=("127.0.0.0/8", "::1")):
                dump = cc.start_tcpdump(cls.ns, cls.capture, "udp port 123")
                try:
                    for host in ("127.0.0.1", "::1"):
                        cls.ns.run(["ntpdig", host], timeout=20)
                    cls.ns.run([cc.SYSTEM_PYTHON, os.path.join(HERE, "capture_traffic.py"),
                                "ntplib", "127.0.0.1", "123", "127.0.0.2", "127.0.0.3"],
                               timeout=30, check=True)
                    cls.ns.run([cc.SYSTEM_PYTHON, os.path.join(HERE, "capture_traffic.py"),
                                "ntplib", "::1", "123", "::1"], timeout=30, check=True)
                    cls.ns.run(["ntpq", "-c", "rv", "127.0.0.1"], timeout=20)
                    time.sleep(0.3)
                finally:
                    cc.stop_tcpdump(dump)
            dump = cc.start_tcpdump(cls.ns, cls.held, "udp port 12300")
            try:
                out = cls.ns.run([cc.SYSTEM_PYTHON, os.path.join(HERE, "capture_traffic.py"),
                                  "held", "12300"], timeout=30, check=True)
                cls.plan = json.loads(out.stdout)
                time.sleep(0.3)
            finally:
                cc.stop_tcpdump(dump)
        except BaseException:
            cls.ns.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.ns.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_json_counts_what_tshark_counts(self):
        doc = report(self, self.capture)
        self.assertTrue(doc["ok"])
        rows = tshark_modes(self.capture)
        self.assertEqual(doc["datagrams"]["ntp"], len(rows))
        by_mode = {}
        for mode, _, _, _ in rows:
            name = MODE_NAMES[int(mode)]
            by_mode[name] = by_mode.get(name, 0) + 1
        self.assertEqual(doc["datagrams"]["split"]["by_mode"], by_mode)
        by_version = {}
        for _, version, _, _ in rows:
            by_version[version] = by_version.get(version, 0) + 1
        self.assertEqual(doc["datagrams"]["split"]["by_version"], by_version)
        clients = {src for mode, _, src, dport in rows if mode in ("1", "2", "3")
                   and dport == "123"}
        control = {src for mode, _, src, dport in rows if mode == "6" and dport == "123"}
        self.assertEqual(doc["clients"]["distinct"], len(clients))
        self.assertEqual(doc["clients"]["distinct"], 4)  # 127.0.0.1-3 and ::1
        self.assertEqual(doc["clients"]["control"]["distinct"], len(control))
        self.assertEqual({t["address"] for t in doc["top_talkers"]}, clients)
        # Every answer matched, as tshark pairs them in this clean capture; min and max of
        # the delta are exact (the quantiles come from the histogram).
        deltas = [round(float(d) * 1e9) for (d,) in cc.tshark(
            self.capture, ["ntp.delta_time"], "ntp.delta_time")]
        self.assertEqual(doc["answers"]["matched"], len(deltas))
        self.assertEqual(doc["answers"]["matched"], doc["answers"]["requests"])
        self.assertEqual(round(doc["delta"]["min"] * 1e9), min(deltas))
        self.assertEqual(round(doc["delta"]["max"] * 1e9), max(deltas))
        self.assertEqual(doc["delta"]["count"], len(deltas))
        buckets = doc["delta"]["histogram"]["buckets"]
        self.assertEqual(sum(b["count"] for b in buckets), len(deltas))
        self.assertAlmostEqual(doc["delta"]["histogram"]["sum"], sum(deltas) / 1e9, places=6)

    def test_docs_name_every_property_and_their_jq_recipes_work(self):
        with open(os.path.join(SOURCE, "docs", "json.md")) as f:
            text = f.read().split("# ntpclients JSON output", 1)[1]
        with open(SCHEMA) as f:
            schema = json.load(f)

        def names(node):
            if isinstance(node, dict):
                for key, value in node.get("properties", {}).items():
                    yield key
                    yield from names(value)
                for value in node.values():
                    if isinstance(value, (dict, list)):
                        yield from names(value)
            elif isinstance(node, list):
                for value in node:
                    yield from names(value)
        missing = sorted(n for n in set(names(schema)) if f"`{n}`" not in text)
        self.assertEqual(missing, [], "schema properties docs/json.md does not name")
        doc = report(self, "--interval", 1, self.capture)
        period = dict(doc, period=True)
        checks = {
            '"\\(.start.iso)\\t\\(.clients)"': lambda out: self.assertEqual(
                out.splitlines(), [f"{i['start']['iso']}\t{i['clients']}"
                                   for i in doc["intervals"]]),
            ".slowest[]": lambda out: self.assertEqual(
                [line.split()[-1] for line in out.splitlines()],
                [str(e["response"]["frame"]) for e in doc["slowest"]]),
            ".unanswered /": lambda out: self.assertAlmostEqual(
                float(out), doc["answers"]["unanswered"] / doc["answers"]["requests"]),
            "select(.period)": lambda out: self.assertEqual(
                json.loads(out), [period["started"], doc["clients"]["distinct"]]),
            ".clients.distinct": lambda out: self.assertEqual(
                out.split(), [str(doc["clients"]["distinct"])] * 2),
        }
        recipes = []
        for name in ("README.md", os.path.join("docs", "json.md"),
                     os.path.join("man", "ntpclients.1")):
            with open(os.path.join(SOURCE, name)) as f:
                page = f.read().replace("\\e", "\\").replace("\\-", "-")
            for line in page.replace("\\\n", " ").splitlines():
                if line.startswith("ntpclients ") and "| jq " in line:
                    recipes.append((name, line.split("| jq ", 1)[1]))
        self.assertGreaterEqual(len(recipes), 5)
        for where, jq_part in recipes:
            with self.subTest(where=where, recipe=jq_part):
                check = next((c for key, c in checks.items() if key in jq_part), None)
                self.assertIsNotNone(check, "a recipe without a check")
                data = json.dumps(doc)
                if "select(.period)" in jq_part or jq_part.strip() == ".clients.distinct":
                    data = json.dumps(period) + "\n" + json.dumps(doc)
                r = subprocess.run(["jq"] + shlex.split(jq_part), input=data,
                                   capture_output=True, text=True, timeout=30)
                self.assertEqual(r.returncode, 0, r.stderr)
                check(r.stdout)

    def test_text_report_names_the_figures(self):
        doc = report(self, self.capture)
        r = run("pcap", self.capture)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"{doc['clients']['distinct']} distinct", r.stdout)
        self.assertIn(f"{doc['datagrams']['ntp']} NTP", r.stdout)
        self.assertIn(f"{doc['answers']['matched']} matched", r.stdout)
        verbose = run("pcap", "-v", self.capture)
        self.assertGreater(len(verbose.stdout), len(r.stdout))

    def test_csv_rows_add_up_to_tshark(self):
        r = run("pcap", "--csv", "--interval", "1", self.capture)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        header = lines[0].split(",")
        rows = [dict(zip(header, line.split(","))) for line in lines[1:]]
        self.assertGreater(len(rows), 1)
        self.assertEqual(sum(int(row["packets"]) for row in rows),
                         len(tshark_modes(self.capture)))
        self.assertEqual(sorted(row["start_unix"] for row in rows),
                         [row["start_unix"] for row in rows])

    def test_prometheus_passes_promtool_and_counts_what_tshark_counts(self):
        r = run("pcap", "--prometheus", self.capture)
        self.assertEqual(r.returncode, 0, r.stderr)
        check = subprocess.run(["promtool", "check", "metrics"], input=r.stdout,
                               capture_output=True, text=True, timeout=30)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        values = {}
        for line in r.stdout.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        self.assertEqual(values["ntpkit_clients_distinct"], 4)
        total = sum(v for k, v in values.items() if k.startswith("ntpkit_clients_packets_total{"))
        self.assertEqual(total, len(tshark_modes(self.capture)))
        deltas = cc.tshark(self.capture, ["ntp.delta_time"], "ntp.delta_time")
        self.assertEqual(values["ntpkit_clients_response_seconds_count"], len(deltas))
        self.assertEqual(values['ntpkit_clients_response_seconds_bucket{le="+Inf"}'], len(deltas))

    def test_plot_is_an_svg_document(self):
        svg = os.path.join(self.dir, "plot.svg")
        r = run("pcap", "--plot", svg, self.capture)
        self.assertEqual(r.returncode, 0, r.stderr)
        root = ET.parse(svg).getroot()
        self.assertEqual(root.tag, "{http://www.w3.org/2000/svg}svg")
        text = open(svg).read()
        self.assertIn("clients", text.lower())
        self.assertIn("delta", text.lower())

    def test_plugin_thresholds(self):
        cases = [
            ([], 0, "OK"),
            (["--warn-clients", "3"], 1, "WARNING"),       # 4 clients, outside 0..3
            (["--crit-clients", "3"], 2, "CRITICAL"),
            (["--warn-clients", "10", "--crit-clients", "20"], 0, "OK"),
            (["--crit-clients", "@4:4"], 2, "CRITICAL"),   # inside the range alerts
            (["--crit-response", "0.000000001"], 2, "CRITICAL"),
            (["--crit-response", "10", "--response-figure", "max"], 0, "OK"),
            (["--warn-unanswered", "0"], 0, "OK"),         # every request was answered
            (["--crit-rate", "1"], 2, "CRITICAL"),
        ]
        for args, code, word in cases:
            with self.subTest(args=args):
                r = run("pcap", "--nagios", *args, self.capture)
                self.assertEqual(r.returncode, code, r.stdout + r.stderr)
                self.assertTrue(r.stdout.startswith(f"NTPCLIENTS {word}: "), r.stdout)
                self.assertEqual(r.stdout.count("\n"), 1)
                self.assertIn("|'clients'=4;", r.stdout)

    def test_plugin_without_traffic_is_unknown_or_critical(self):
        empty = os.path.join(self.dir, "nothing.pcap")
        with open(empty, "wb") as f:
            f.write(cc.pcap_bytes(1, [cc.eth(0x0806, bytes(28))]))
        r = run("pcap", "--nagios", empty)
        self.assertEqual(r.returncode, 3, r.stdout)
        self.assertTrue(r.stdout.startswith("NTPCLIENTS UNKNOWN: no NTP datagrams"), r.stdout)
        r = run("pcap", "--nagios", "--no-traffic-critical", empty)
        self.assertEqual(r.returncode, 2, r.stdout)

    def test_slowest_answers_are_the_longest_holds_with_tsharks_frame_numbers(self):
        doc = report(self, "--port", 12300, "--response-timeout", 1, self.held)
        holds = sorted((e["hold"] for e in self.plan if e["hold"] is not None), reverse=True)
        self.assertEqual(doc["answers"]["matched"], len(holds))
        slowest = doc["slowest"]
        self.assertEqual(len(slowest), len(holds))
        for entry, hold in zip(slowest, holds):
            self.assertGreaterEqual(entry["delta"], hold)
            self.assertLess(entry["delta"], hold + 0.025)
        rows = {int(f): (mode, xmt, org) for f, mode, xmt, org in cc.tshark(
            self.held, ["frame.number", "ntp.flags.mode", "ntp.xmt", "ntp.org"], "ntp",
            port=12300)}
        for entry in slowest:
            request, response = entry["request"]["frame"], entry["response"]["frame"]
            self.assertEqual(rows[request][0], "3")
            self.assertEqual(rows[response][0], "4")
            self.assertEqual(rows[response][2], rows[request][1])  # origin = its transmit

    def test_gzip_and_several_files(self):
        packed = os.path.join(self.dir, "lo.pcap.gz")
        with open(self.capture, "rb") as src, gzip.open(packed, "wb") as dst:
            shutil.copyfileobj(src, dst)
        plain, compressed = report(self, self.capture), report(self, packed)
        self.assertTrue(compressed["inputs"][0]["compressed"])
        for key in ("frames", "datagrams", "clients", "answers", "delta"):
            self.assertEqual(plain[key], compressed[key], key)
        both = report(self, self.capture, self.held)
        self.assertEqual(both["frames"]["total"],
                         plain["frames"]["total"] + report(self, self.held, expect=1)["frames"]["total"])

    def test_output_file_is_replaced_whole(self):
        out = os.path.join(self.dir, "report.json")
        with open(out, "w") as f:
            f.write("old" * 100000)
        r = run("pcap", "-j", "-o", out, self.capture)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "")
        with open(out) as f:
            document(self, f.read())
        self.assertEqual([n for n in os.listdir(self.dir) if ".tmp." in n], [])
        r = run("pcap", "-j", "-o", "/nonexistent-dir/x.json", self.capture)
        self.assertEqual(r.returncode, 2)
        self.assertIn("/nonexistent-dir/x.json: No such file or directory", r.stderr)


class BrokenInputs(unittest.TestCase):
    """Every broken input: one line on stderr, the report of the rest, exit 1, in bounded time."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="nkcli-")
        frames = [cc.eth(0x0800, cc.ipv4(17, cc.udp(40000, 123, cc.ntp(0x23)),
                                         src=bytes([192, 0, 2, n]))) for n in range(1, 6)]
        cls.good = cls.write("good.pcap", cc.pcap_bytes(1, frames))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def write(cls, name, data):
        path = os.path.join(cls.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def check(self, path, message):
        r = run("pcap", "-j", path, self.good, timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn(message, lines[0])
        doc = document(self, r.stdout)
        self.assertFalse(doc["ok"])
        self.assertEqual(doc["clients"]["distinct"], 5)  # the good file still counted
        return doc

    def test_missing(self):
        self.check(os.path.join(self.dir, "absent.pcap"), "No such file or directory")

    def test_directory(self):
        self.check(self.dir, self.dir)

    def test_not_a_capture(self):
        self.check(self.write("text.pcap", b"hello, this is not a capture\n" * 10),
                   "not a pcap or pcapng file")

    def test_empty(self):
        self.check(self.write("empty.pcap", b""), "empty.pcap")

    def test_cut_inside_a_frame(self):
        with open(self.good, "rb") as f:
            data = f.read()
        doc = self.check(self.write("cut.pcap", data[:-9]), "cut.pcap")
        self.assertEqual(doc["inputs"][0]["frames"], 4)
        self.assertFalse(doc["inputs"][0]["complete"])

    def test_corrupt_gzip(self):
        with open(self.good, "rb") as f:
            packed = bytearray(gzip.compress(f.read()))
        packed[len(packed) // 2] ^= 0xff
        self.check(self.write("bad.pcap.gz", bytes(packed)), "bad.pcap.gz")

    def test_header_claiming_huge_frames(self):
        header = struct.pack("<IHHiIII", 0xa1b23c4d, 2, 4, 0, 0, 0xffffffff, 1)
        record = struct.pack("<IIII", 1_764_000_000, 0, 0xfffffff0, 0xfffffff0) + bytes(64)
        start = time.monotonic()
        self.check(self.write("huge.pcap", header + record), "huge.pcap")
        self.assertLess(time.monotonic() - start, 30)

    def test_standard_input_and_pipes(self):
        with open(self.good, "rb") as f:
            data = f.read()
        r = subprocess.run([ntpclients(), "pcap", "-j", "-"], input=data, capture_output=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["clients"]["distinct"], 5)
        r = subprocess.run(["bash", "-c", f"{ntpclients()} pcap -j <(cat {self.good})"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(document(self, r.stdout)["clients"]["distinct"], 5)
        r = subprocess.run([ntpclients(), "pcap", "-"], input=gzip.compress(data),
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"decompress it first", r.stderr)

    def test_sigint_while_reading_reports_what_was_read_and_exits_130(self):
        fifo = os.path.join(self.dir, "fifo")
        os.mkfifo(fifo)
        with open(self.good, "rb") as f:
            data = f.read()
        proc = subprocess.Popen([ntpclients(), "pcap", "-j", fifo], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        with open(fifo, "wb") as writer:  # open until the end: ntpclients waits for more
            writer.write(data)
            writer.flush()
            time.sleep(0.5)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=10)
        self.assertEqual(proc.returncode, 130, err)
        self.assertEqual(err.splitlines(), ["ntpclients: interrupted by SIGINT: the report "
                                            "covers what was read"])
        doc = document(self, out)
        self.assertTrue(doc["interrupted"])
        self.assertEqual(doc["clients"]["distinct"], 5)

    def test_control_bytes_in_a_name_are_not_written_raw(self):
        name = os.path.join(self.dir, "evil\x1b[2J.pcap")
        r = run("pcap", name, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertNotIn("\x1b", r.stderr + r.stdout)


class CommandLine(unittest.TestCase):
    def test_usage_errors_are_one_line_and_exit_2(self):
        cases = [
            [],
            ["pcap"],
            ["pcap", "x.pcap", "--interval", "0"],
            ["pcap", "x.pcap", "--interval", "abc"],
            ["pcap", "x.pcap", "--server", "not-an-address"],
            ["pcap", "x.pcap", "-j", "--csv"],
            ["pcap", "x.pcap", "--warn-clients", "10"],        # needs --nagios
            ["pcap", "x.pcap", "-v", "-j"],
            ["live"],
            ["live", "-i", "lo", "--every", "10", "--prometheus"],  # needs -o
            ["live", "-i", "lo", "--user", "x", "--keep-privileges"],
            ["frobnicate"],
        ]
        for args in cases:
            with self.subTest(args=args):
                r = run(*args, timeout=10)
                self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
                self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
                self.assertTrue(r.stderr.startswith("ntpclients: "), r.stderr)

    def test_plugin_usage_error_is_unknown(self):
        r = run("pcap", "x.pcap", "--nagios", "--crit-clients", "zz", timeout=10)
        self.assertEqual(r.returncode, 3)
        self.assertTrue(r.stdout.startswith("NTPCLIENTS UNKNOWN"), r.stdout)

    def test_help_lists_the_subcommands_and_exit_statuses(self):
        r = run("--help", timeout=10)
        self.assertEqual(r.returncode, 0)
        for word in ("pcap", "live", "Exit status"):
            self.assertIn(word, r.stdout)
        r = run("pcap", "--help", timeout=10)
        for option in ("--interval", "--response-timeout", "--plot", "--nagios", "--csv"):
            self.assertIn(option, r.stdout)

    def test_write_error_is_reported(self):
        if not os.path.exists("/dev/full"):
            self.skipTest("no /dev/full")
        good = tempfile.NamedTemporaryFile(suffix=".pcap", delete=False)
        good.write(cc.pcap_bytes(1, [cc.eth(0x0800, cc.ipv4(17, cc.udp(1, 123, cc.ntp(0x23))))]))
        good.close()
        try:
            with open("/dev/full", "w") as full:
                r = subprocess.run([ntpclients(), "pcap", good.name], stdout=full,
                                   stderr=subprocess.PIPE, text=True, timeout=10)
            self.assertEqual(r.returncode, 2)
            self.assertIn("write error", r.stderr)
        finally:
            os.unlink(good.name)


class Live(unittest.TestCase):
    """ntpclients live on a namespace's loopback while clients ask chronyd there."""

    @classmethod
    def setUpClass(cls):
        peers.require_netns()
        cls.dir = tempfile.mkdtemp(prefix="nkcli-")
        os.chmod(cls.dir, 0o777)
        cls.ns = cc.NkcapNamespace()
        cls.ns.__enter__()
        try:
            cls.chrony = peers.Chronyd(cls.ns, port=123, bind=(), allow=("127.0.0.0/8", "::1"))
            cls.chrony.__enter__()
        except BaseException:
            cls.ns.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.chrony.__exit__(None, None, None)
        cls.ns.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def start(self, *args):
        proc = self.ns.popen([ntpclients(), "live", "-i", "lo"] + [str(a) for a in args],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.7)  # the capture is open well before this
        return proc

    def ask(self, count):
        for _ in range(count):
            self.ns.run(["ntpdig", "-t", "1", "127.0.0.1"], timeout=10)

    def test_counts_what_chronyd_received_and_tcpdump_saw(self):
        before = self.chrony.serverstats()["NTP packets received"]
        dump = cc.start_tcpdump(self.ns, os.path.join(self.dir, "live.pcap"), "udp port 123")
        proc = self.start("--duration", 4, "-j")
        self.ask(5)
        out, err = proc.communicate(timeout=20)
        cc.stop_tcpdump(dump)
        self.assertEqual(proc.returncode, 0, err)
        doc = document(self, out)
        received = self.chrony.serverstats()["NTP packets received"] - before
        self.assertEqual(doc["source"], "live")
        self.assertEqual(doc["answers"]["requests"], received)
        self.assertEqual(doc["answers"]["matched"], received)
        self.assertEqual(doc["clients"]["distinct"], 1)
        self.assertEqual(doc["kernel"]["dropped"], 0)
        self.assertEqual(doc["datagrams"]["ntp"],
                         len(tshark_modes(os.path.join(self.dir, "live.pcap"))))
        self.assertGreaterEqual(doc["ended"]["unix"] - doc["started"]["unix"], 3.9)

    def test_every_period_adds_up_to_the_whole(self):
        proc = self.start("--duration", 3.5, "--every", 1, "-j")
        self.ask(6)
        out, err = proc.communicate(timeout=20)
        self.assertEqual(proc.returncode, 0, err)
        docs = [document(self, line) for line in out.splitlines()]
        periods, whole = docs[:-1], docs[-1]
        self.assertFalse(whole["period"])
        self.assertTrue(all(d["period"] for d in periods))
        self.assertGreaterEqual(len(periods), 3)
        self.assertEqual(sum(d["datagrams"]["ntp"] for d in periods), whole["datagrams"]["ntp"])
        self.assertEqual(whole["answers"]["requests"], 6)
        for d in periods[1:-1]:  # whole periods start on a second
            self.assertEqual(d["started"]["unix"] % 1, 0.0, d["started"])

    def test_sigint_ends_with_the_report_and_privileges_dropped(self):
        out_file = os.path.join(self.dir, "live.prom")
        proc = self.start("--prometheus", "-o", out_file)
        self.ask(2)
        status = open(f"/proc/{proc.pid}/status").read()
        uid = [line.split()[1] for line in status.splitlines() if line.startswith("Uid:")][0]
        self.assertEqual(int(uid), 65534)  # nobody
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        self.assertEqual(proc.returncode, 0, err)
        text = open(out_file).read()
        check = subprocess.run(["promtool", "check", "metrics"], input=text,
                               capture_output=True, text=True, timeout=30)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertIn('ntpkit_clients_packets_total{direction="request"} 2', text)

    def test_no_such_interface(self):
        r = self.ns.run([ntpclients(), "live", "-i", "nosuch0", "--duration", "1"], timeout=10)
        self.assertEqual(r.returncode, 1)
        self.assertIn("nosuch0", r.stderr)
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)


class MruServer:
    """NTPsec's ntpd in a namespace, its MRU list filled from COUNT distinct 127.1.x.y
    sources (every tenth sent three requests)."""

    COUNT = 3000

    @classmethod
    def setUpClass(cls):
        peers.require_netns()
        cls.ns = cc.NkcapNamespace()
        cls.ns.__enter__()
        try:
            cls.ntpd = peers.Ntpd(cls.ns, config_extra="mru maxdepth 200000 maxage 86400\n"
                                                       "restrict 127.0.0.0 mask 255.0.0.0\n")
            cls.ntpd.__enter__()
            out = cls.ns.run([sys.executable, os.path.join(HERE, "mru_fill.py"), "123",
                              str(cls.COUNT), "10"], timeout=60, check=True)
            cls.sent = json.loads(out.stdout)["sent"]
            time.sleep(0.3)
        except BaseException:
            cls.ns.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.ntpd.__exit__(None, None, None)
        cls.ns.close()

    def mru(self, *args, timeout=120):
        r = self.ns.run([ntpclients(), "mru"] + [str(a) for a in args], timeout=timeout)
        return r


class MruList(MruServer, unittest.TestCase):
    """`ntpclients mru` lists the clients and counts `ntpq -c mrulist` lists."""

    def test_lists_exactly_what_ntpq_lists(self):
        r = self.mru("127.0.0.1", "-j", "--list", "--top", "5")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = document(self, r.stdout)
        theirs = self.ntpd.mrulist()
        ours = {}
        for e in doc["mru"]["list"]:
            host = e["address"].rsplit(":", 1)[0].strip("[]")
            ours[host] = e
        clients = {a for a, e in theirs.items() if e["mode"] == 3}
        self.assertEqual({a for a, e in ours.items() if e["mode"] == 3}, clients)
        self.assertGreaterEqual(len(clients), self.COUNT)
        for address in self.sent:
            with self.subTest(address=address):
                self.assertEqual(ours[address]["count"], theirs[address]["count"])
                self.assertEqual(ours[address]["count"], self.sent[address])
                self.assertEqual((ours[address]["mode"], ours[address]["version"]),
                                 (theirs[address]["mode"], theirs[address]["version"]))
        self.assertTrue(doc["mru"]["complete"])
        self.assertEqual(doc["source"], "mru")
        self.assertEqual(doc["clients"]["distinct"], len(clients))
        self.assertEqual(doc["clients"]["control"]["distinct"], 1)  # we asked from 127.0.0.1
        self.assertEqual(doc["top_talkers"][0]["requests"], 3)  # every tenth sent three
        self.assertEqual(doc["answers"]["requests"],
                         sum(e["count"] for e in theirs.values() if e["mode"] == 3))

    def test_text_and_plugin(self):
        r = self.mru("127.0.0.1", "--top", "3")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("MRU list", r.stdout)
        self.assertIn("read to its end", r.stdout)
        self.assertNotIn("Delta", r.stdout)
        r = self.mru("127.0.0.1", "--nagios", "--crit-clients", f"{self.COUNT - 1}")
        self.assertEqual(r.returncode, 2, r.stdout)
        self.assertTrue(r.stdout.startswith("NTPCLIENTS CRITICAL: "), r.stdout)
        r = self.mru("127.0.0.1", "--nagios", "--warn-clients", f"{self.COUNT * 2}")
        self.assertEqual(r.returncode, 0, r.stdout)

    def test_filters_as_ntpq(self):
        r = self.mru("127.0.0.1", "-j", "--list", "--mincount", "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = document(self, r.stdout)
        hosts = {e["address"].rsplit(":", 1)[0] for e in doc["mru"]["list"]}
        self.assertEqual({a for a, n in self.sent.items() if n >= 2} - hosts, set())
        self.assertTrue(all(e["count"] >= 2 for e in doc["mru"]["list"]))

    def test_a_server_that_is_not_there(self):
        r = self.mru("127.0.0.1:9", "--timeout", "0.3", "--retries", "0", timeout=60)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("not read to its end", r.stderr)
        r = self.mru("127.0.0.1:9", "--timeout", "0.3", "--retries", "0", "--nagios",
                     timeout=60)
        self.assertEqual(r.returncode, 3, r.stdout)


class MruFlood(MruServer, unittest.TestCase):
    """The walk finishes, with every entry, while a flood keeps changing the list."""

    def test_finishes_while_a_flood_changes_the_list(self):
        flood = self.ns.popen([sys.executable, os.path.join(HERE, "mru_fill.py"), "123", "0",
                               "0", "6"], stdout=subprocess.DEVNULL)
        try:
            time.sleep(0.5)
            r = self.mru("127.0.0.1", "-j", "--list", "--max-restarts", "1000")
        finally:
            flood.wait(timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = document(self, r.stdout)
        self.assertTrue(doc["mru"]["complete"], doc["mru"])
        hosts = {e["address"].rsplit(":", 1)[0] for e in doc["mru"]["list"]}
        self.assertEqual(set(self.sent) - hosts, set())  # every filled entry is there


class Monitoring(unittest.TestCase):
    """contrib/icinga2/ntpclients.conf and contrib/nagios/ntpclients.cfg: icinga2 validates
    them with the ITL, every argument is an ntpclients option, and the rendered commands judge
    a real capture as ntpclients itself does."""

    @classmethod
    def setUpClass(cls):
        import test_monitoring as tm
        cls.tm = tm
        cls.conf_path = os.path.join(SOURCE, "contrib", "icinga2", "ntpclients.conf")
        with open(cls.conf_path) as f:
            cls.text = f.read()
        cls.dir = tempfile.mkdtemp(prefix="nkcli-")
        # Four clients, each asking twice and answered after 1 ms, except the first request,
        # which is never answered (12 s before the others: past twice the response timeout).
        frames = []
        for n in range(1, 5):
            for k in range(2):
                stamp = (n << 8 | k) + 0x1000
                at = 0.0 if (n, k) == (1, 0) else 12 + n * 0.01 + k * 0.002
                frames.append((at, cc.eth(0x0800, cc.ipv4(17, cc.udp(40000 + n, 123, cc.ntp(
                    0x23, transmit=stamp)), src=bytes([192, 0, 2, n])))))
                if (n, k) != (1, 0):
                    frames.append((at + 0.001, cc.eth(0x0800, cc.ipv4(17, cc.udp(
                        123, 40000 + n, cc.ntp(0x24, transmit=stamp + 1, origin=stamp)),
                        src=cc.S4, dst=bytes([192, 0, 2, n])))))
        data = struct.pack("<IHHiIII", 0xa1b23c4d, 2, 4, 0, 0, 65535, 1)
        for at, frame in frames:
            ns = 1_764_000_000 * 10**9 + round(at * 1e9)
            data += struct.pack("<IIII", ns // 10**9, ns % 10**9, len(frame), len(frame)) + frame
        cls.capture = os.path.join(cls.dir, "four.pcap")
        with open(cls.capture, "wb") as f:
            f.write(data)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def block(self, name):
        """The CheckCommand with its template's arguments, as test_monitoring.render reads."""
        own = self.tm.check_command_block(self.text, name).replace("arguments += {",
                                                                   "arguments = {")
        template = self.text.replace('template CheckCommand "ntpclients-thresholds"',
                                     'object CheckCommand "ntpclients-thresholds"')
        return own + self.tm.check_command_block(template, "ntpclients-thresholds")

    def test_every_argument_is_an_ntpclients_option(self):
        for name, sub in (("ntpclients", "live"), ("ntpclients_pcap", "pcap")):
            options = self.tm.help_options(run(sub, "--help").stdout)
            for key, attrs in self.tm.arguments(self.block(name)).items():
                with self.subTest(command=name, argument=key):
                    if attrs.get("skip_key") != "true":
                        self.assertIn(key, options)

    def test_icinga2_validates_it_with_the_itl(self):
        if not shutil.which("icinga2"):
            raise AssertionError("icinga2 is missing: run scripts/setup-deps")
        d = tempfile.mkdtemp(dir=self.dir)
        os.makedirs(os.path.join(d, "cache"))
        conf = os.path.join(d, "icinga2.conf")
        with open(conf, "w") as f:
            f.write(f"""
const PluginDir = "/usr/lib/nagios/plugins"
const NodeName = "ntpkit-test"
const ZoneName = "ntpkit-test"
include <itl>
include <plugins>
include "{self.conf_path}"
object Host "ntp1" {{
  address = "127.0.0.1"
  check_command = "dummy"
}}
object Service "ntpclients" {{
  host_name = "ntp1"
  check_command = "ntpclients"
  vars.ntpclients_interface = "eth0"
  vars.ntpclients_crit_response = "0.01"
}}
object Service "ntpclients_pcap" {{
  host_name = "ntp1"
  check_command = "ntpclients_pcap"
  vars.ntpclients_files = [ "/var/tmp/a.pcap", "/var/tmp/b.pcap" ]
  vars.ntpclients_crit_unanswered = "5"
}}
""")
        defines = {"ObjectsPath": f"{d}/cache/icinga2.debug", "VarsPath": f"{d}/cache/vars",
                   "CacheDir": f"{d}/cache", "DataDir": f"{d}/data", "LogDir": f"{d}/log",
                   "InitRunDir": f"{d}/run", "PidPath": f"{d}/run/icinga2.pid",
                   "RunAsUser": "root", "RunAsGroup": "root"}
        r = subprocess.run(["icinga2", "daemon", "-C", "-c", conf] +
                           [f"-DConfiguration.{k}={v}" for k, v in defines.items()],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("Instantiated 2 Services", r.stdout)

    def test_rendered_pcap_command_judges_the_capture(self):
        # 4 clients, 8 requests, 1 unanswered (12.5 %).
        for service_vars, code in (
                ({}, 0),
                ({"ntpclients_crit_unanswered": "10"}, 2),
                ({"ntpclients_crit_unanswered": "20"}, 0),
                ({"ntpclients_warn_clients": "3"}, 1),
                ({"ntpclients_crit_response": "0.5", "ntpclients_response_figure": "max"}, 0)):
            with self.subTest(vars=service_vars):
                line = self.tm.render(self.block("ntpclients_pcap"), dict(
                    service_vars, ntpclients_files=[self.capture], ntpclients_path=ntpclients()))
                self.assertEqual(line[:3], [ntpclients(), "pcap", "--nagios"])
                self.assertEqual(line[-1], self.capture)
                r = subprocess.run(line, capture_output=True, text=True, timeout=30)
                self.assertEqual(r.returncode, code, (line, r.stdout, r.stderr))
                self.assertIn("4 clients", r.stdout)
                self.assertIn("12.50% unanswered", r.stdout)

    def test_nagios_definitions(self):
        with open(os.path.join(SOURCE, "contrib", "nagios", "ntpclients.cfg")) as f:
            text = f.read()
        commands = {}
        for block in re.findall(r"define command \{(.*?)\}", text, re.S):
            fields = dict(re.findall(r"^\s*(\w+)\s+(.+?)\s*$", block, re.M))
            commands[fields["command_name"]] = fields["command_line"]
        self.assertEqual(set(commands), {"check_ntpclients", "check_ntpclients_pcap"})
        live_options = self.tm.help_options(run("live", "--help").stdout)
        words = shlex.split(commands["check_ntpclients"].replace("$ARG5$", ""))
        for w in words:
            if w.startswith("--"):
                self.assertIn(w, live_options)
        line = commands["check_ntpclients_pcap"]
        for i, a in enumerate([self.capture, "0.5", "10", "--warn-clients 10"], start=1):
            line = line.replace(f"$ARG{i}$", a)
        words = shlex.split(line)
        words[0] = ntpclients()
        r = subprocess.run(words, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stdout)  # 12.5 % unanswered is over 10
        self.assertTrue(r.stdout.startswith("NTPCLIENTS CRITICAL: "), r.stdout)


if __name__ == "__main__":
    unittest.main()
