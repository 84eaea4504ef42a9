"""The build tree the tests run against, and commands that must succeed (test_install,
test_package)."""

import os
import subprocess

BUILD = os.environ.get("NTPKIT_BUILD_DIR", "")
SOURCE = os.environ.get("NTPKIT_SOURCE_DIR", "")


def run(args, **kw):
    """Runs args with text output captured; any exit status but 0 fails the test with both."""
    r = subprocess.run(args, capture_output=True, text=True, timeout=600, **kw)
    if r.returncode != 0:
        raise AssertionError(f"{args} exited {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def cache_value(name):
    """The value of `name` in the build tree's CMakeCache.txt, or ""."""
    with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split("=", 1)[1].strip()
    return ""
