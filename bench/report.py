"""Results: one row per (clients, path, server, mix), printed and merged into docs/performance.md."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .db import PROJECT_DIR

DOC = PROJECT_DIR / "docs" / "performance.md"
SECTION = "## Ledger transfers"
START = "<!-- bench.transfers results: start (rewritten by `python -m bench.transfers`) -->"
END = "<!-- bench.transfers results: end -->"
COLUMNS = [
    "clients",
    "path",
    "server",
    "mix",
    "transfers/s",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "vs ceiling",
    "CPU ms/transfer: app · db · load gen · other",
    "cores busy",
    "DB xacts/transfer",
    "not 201",
    "runs: rate min-max",
    "run (UTC)",
]
KEY_COLUMNS = 4


@dataclass
class Row:
    clients: int
    path: str  # "API", "SQL" or "SQL+idem"
    server: str  # gunicorn config for the API, "-" for SQL
    mix: str
    rate: float
    p50: float
    p95: float
    p99: float
    ratio: str  # filled once every phase of the clients count has run
    cpu: str
    cores: str
    commits: str
    errors: str
    when: str
    runs: str = "1"

    def cells(self) -> list[str]:
        return [
            str(self.clients),
            self.path,
            self.server,
            self.mix,
            f"{self.rate:.0f}",
            f"{self.p50:.1f}",
            f"{self.p95:.1f}",
            f"{self.p99:.1f}",
            self.ratio,
            self.cpu,
            self.cores,
            self.commits,
            self.errors,
            self.runs,
            self.when,
        ]


def table(lines: list[list[str]]) -> str:
    out = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|"]
    out += ["| " + " | ".join(cells) + " |" for cells in lines]
    return "\n".join(out)


def _sort_key(cells: list[str]):
    path_order = {"SQL": 0, "SQL+idem": 1, "in-proc": 2, "minimal": 3, "API": 4, "batch": 5}
    if cells[1].startswith("open"):
        return (int(cells[0]), 6, cells[2], cells[3] != "uniform")
    return (int(cells[0]), path_order.get(cells[1], 9), cells[2], cells[3] != "uniform")


def machine() -> dict[str, str]:
    cpu_model = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        nproc = str(os.cpu_count())
    return {
        "nproc": nproc,
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "cpu": cpu_model,
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def block(*, info: dict[str, str], commands: list[str], rows: list[list[str]], verdicts: list[str]) -> str:
    return "\n".join(
        [
            START,
            "",
            f"Machine: `nproc` = {info['nproc']}, {info['memory']} RAM, CPU `{info['cpu']}`, "
            f"Linux {info['kernel']}; PostgreSQL {info['postgres']} ({info['postgres_where']}); "
            f"Python {info['python']}; the load generator, gunicorn and PostgreSQL share these cores.",
            "",
            "Commands whose rows are below (latest last; a rerun replaces rows of the same "
            "clients/path/server/mix):",
            "",
            *[f"- `{command}`" for command in commands],
            "",
            table(sorted(rows, key=_sort_key)),
            "",
            "Goals of issue 10, as the latest command printed them:",
            "",
            *[f"- {verdict}" for verdict in verdicts],
            "",
            END,
        ]
    )


def _existing_commands(text: str) -> list[str]:
    if START not in text or END not in text:
        return []
    inner = text[text.index(START) : text.index(END)]
    return [line[3:-1] for line in inner.splitlines() if line.startswith("- `") and line.endswith("`")]


def _existing_rows(text: str) -> list[list[str]]:
    if START not in text or END not in text:
        return []
    inner = text[text.index(START) : text.index(END)]
    rows = []
    for line in inner.splitlines():
        if not line.startswith("| ") or line.startswith("| clients"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if len(cells) == len(COLUMNS) and cells[0].isdigit():
            rows.append(cells)
    return rows


def _key(cells: list[str]) -> tuple[str, ...]:
    """A row's identity: clients, path, server, mix; an open loop is one path whatever its rate."""
    key = list(cells[:KEY_COLUMNS])
    key[1] = key[1].split("@")[0]
    return tuple(key)


def doc_update(
    *, info: dict[str, str], command: str, rows: list[Row], verdicts: list[str], path: Path = DOC
) -> None:
    """Merge `rows` into the results block (a re-run replaces rows of the same clients/path/server/mix)."""
    text = path.read_text() if path.exists() else "# Performance\n"
    new = [row.cells() for row in rows]
    keys = {_key(cells) for cells in new}
    kept = [cells for cells in _existing_rows(text) if _key(cells) not in keys]
    commands = [*[c for c in _existing_commands(text) if c != command][-4:], command] if kept else [command]
    generated = block(info=info, commands=commands, rows=kept + new, verdicts=verdicts)
    if START in text and END in text:
        text = text[: text.index(START)] + generated + text[text.index(END) + len(END) :]
    elif SECTION in text:
        match = re.search(r"^## Ledger transfers.*$", text, flags=re.MULTILINE)
        assert match is not None
        text = text[: match.end()] + "\n\n" + generated + "\n" + text[match.end() :]
    else:
        text = text.rstrip("\n") + f"\n\n{SECTION}\n\n{generated}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
