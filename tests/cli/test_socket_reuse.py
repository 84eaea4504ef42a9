"""probe() reuses a worker's socket for its next address: nothing of the previous exchange may
show up in the next address's report.

Two in-test responders on loopback: A answers each request at once and sends the same answer
again 100 ms later (a late duplicate); B answers only after 400 ms, so that, with one worker
(--concurrency 1), A's duplicate reaches the socket while it waits for B's answer. B's
report must not count it as ignored; A's report counts nothing either (its exchange was over).
The delays only arrange the order; nothing here asserts a duration.
"""

import json
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

import ntp_responder  # noqa: E402
import probe  # noqa: E402


class Scripted(ntp_responder.Responder):
    """A responder that waits `delay` seconds before answering and, with `again`, sends the
    same answer a second time `again` seconds after the first."""

    def __init__(self, delay=0.0, again=None):
        super().__init__()
        self.delay = delay
        self.again = again

    def _answer(self, data, received, peer):
        if self.delay:
            time.sleep(self.delay)
        reply = super()._answer(data, received, peer)
        if reply and self.again is not None:
            timer = threading.Timer(self.again, self._send_quietly, (reply, peer))
            timer.daemon = True
            timer.start()
        return reply

    def _send_quietly(self, reply, peer):
        try:
            self.sock.sendto(reply, peer)
        except OSError:
            pass  # closed meanwhile


class SocketReuseTest(unittest.TestCase):
    def test_a_late_duplicate_is_not_counted_against_the_next_address(self):
        with Scripted(again=0.1) as a, Scripted(delay=0.4) as b:
            result = probe.run_probe(["-j", "--concurrency", "1", "-t", "3",
                                      f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"])
            self.assertEqual(result.returncode, 0, result.stderr)
            doc = json.loads(result.stdout)
            first, second = (t["addresses"][0] for t in doc["targets"])
            self.assertTrue(first["ok"] and second["ok"], doc)
            self.assertEqual((first["requests"], first["replies"]), (1, 1))
            self.assertEqual(second["ignored"], {}, second)
            self.assertEqual(first["ignored"], {}, first)

    def test_each_address_of_a_run_is_still_asked_and_answered(self):
        # Several addresses through one worker, the socket reused each time.
        with Scripted() as a, Scripted() as b, Scripted() as c:
            targets = [f"127.0.0.1:{r.port}" for r in (a, b, c)]
            result = probe.run_probe(["-j", "--concurrency", "1", "-t", "3"] + targets)
            self.assertEqual(result.returncode, 0, result.stderr)
            doc = json.loads(result.stdout)
            for t in doc["targets"]:
                address = t["addresses"][0]
                self.assertTrue(address["ok"], address)
                self.assertEqual((address["requests"], address["replies"]), (1, 1))
                self.assertEqual(address["ignored"], {})
            self.assertEqual([r.requests for r in (a, b, c)], [1, 1, 1])


if __name__ == "__main__":
    unittest.main()
