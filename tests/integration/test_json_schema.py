"""docs/ntpprobe.schema.json against what ntpprobe writes, and docs/json.md against both.

JSON from a real chronyd (several samples; signed requests with a key chronyd knows and with
one it does not) and from failures (timeout, unreachable, a name that does not resolve, in a
network namespace of its own so no DNS query leaves the machine) must validate, --json-lines
objects against $defs/line. The schema must be strict enough to reject a renamed or missing
key. docs/json.md must name every property of the schema, and its jq recipes must run on real
output.
"""

import copy
import json
import os
import re
import shlex
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import jsonschema

from local_chronyd import LocalChronyd, free_udp_port

sys.path.insert(0, os.path.join(os.environ.get("NTPKIT_SOURCE_DIR", "../.."), "tests", "cli"))
from hostile_support import Responder  # noqa: E402

BUILD = os.environ.get("NTPKIT_BUILD_DIR", "")
SOURCE = os.environ.get("NTPKIT_SOURCE_DIR", "")
NTPPROBE = os.path.join(BUILD, "apps", "ntpprobe")
SCHEMA = os.path.join(SOURCE, "docs", "ntpprobe.schema.json")
DOC = os.path.join(SOURCE, "docs", "json.md")
KEY = "0123456789abcdef0123456789abcdef"


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)


def load_schema():
    with open(SCHEMA) as f:
        return json.load(f)


def validator(schema, ref=None):
    if ref:
        schema = dict(schema, **{"$ref": f"#/$defs/{ref}"})
        for k in ("properties", "required", "additionalProperties", "type"):
            schema.pop(k, None)
    return jsonschema.Draft202012Validator(schema)


def errors(v, doc):
    return [f"{list(e.absolute_path)}: {e.message}" for e in v.iter_errors(doc)]


def property_names(node, found):
    if isinstance(node, dict):
        for k, v in node.get("properties", {}).items():
            found.add(k)
        for v in node.values():
            property_names(v, found)
    elif isinstance(node, list):
        for v in node:
            property_names(v, found)
    return found


