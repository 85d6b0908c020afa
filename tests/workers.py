"""Start real task worker processes for the offload tests and benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connections

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60.0
# Unique per run (parallel tox envs share Redis); at most 32 characters, the
# database backend's limit.
_RUN = os.environ.get("SIGNALKIT_TEST_DB_SUFFIX", os.environ.get("TOX_ENV_NAME", ""))
QUEUE = f"sk-{zlib.crc32(_RUN.encode()):08x}-{os.getpid()}"
REDIS = {"HOST": "127.0.0.1", "PORT": 6379, "DB": 0}
BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
}


def require_services() -> None:
    """Fail (never skip) when PostgreSQL or Redis is not running."""
    for name, port, start in (
        (
            "PostgreSQL",
            5432,
            'pg_ctlcluster "$(ls /etc/postgresql | sort -V | tail -n 1)" main start',
        ),
        ("Redis", 6379, "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ''"),
    ):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        except OSError as error:
            pytest.fail(
                f"{name} is not running on 127.0.0.1:{port} ({error}); the offload tests need "
                f"it. Start it with: {start}",
                pytrace=False,
            )


def worker_settings(backend: str, **signalkit: Any) -> dict[str, Any]:
    """The test process's side of the worker settings (for override_settings)."""
    return {
        "TASKS": {"default": {"BACKEND": BACKENDS[backend], "QUEUES": [QUEUE]}},
        "RQ_QUEUES": {QUEUE: REDIS},
        "SIGNALKIT": {"OFFLOAD": {"QUEUE_NAME": QUEUE, **signalkit}},
    }


def _command(backend: str, *, batch: bool) -> list[str]:
    manage = [sys.executable, "-m", "django"]
    if backend == "database":
        command = [*manage, "db_worker", "--queue-name", QUEUE, "--interval", "0.05"]
        command += ["--no-startup-delay", "--no-reload"] + (["--batch"] if batch else [])
    else:
        command = [*manage, "rqworker", QUEUE, "--worker-class", "rq.worker.SimpleWorker"]
        command += ["--job-class", "django_tasks_rq.backend.Job"] + (["--burst"] if batch else [])
    return command


def _environment(backend: str, missing: str, off: Sequence[str]) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.offload_settings",
        "PYTHONPATH": str(ROOT),
        "SIGNALKIT_WORKER_DB": str(connections["offload"].settings_dict["NAME"]),
        "SIGNALKIT_WORKER_BACKEND": backend,
        "SIGNALKIT_WORKER_QUEUE": QUEUE,
        "SIGNALKIT_WORKER_MISSING": missing,
        "SIGNALKIT_WORKER_OFF": ",".join(off),
    }


def run_worker(
    backend: str, *, missing: str = "skip", off: Sequence[str] = (), timeout: float = TIMEOUT
) -> str:
    """Run a worker until the queue is empty; its output. Fails on a timeout.

    ``off``: the keys of receivers switched off in the worker's settings."""
    try:
        done = subprocess.run(
            _command(backend, batch=True),
            env=_environment(backend, missing, off),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        tail = (error.output or b"")[-2000:]
        pytest.fail(f"The {backend} worker did not finish within {timeout}s; it printed: {tail!r}")
    assert done.returncode == 0, (done.stdout + done.stderr)[-5000:]
    return done.stdout + done.stderr


@contextmanager
def running_worker(backend: str, *, missing: str = "skip") -> Iterator[subprocess.Popen[str]]:
    """A worker that keeps running until the block ends (then terminated)."""
    process = subprocess.Popen(
        _command(backend, batch=False),
        env=_environment(backend, missing, ()),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def wait_for(condition: Callable[[], bool], *, timeout: float = TIMEOUT) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"Condition not met within {timeout}s.")
        time.sleep(0.05)
