"""The `jianyan` command's entry point, kept free of imports until it runs.

The readers' forkserver (`ingest/sandbox.py`) re-imports the main script in every child it
forks on CPython 3.11 (its '__main__' preload finds no path to import), so a console script
that imported the CLI at the top would load the whole package, the service and the embedding
engines into each reader child: 0.2–0.45 s a file instead of ~10 ms.
"""

from __future__ import annotations


def main() -> None:
    from .cli import main as run

    run()