class JsonSchema(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.schema = load_schema()
        cls.doc_v = validator(cls.schema)
        cls.line_v = validator(cls.schema, "line")
        cls.tmp = tempfile.mkdtemp(prefix="ntpkit-json-")
        cls.keyfile = os.path.join(cls.tmp, "client.keys")
        with open(cls.keyfile, "w") as f:
            f.write(f"1 SHA256 HEX:{KEY}\n2 SHA256 HEX:{KEY[::-1]}\n")
        os.chmod(cls.keyfile, 0o600)
        cls.chronyd = LocalChronyd(keys=f"1 SHA256 HEX:{KEY}\n")
        cls.chronyd.start()
        cls.outputs = {}
        server = cls.chronyd.server
        cls.outputs["samples"] = cls.probe("--json", "-n", "3", "-i", "0.2", "--allow-fast",
                                           server)
        cls.outputs["signed"] = cls.probe("--json", "-a", "1", "-k", cls.keyfile, server)
        cls.outputs["wrong_key"] = cls.probe("--json", "-t", "0.5", "-a", "2", "-k",
                                             cls.keyfile, server)
        cls.outputs["unreachable"] = cls.probe("--json", f"127.0.0.1:{free_udp_port()}")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
            silent.bind(("127.0.0.1", 0))
            cls.outputs["timeout"] = cls.probe("--json", "-t", "0.5",
                                               f"127.0.0.1:{silent.getsockname()[1]}")
        cls.outputs["resolve"] = cls.probe("--json", "nosuch.invalid", netns=True)
        # chronyd answers interleaved (RFC 9769) from the second request on.
        cls.outputs["interleaved"] = cls.probe("--json", "-x", "-n", "3", "-i", "0.2",
                                               "--allow-fast", server)
        for code in ("RATE", "DENY"):
            with Responder(f"kiss_{code.lower()}") as kisser:
                cls.outputs[f"kiss_{code}"] = cls.probe("--json", f"127.0.0.1:{kisser.port}")
        cls.outputs["broadcast"] = cls.listen_broadcast()
        cls.lines = cls.probe("--json-lines", server, "127.0.0.1:" + str(free_udp_port()),
                              parse=False)

    @classmethod
    def tearDownClass(cls):
        cls.chronyd.stop()
        subprocess.run(["rm", "-rf", cls.tmp])

    @classmethod
    def listen_broadcast(cls):
        """--listen-broadcast on a free port while a thread sends it three mode 5 packets."""
        port = free_udp_port()
        proc = subprocess.Popen([NTPPROBE, "--json", "--listen-broadcast", "--listen-address",
                                 "127.0.0.1", "-p", str(port), "-n", "3", "--listen-duration",
                                 "10"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)

        def send():
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                for _ in range(50):  # until the listener has taken three (bounded: 5 s)
                    if proc.poll() is not None:
                        return
                    now = time.time() + 2208988800
                    ts = (int(now) << 32) | int((now % 1) * 2**32)
                    # LI 0, VN 4, mode 5, stratum 2, poll 6, precision -20, refid 192.0.2.1
                    packet = struct.pack("!BBbbII4sQQQQ", 0x25, 2, 6, -20, 0, 0,
                                         bytes([192, 0, 2, 1]), ts - (8 << 32), 0, 0, ts)
                    s.sendto(packet, ("127.0.0.1", port))
                    time.sleep(0.1)

        sender = threading.Thread(target=send)
        sender.start()
        out, err = proc.communicate(timeout=30)
        sender.join()
        if proc.returncode != 0:
            raise AssertionError(f"--listen-broadcast: exit {proc.returncode}: {err}")
        return json.loads(out)

    @classmethod
    def probe(cls, *args, netns=False, parse=True):
        r = run((["unshare", "-n"] if netns else []) + [NTPPROBE, *args])
        if r.returncode not in (0, 1):
            raise AssertionError(f"ntpprobe {args}: exit {r.returncode}: {r.stderr}")
        return json.loads(r.stdout) if parse else r.stdout

    def test_schema_is_valid_draft_2020_12_and_versioned_like_the_documents(self):
        jsonschema.Draft202012Validator.check_schema(self.schema)
        self.assertEqual(self.schema["$schema"], "https://json-schema.org/draft/2020-12/schema")
        self.assertEqual(self.schema["properties"]["schema"], {"const": 1, "description":
                         self.schema["properties"]["schema"]["description"]})
        for doc in self.outputs.values():
            self.assertEqual(doc["schema"], 1)
        self.assertTrue(self.schema["$id"].endswith(":1"))

    def test_every_document_validates(self):
        for name, doc in self.outputs.items():
            with self.subTest(name):
                self.assertEqual(errors(self.doc_v, doc), [])

    def test_the_cases_are_what_they_claim(self):
        o = self.outputs
        a = lambda name: o[name]["targets"][0]["addresses"][0]  # noqa: E731
        self.assertTrue(o["samples"]["ok"])
        self.assertEqual(len(a("samples")["samples"]), 3)
        self.assertEqual(a("signed")["authentication"]["status"], "authenticated")
        self.assertEqual(a("signed")["server"]["mac"]["key_id"], 1)
        self.assertEqual(a("wrong_key")["error"]["kind"], "timeout")
        self.assertEqual(a("wrong_key")["authentication"]["status"], "no_reply")
        self.assertEqual(a("unreachable")["error"]["kind"], "unreachable")
        self.assertEqual(a("timeout")["error"]["kind"], "timeout")
        self.assertIsNone(a("timeout")["offset"])
        self.assertEqual(o["resolve"]["targets"][0]["error"]["kind"], "resolve")
        self.assertEqual(o["resolve"]["targets"][0]["addresses"], [])
        self.assertTrue(any(x["interleaved"] for x in a("interleaved")["samples"]))
        for code in ("RATE", "DENY"):
            self.assertEqual(a(f"kiss_{code}")["error"]["kind"], "kiss")
            self.assertEqual(a(f"kiss_{code}")["error"]["kiss_code"], code)
            self.assertEqual(a(f"kiss_{code}")["samples"][0]["kiss_code"], code)
        self.assertTrue(o["broadcast"]["ok"])
        self.assertEqual(len(a("broadcast")["samples"]), 3)
        self.assertTrue(all(x["broadcast"] and x["t1"] is None
                            for x in a("broadcast")["samples"]))

    def test_every_json_line_validates_against_the_line_definition(self):
        lines = self.lines.splitlines()
        self.assertEqual(len(lines), 2)
        for line in lines:
            obj = json.loads(line)
            self.assertEqual(errors(self.line_v, obj), [])
            self.assertNotEqual(errors(self.doc_v, obj), [])  # a line is not a document

    def test_a_renamed_missing_or_mistyped_key_is_caught(self):
        good = self.outputs["samples"]

        def at(doc, path):
            for p in path:
                doc = doc[p]
            return doc

        address = ["targets", 0, "addresses", 0]
        for path, key in [([], "targets"), ([], "summary"), (["summary"], "addresses_ok"),
                          (["started"], "iso"), (["targets", 0], "host"), (address, "offset"),
                          (address, "root_distance"), (address + ["server"], "stratum"),
                          (address + ["server", "refid"], "raw"),
                          (address + ["samples", 0], "t1"),
                          (address + ["samples", 0, "t1"], "source"),
                          (address + ["samples", 0, "checks"], "origin")]:
            with self.subTest(renamed="/".join(map(str, path + [key]))):
                doc = copy.deepcopy(good)
                parent = at(doc, path)
                parent[key + "_renamed"] = parent.pop(key)
                self.assertNotEqual(errors(self.doc_v, doc), [])
        for path, key, value in [(address, "offset", "0.1"), (address, "family", "ipv5"),
                                 (["started"], "ntp", "e5f663a8.761dde48"),
                                 (address + ["server"], "leap", 4)]:
            with self.subTest(mistyped="/".join(map(str, path + [key]))):
                doc = copy.deepcopy(good)
                at(doc, path)[key] = value
                self.assertNotEqual(errors(self.doc_v, doc), [])
        doc = copy.deepcopy(self.outputs["timeout"])
        del at(doc, address)["error"]["message"]
        self.assertNotEqual(errors(self.doc_v, doc), [])

    def test_docs_name_every_property_of_the_schema(self):
        with open(DOC) as f:
            text = f.read()
        for name in sorted(property_names(self.schema, set())):
            with self.subTest(name):
                self.assertIn(f"`{name}`", text)
        for kind in self.schema["$defs"]["error"]["properties"]["kind"]["enum"]:
            self.assertIn(f"`{kind}`", text)
        self.assertIn("ntpprobe.schema.json", text)

    def test_readme_json_example_has_every_key_ntpprobe_prints(self):
        """The README's --json example is a real document: the same keys at every level as
        ntpprobe writes for one good answer today, and it validates."""
        with open(os.path.join(SOURCE, "README.md")) as f:
            text = f.read()
        example = re.search(r"```\n\$ ntpprobe --json [^\n]*\n(\{.*?\n\})\n```", text, re.S)
        self.assertIsNotNone(example)
        readme = json.loads(example.group(1))
        self.assertEqual(errors(self.doc_v, readme), [])
        real = self.probe("--json", self.chronyd.server)

        def shape(node):
            if isinstance(node, dict):
                return {k: shape(v) for k, v in node.items()}
            if isinstance(node, list):
                return [shape(node[0])] if node else []
            return None
        self.assertEqual(shape(readme), shape(real))

    def test_jq_recipes_in_the_docs_give_the_right_answers(self):
        """Every jq recipe of README.md, docs/json.md and ntpprobe(1), run on the JSON of a
        good server, a silent one and a name that does not resolve: each prints what it
        promises for each of them (an answer derived from the document by other means)."""
        recipes = recipes_in_docs()
        self.assertGreaterEqual(len(recipes), 9)
        docs = {"good": self.outputs["samples"], "dead": self.outputs["timeout"],
                "unresolvable": self.outputs["resolve"]}
        unresolvable_line = json.dumps(self.outputs["resolve"]["targets"][0] |
                                       {"schema": 1, "tool": "ntpprobe"})
        for where, probe_part, jq_filter in recipes:
            checker = next((c for key, c in RECIPE_CHECKS if key in jq_filter), None)
            with self.subTest(where=where, recipe=jq_filter):
                self.assertIsNotNone(checker, "a recipe without a check in RECIPE_CHECKS")
                if "--json-lines" in probe_part:
                    cases = {"lines": self.lines.splitlines() + [unresolvable_line]}
                    data = {"lines": "\n".join(cases["lines"]) + "\n"}
                else:
                    cases = docs
                    data = {k: json.dumps(v) for k, v in docs.items()}
                for name, doc in cases.items():
                    r = run(["jq", *shlex.split(jq_filter)], input=data[name])
                    self.assertEqual(r.returncode, 0, r.stderr)
                    checker(self, doc, r.stdout)


def addresses(doc):
    return [a for t in doc["targets"] for a in t["addresses"]]


def check_offsets(test, doc, out):
    lines = out.splitlines()
    test.assertEqual(len(lines), len(addresses(doc)), out)
    for line, a in zip(lines, addresses(doc)):
        address, value = line.split(" ")
        test.assertEqual(address, a["address"])
        if a["offset"] is None:
            test.assertEqual(value, "null")
        else:
            test.assertAlmostEqual(float(value), a["offset"], delta=1e-12)


def check_failed(test, doc, out):
    expected = []
    for t in doc["targets"]:
        if t["error"]:
            expected.append((t["target"], t["error"]["kind"]))
        expected += [(a["address"], a["error"]["kind"]) for a in t["addresses"] if not a["ok"]]
    got = [tuple(line.split(" ")[:2]) for line in out.splitlines()]
    test.assertEqual(got, expected, out)
    test.assertEqual(bool(got), not doc["ok"], "every failure, and only failures, listed")


def check_far(test, doc, out):
    far = [a["address"] for a in addresses(doc)
           if a["offset"] is not None and abs(a["offset"]) > 0.01]
    test.assertEqual(out.split(), far)


def check_tsv(test, doc, out):
    expected = [f"{a['address']}\t{a['server']['stratum']}\t{a['server']['refid']['text']}"
                for a in addresses(doc) if a["server"] is not None]
    test.assertEqual(out.splitlines(), expected)


def check_delays(test, doc, out):
    delays = [s["delay"] for a in addresses(doc) for s in a["samples"]]
    got = json.loads(out)
    test.assertEqual(len(got), len(delays))
    for g, d in zip(got, delays):
        test.assertLessEqual(abs(g - d * 1e6), 0.5 + 1e-6)


def check_all_passed(test, doc, out):
    samples = [s for a in addresses(doc) for s in a["samples"]]
    expected = doc["ok"] and all(all(s["checks"].values()) for s in samples)
    test.assertEqual(out.strip(), "true" if expected else "false")
    if not samples:
        test.assertEqual(out.strip(), "false", "no sample at all must not count as passed")


def check_summary(test, doc, out):
    test.assertEqual(json.loads(out), doc["summary"])


def check_lines(test, lines, out):
    got = [json.loads(line) for line in out.splitlines()]
    test.assertEqual(len(got), len(lines))
    for g, line in zip(got, lines):
        obj = json.loads(line)
        test.assertEqual(g, {"target": obj["target"], "ok": obj["ok"],
                             "offsets": [a["offset"] for a in obj["addresses"]]})


def check_lines_ok(test, lines, out):
    got = [json.loads(line) for line in out.splitlines()]
    test.assertEqual(got, [{"target": json.loads(l)["target"], "ok": json.loads(l)["ok"]}
                           for l in lines])


# A distinctive part of each recipe's jq filter, and what its output must be.
RECIPE_CHECKS = [
    ('"\\(.address) \\(.offset)"', check_offsets),
    ("if .error then", check_failed),
    ("(.offset | fabs) > 0.01", check_far),
    ("@tsv", check_tsv),
    (".delay * 1e6", check_delays),
    (".ok and (", check_all_passed),
    (".summary", check_summary),
    ("offsets: [.addresses[].offset]", check_lines),
    ("'{target, ok}'", check_lines_ok),
]


def recipes_in_docs():
    """(file, probe command, jq filter) of every `ntpprobe ... | jq FILTER` in the docs."""
    found = []
    for name in ("README.md", os.path.join("docs", "json.md")):
        with open(os.path.join(SOURCE, name)) as f:
            text = f.read()
        for block in re.findall(r"```sh\n(.*?)```", text, re.S):
            for command in block.replace("\\\n", " ").splitlines():
                if command.startswith("ntpprobe ") and "| jq " in command:
                    probe_part, jq_part = command.split("| jq ", 1)
                    found.append((name, probe_part, jq_part))
    with open(os.path.join(SOURCE, "man", "ntpprobe.1")) as f:
        man = f.read()
    for m in re.finditer(r"\$ (ntpprobe [^|\n]*)\|\s*jq (.*?')\n\.RE", man, re.S):
        jq_part = " ".join(m.group(2).replace("\\e", "\\").replace("\\-", "-").split())
        found.append(("ntpprobe.1", m.group(1).replace("\\-", "-"), jq_part))
    return found


if __name__ == "__main__":
    unittest.main()
