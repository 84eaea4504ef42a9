"""ntpmon-query against a mode 6 server that answers wrongly on purpose (mode6_responder.py).

Each scenario ends in a clear outcome named in the text and in JSON's error object, within a
bound computed from the options (-t 0.3 per wait, -r 1 re-ask): fragments are placed by
offset whatever order they come in and repeats are dropped; overlapping fragments, fragments
past the size limit and endless trains are refused as a bad response; a gap is an incomplete
answer; answers to another sequence number or opcode are ignored and counted, so the request
times out; the error bit is a server error with its code.
"""

import json
import os
import subprocess
import time
import unittest

import jsonschema

from mode6_responder import Mode6Responder

BUILD = os.environ.get("NTPKIT_BUILD_DIR", "../../build")
SOURCE = os.environ.get("NTPKIT_SOURCE_DIR", "../..")
with open(os.path.join(SOURCE, "docs", "ntpmon-query.schema.json")) as f:
    SCHEMA = jsonschema.Draft202012Validator(json.load(f))
NTPMON = os.path.join(BUILD, "apps", "ntpmon-query")
TIMEOUT = 0.3
# Two requests (-r 1), each at most one timeout for the first fragment plus one per fragment
# accepted (the endless train is cut at 128 fragments by the reassembler's limits, at once),
# and the process start: generous, yet far below anything that hangs.
BOUND_S = 6.0


def query(port, *args):
    """(exit code, stdout, stderr, seconds) of ntpmon-query -t TIMEOUT -r 1 against port."""
    start = time.monotonic()
    p = subprocess.run([NTPMON, "-t", str(TIMEOUT), "-r", "1", f"127.0.0.1:{port}", *args],
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr, time.monotonic() - start


class HostileMode6Test(unittest.TestCase):

    def run_json(self, scenario, *args):
        with Mode6Responder(scenario) as r:
            rc, out, err, seconds = query(r.port, "-j", *args)
            requests = r.requests
        self.assertLess(seconds, BOUND_S, scenario)
        doc = json.loads(out)
        SCHEMA.validate(doc)
        return rc, doc, requests

    def variables(self, doc):
        return {v["name"]: v for v in doc["reads"][0]["variables"]}

    def test_good_answer_is_read_with_values_typed(self):
        rc, doc, _ = self.run_json("good", "sysvars")
        self.assertEqual(rc, 0)
        v = self.variables(doc)
        self.assertEqual(v["stratum"]["value"], 4)
        self.assertEqual(v["processor"]["value"], "x86_64, really")
        self.assertEqual(v["offset"]["value"], -0.013541)
        self.assertEqual(v["offset"]["raw"], "-0.013541")
        self.assertEqual(v["offset"]["unit"], "ms")
        self.assertEqual(v["reftime"]["value"]["ntp"], "0xeebd92d5.80000000")
        self.assertEqual(doc["reads"][0]["status"]["word"], 0x0615)
        self.assertEqual(doc["reads"][0]["status"]["clock_source"], "sync_ntp")

    def test_fragments_out_of_order_and_repeated_give_the_same_answer(self):
        _, good, _ = self.run_json("good", "sysvars")
        for scenario in ("out_of_order", "duplicate"):
            with self.subTest(scenario):
                rc, doc, requests = self.run_json(scenario, "sysvars")
                self.assertEqual(rc, 0)
                self.assertEqual(requests, 1)
                self.assertEqual(doc["reads"][0]["variables"], good["reads"][0]["variables"])
        _, doc, _ = self.run_json("duplicate", "sysvars")
        self.assertGreater(doc["reads"][0]["ignored"].get("duplicate", 0), 0)

    def test_broken_trains_are_bad_responses_or_incomplete(self):
        for scenario, kind in (("overlap", "bad_response"), ("endless_more", "bad_response"),
                               ("past_limit", "bad_response"), ("gap", "incomplete")):
            with self.subTest(scenario):
                rc, doc, requests = self.run_json(scenario, "sysvars")
                self.assertEqual(rc, 1)
                self.assertFalse(doc["ok"])
                self.assertEqual(doc["error"]["kind"], kind)
                self.assertLessEqual(requests, 2)

    def test_answers_to_another_request_are_ignored_until_timeout(self):
        for scenario, reason in (("wrong_sequence", "sequence"), ("other_opcode", "opcode"),
                                 ("silent", None)):
            with self.subTest(scenario):
                rc, doc, requests = self.run_json(scenario, "sysvars")
                self.assertEqual(rc, 1)
                self.assertEqual(doc["error"]["kind"], "timeout")
                self.assertEqual(requests, 2)  # the request and one re-ask (-r 1)
                if reason:
                    self.assertEqual(doc["reads"][0]["ignored"][reason], 2)

    def test_error_bit_is_a_server_error_with_its_code(self):
        rc, doc, requests = self.run_json("error_bit", "peervars", "5")
        self.assertEqual(rc, 1)
        self.assertEqual(requests, 1)  # never re-asked
        self.assertEqual(doc["error"]["kind"], "server_error")
        self.assertEqual(doc["error"]["server_error"], "BADASSOC")
        with Mode6Responder("error_bit") as r:
            rc, out, _, _ = query(r.port, "peervars", "5")
        self.assertEqual(rc, 1)
        self.assertIn("unknown association (BADASSOC)", out)

    def test_unknown_variable_is_asked_again_name_by_name(self):
        rc, doc, requests = self.run_json("unknown_var", "sysvars", "stratum", "nosuchvar",
                                          "leap")
        self.assertEqual(rc, 0)
        self.assertEqual(requests, 4)  # the list, then each name alone
        v = self.variables(doc)
        self.assertEqual(v["stratum"]["value"], 4)
        self.assertEqual(v["leap"]["value"], 0)
        self.assertEqual(doc["reads"][0]["refused"],
                         [{"name": "nosuchvar", "server_error": "UNKNOWNVAR"}])

    def test_usage_errors_exit_2(self):
        for args in (["peervars"], ["peervars", "x"], ["nosuchcommand"], ["peers", "extra"]):
            with self.subTest(args):
                p = subprocess.run([NTPMON, *args], capture_output=True, text=True, timeout=10)
                self.assertEqual(p.returncode, 2)
                self.assertEqual(len(p.stderr.splitlines()), 1)


if __name__ == "__main__":
    unittest.main()
