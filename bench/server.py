"""The API under gunicorn, on 127.0.0.1 and a free port, with production-like settings."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from ledgerpay import processes

from .db import PROJECT_DIR


@dataclass(frozen=True)
class ServerConfig:
    """`sync:4` (4 sync workers) or `gthread:2x8` (2 workers of 8 threads)."""

    worker_class: str
    workers: int
    threads: int = 1

    @classmethod
    def parse(cls, text: str) -> ServerConfig:
        kind, _, size = text.partition(":")
        if kind == "sync" and size.isdigit():
            return cls("sync", int(size))
        workers, _, threads = size.partition("x")
        if kind == "gthread" and workers.isdigit() and threads.isdigit():
            return cls("gthread", int(workers), int(threads))
        raise ValueError(f"server config {text!r}: expected sync:W or gthread:WxT")

    def __str__(self) -> str:
        if self.worker_class == "sync":
            return f"sync:{self.workers}"
        return f"gthread:{self.workers}x{self.threads}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """A gunicorn master we started; `stop` ends it (and so its workers) by its pid."""

    def __init__(self, config: ServerConfig, env: dict, log_path: Path):
        self.config = config
        self.label = str(config)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            processes.gunicorn_command(
                bind=f"127.0.0.1:{self.port}",
                workers=config.workers,
                worker_class=config.worker_class,
                threads=config.threads,
                timeout=60,
                log_level="warning",
                app=processes.WSGI_APPLICATION,
            ),
            cwd=PROJECT_DIR,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"gunicorn did not answer /healthz within {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()

    def __enter__(self) -> Gunicorn:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
