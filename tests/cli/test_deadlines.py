"""Every wait has a deadline: ntpprobe ends in bounded time whatever the server does.

Against a silent server, a flooding one (junk as fast as it can send, for longer than the
whole run may take) and a trickling one (one junk datagram every 100 ms, forever), a run of
-n SAMPLES -r RETRIES -t TIMEOUT -i INTERVAL must end within
    TIMEOUT × (RETRIES + 1) × SAMPLES + INTERVAL + SLACK.
SLACK is generous: this is a hang check, not a benchmark.
"""

import unittest

from hostile_support import Responder, first_address, probe_json

TIMEOUT = 0.5
RETRIES = 1
SAMPLES = 2
INTERVAL = 0.2
SLACK = 1.5
BOUND = TIMEOUT * (RETRIES + 1) * SAMPLES + INTERVAL + SLACK
ARGS = ["-t", str(TIMEOUT), "-r", str(RETRIES), "-n", str(SAMPLES), "-i", str(INTERVAL),
        "--allow-fast"]


class Deadlines(unittest.TestCase):
    def run_against(self, scenario, *server_args):
        with Responder(scenario, *server_args) as r:
            run, doc = probe_json(*ARGS, f"127.0.0.1:{r.port}", timeout=60)
        self.assertEqual(run.rc, 1, run.out)
        a = first_address(doc)
        self.assertEqual(a["error"]["kind"], "timeout")
        self.assertLessEqual(run.seconds, BOUND, f"{scenario}: {run.seconds:.2f} s")
        return a

    def test_silent_server(self):
        a = self.run_against("silent")
        # Every sample timed out on each try: (retries + 1) requests per sample.
        self.assertEqual(a["requests"], (RETRIES + 1) * SAMPLES)

    def test_flooding_server(self):
        # 20 s of junk per request, far longer than the bound.
        a = self.run_against("flood", "--flood-ms", "20000")
        self.assertGreater(sum(a["ignored"].values()), 100, a["ignored"])

    def test_trickling_server(self):
        a = self.run_against("trickle")
        self.assertGreater(sum(a["ignored"].values()), 0, a["ignored"])


if __name__ == "__main__":
    unittest.main()
