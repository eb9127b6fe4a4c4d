"""Fuzz the API (and the readers) for longer than the normal test suite does.

    python benchmarks/fuzz_api.py                    # 500 examples per API operation
    python benchmarks/fuzz_api.py --examples 2000 --readers 3000

Runs tests/test_fuzz_api.py in its long mode (`JIANYAN_FUZZ_EXAMPLES`: random seeds, so each run
explores new requests; a server of its own on a tiny corpus) and, with `--readers N`,
tests/test_fuzz_readers.py with N examples per reader test. Prints the cases sent per operation
and the time taken; the exit code is pytest's (non-zero when a defect was found, with the
request that shows it: schemathesis prints a curl command, hypothesis the failing input).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=500, help="generated examples per API operation")
    parser.add_argument("--readers", type=int, default=0, help="examples per reader fuzz test (0: skip them)")
    args = parser.parse_args()
    env = {**os.environ, "JIANYAN_FUZZ_EXAMPLES": str(args.examples)}
    tests = ["tests/test_fuzz_api.py"]
    if args.readers:
        env["JIANYAN_FUZZ_READER_EXAMPLES"] = str(args.readers)
        tests.append("tests/test_fuzz_readers.py")
    t0 = time.monotonic()
    code = subprocess.call([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", *tests],
                           cwd=ROOT, env=env)
    print(f"fuzzing took {time.monotonic() - t0:.0f} s; pytest exit code {code}")
    return code


if __name__ == "__main__":
    sys.exit(main())
