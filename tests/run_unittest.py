"""Runs one Python test module for ctest, so that no skip goes unseen.

`python3 run_unittest.py MODULE` runs MODULE's tests verbosely (in the current directory).
Every skipped test is printed as `SKIPPED <test>: <reason>` and appended to
$NTPKIT_BUILD_DIR/Testing/skipped.log, which scripts/test prints at the end of a run. The exit
status is 1 when a test failed or errored, 77 (ctest's SKIP_RETURN_CODE: "Skipped" in its
summary) when every test was skipped, else 0.
"""

import os
import sys
import unittest


def main():
    if len(sys.argv) != 2:
        print("usage: run_unittest.py MODULE", file=sys.stderr)
        return 2
    name = sys.argv[1]
    sys.path.insert(0, os.getcwd())
    suite = unittest.defaultTestLoader.loadTestsFromName(name)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    log = os.path.join(os.environ.get("NTPKIT_BUILD_DIR", "."), "Testing", "skipped.log")
    if result.skipped:
        os.makedirs(os.path.dirname(log), exist_ok=True)
        with open(log, "a", encoding="utf-8") as f:
            for test, reason in result.skipped:
                line = f"SKIPPED {test.id()}: {reason}"
                print(line, file=sys.stderr)
                f.write(line + "\n")
    if not result.wasSuccessful():
        return 1
    if result.testsRun > 0 and len(result.skipped) == result.testsRun:
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
