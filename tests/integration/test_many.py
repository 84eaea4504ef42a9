"""A thousand targets in one ntpprobe call, against one real chronyd answering all of them.

chronyd binds the wildcard address (no `bindaddress`) with `allow 127.0.0.0/8`, so in its
namespace it answers on every 127.x.y.z, from the address asked (which ntpprobe checks). The
1000 targets are distinct addresses 127.0.0-3.1-250 in a shuffled order: every one must be
reported, in the order given, in text, JSON and --json-lines (completion order there, one
object per line), from the command line and from standard input, with the default
concurrency and with --concurrency 10. chronyd's own count of requests received must grow by
exactly 1000 per run. Wall times are printed (to stderr), not asserted.
"""

import contextlib
import json
import random
import sys
import time
import unittest

import peers
import probe

PORT = 11123
COUNT = 1000
RUN_TIMEOUT = 120


def thousand_targets():
    """COUNT distinct loopback addresses with the port, in a fixed shuffled order."""
    targets = [f"127.0.{i // 250}.{i % 250 + 1}:{PORT}" for i in range(COUNT)]
    random.Random(1000).shuffle(targets)
    return targets


class ManyTargetsTest(unittest.TestCase):
    """One call, 1000 addresses, one chronyd."""

    @classmethod
    def setUpClass(cls):
        stack = contextlib.ExitStack()
        cls.addClassCleanup(stack.close)
        cls.ns = stack.enter_context(peers.Namespace())
        cls.chronyd = stack.enter_context(peers.Chronyd(cls.ns, port=PORT, bind=(),
                                                        allow=("127.0.0.0/8",)))
        cls.targets = thousand_targets()
        cls.stratum = cls.chronyd.tracking()["stratum"]

    def run_many(self, args, stdin=None):
        """ntpprobe ARGS inside the namespace; checks exit 0, empty stderr, and that chronyd
        received exactly COUNT requests meanwhile. The CompletedProcess."""
        before = self.chronyd.serverstats()
        start = time.monotonic()
        # -r 1: one chronyd answers all 1000 addresses, and a burst of 512 requests can overflow
        # its socket's receive buffer on a loaded machine. The kernel drops those before
        # chronyd counts them, so one retry leaves "exactly COUNT received" true and the test
        # about ntpprobe, not about the machine's load.
        result = self.ns.run([peers.binary("ntpprobe"), "-r", "1"] + args,
                             timeout=RUN_TIMEOUT, input=stdin)
        seconds = time.monotonic() - start
        after = self.chronyd.serverstats()
        print(f"\n  ntpprobe {' '.join(a for a in args if not a.startswith('127.'))} "
              f"({COUNT} targets): {seconds:.2f} s", file=sys.stderr)
        failed = [line for line in result.stdout.splitlines()
                  if "error" in line or '"ok": false' in line]
        self.assertEqual(result.returncode, 0, "\n".join(failed)[:3000] + result.stderr)
        self.assertEqual(result.stderr, "")
        self.assertEqual(after["NTP packets received"] - before["NTP packets received"], COUNT)
        self.assertEqual(after["NTP packets dropped"], before["NTP packets dropped"])
        return result

    def assert_text(self, stdout):
        """One summary line per target, in order, each answered by chronyd."""
        lines = probe.parse_summary(stdout)
        self.assertEqual([line["where"] for line in lines], self.targets)
        for line in lines:
            self.assertEqual((line["stratum"], line["refid"]), (self.stratum, "127.127.1.1"),
                             line)

    def assert_json(self, stdout):
        """One document: every target in order, each with its one address answered."""
        doc = json.loads(stdout)
        self.assertTrue(doc["ok"])
        self.assertEqual(doc["summary"], {"targets": COUNT, "targets_ok": COUNT,
                                          "targets_failed": 0, "addresses": COUNT,
                                          "addresses_ok": COUNT, "addresses_failed": 0})
        self.assertEqual([t["target"] for t in doc["targets"]], self.targets)
        for target in doc["targets"]:
            (a,) = target["addresses"]
            self.assertEqual(f"{a['address']}:{a['port']}", target["target"])
            self.assertTrue(a["ok"], a["error"])
            self.assertEqual(a["server"]["stratum"], int(self.stratum))

    def test_text_from_the_command_line(self):
        """1000 targets as arguments: 1000 lines in the order given."""
        self.assert_text(self.run_many(self.targets).stdout)

    def test_json_document(self):
        """-j: one document with 1000 targets in the order given."""
        self.assert_json(self.run_many(["-j"] + self.targets).stdout)

    def test_json_lines(self):
        """--json-lines: 1000 lines, each one JSON object with a schema, every target once."""
        lines = self.run_many(["--json-lines"] + self.targets).stdout.splitlines()
        self.assertEqual(len(lines), COUNT)
        objects = [json.loads(line) for line in lines]
        for obj in objects:
            self.assertIsInstance(obj, dict)
            self.assertIsInstance(obj.get("schema"), int)
            self.assertTrue(obj["ok"], obj)
        self.assertEqual(sorted(o["target"] for o in objects), sorted(self.targets))

    def test_file_from_stdin_with_comments(self):
        """-f -: servers from standard input, one per line, comments and blank lines
        ignored; the same 1000 lines in order."""
        text = "# a thousand loopback servers\n\n" + "".join(
            f"{t}  # number {i}\n" if i % 100 == 0 else f"{t}\n"
            for i, t in enumerate(self.targets))
        self.assert_text(self.run_many(["-f", "-"], stdin=text).stdout)

    def test_concurrency_10(self):
        """--concurrency 10: the same complete, ordered JSON."""
        self.assert_json(self.run_many(["--concurrency", "10", "-j"] + self.targets).stdout)


if __name__ == "__main__":
    unittest.main()
