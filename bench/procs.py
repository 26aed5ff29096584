"""Processes a benchmark starts: stopping them on Ctrl-C or SIGTERM, and finding any it left alive."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path


def processes_left(*, pgids: Iterable[int], mark_name: str, mark_value: str) -> list[str]:
    """`pid command` of every process still in one of pgids, or with mark_name=mark_value in its environment."""
    found: set[str] = set()
    groups = [str(pgid) for pgid in pgids]
    if groups:
        result = subprocess.run(
            ["pgrep", "-a", "-g", ",".join(groups)], capture_output=True, text=True, check=False
        )
        found.update(line for line in result.stdout.splitlines() if line.strip())
    mark = f"{mark_name}={mark_value}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if mark in (entry / "environ").read_bytes().split(b"\0"):
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.add(f"{entry.name} {cmd.strip()}")
        except OSError:
            continue
    return sorted(found)


def run_interruptible(run: Callable[[], int], *, on_interrupt: str) -> int:
    """run(), with SIGTERM handled as Ctrl-C: its own cleanup (finally blocks) stops what it started;
    then on_interrupt is printed and the exit status is 130."""

    def terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    try:
        return run()
    except KeyboardInterrupt:
        print(on_interrupt, file=sys.stderr)
        return 130
