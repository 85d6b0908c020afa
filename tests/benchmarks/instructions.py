"""The audit's cost in machine instructions: ``make bench-instructions``.

Times on a shared machine vary by 10 % to 20 % between runs, more than the
differences the ``batch()`` targets are about. valgrind's callgrind counts the
instructions a process runs instead, the same count for the same code and
inputs whatever else the machine does. Each contender runs in its own process
under callgrind, once with one round of ``N`` saves in its block and once with
three; the difference, divided by ``2 * N``, is the cost of one save, without
the start-up both runs share. Python's collector is frozen after the set-up, so
that where a full collection happens to fall does not blur the count.

It takes several minutes (a process under callgrind runs some 50 times slower).
``python -m tests.benchmarks.instructions --dry-run`` runs every workload once
without valgrind (CI does, so that this code keeps working).
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any

N = 200
CONTENDERS = ("no auditing", "minimal receivers", "signalkit batch()")
WORKLOADS = ("update", "create")
_CHILD = "SIGNALKIT_INSTRUCTIONS_CHILD"
_MODULE = "tests.benchmarks.instructions"


def workload(contender: str, operation: str, rounds: int) -> None:
    """Set up a test database, then run ``rounds`` blocks of ``N`` saves."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.benchmarks.settings")
    os.environ["SIGNALKIT_TEST_DB"] = ""  # SQLite in memory
    import django

    django.setup()
    from django.db import connection, transaction
    from django.test.utils import override_settings, setup_test_environment

    import signalkit.audit as audit
    from tests.benchmarks import minimal
    from tests.benchmarks.benchapp.models import MinimalItem, PlainItem, SignalkitItem

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0)
    override_settings(SIGNALKIT={"AUDIT": {"MODELS": ["benchapp.SignalkitItem"]}}).enable()
    choices: dict[str, tuple[Any, Any]] = {
        "no auditing": (PlainItem, transaction.atomic),
        "minimal receivers": (MinimalItem, minimal.block),
        "signalkit batch()": (SignalkitItem, audit.batch),
    }
    model, block = choices[contender]
    with minimal.connected():
        with transaction.atomic():
            for n in range(N):
                model.objects.create(name=f"item {n}", value=n)
        items: list[Any] = list(model.objects.all())
        gc.collect()
        gc.freeze()
        for _ in range(rounds):
            with block():
                if operation == "create":
                    for n in range(N):
                        model.objects.create(name=f"new {n}", value=n)
                else:
                    for item in items:
                        item.value += 1
                        item.save()
    connection.creation.destroy_test_db(":memory:", verbosity=0)


def count(contender: str, operation: str, rounds: int) -> int:
    """The instructions of a whole process running :func:`workload`."""
    with tempfile.TemporaryDirectory() as folder:
        result = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={folder}/out",
                sys.executable,
                "-m",
                _MODULE,
            ],
            env={**os.environ, _CHILD: f"{contender}|{operation}|{rounds}", "PYTHONHASHSEED": "0"},
            capture_output=True,
            text=True,
            check=True,
        )
    found = re.search(r"Collected : (\d+)", result.stderr)
    if found is None:
        raise RuntimeError(f"callgrind printed no count:\n{result.stderr}")
    return int(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="run each workload, uncounted")
    options = parser.parse_args()
    if options.dry_run:
        for contender in CONTENDERS:
            for operation in WORKLOADS:
                subprocess.run(
                    [sys.executable, "-m", _MODULE],
                    env={**os.environ, _CHILD: f"{contender}|{operation}|1"},
                    check=True,
                )
        print(f"{len(CONTENDERS) * len(WORKLOADS)} workloads ran.")
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: no instructions to count.", file=sys.stderr)
        return 1
    print(f"\nInstructions per save on sqlite, {N} saves per block (valgrind's callgrind)\n")
    runs = [(c, o, r) for o in WORKLOADS for c in CONTENDERS for r in (1, 3)]
    # One process per core: each count is the same whatever runs beside it.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        totals = dict(zip(runs, pool.map(lambda run: count(*run), runs), strict=True))
    print(f"{'workload':<10}" + "".join(f"{name:>28}" for name in CONTENDERS))
    for operation in WORKLOADS:
        counts = {
            contender: (totals[contender, operation, 3] - totals[contender, operation, 1]) / (2 * N)
            for contender in CONTENDERS
        }
        base = counts["no auditing"]
        cells = "".join(f"{f'{value:,.0f} {value / base:.3f}x':>28}" for value in counts.values())
        print(f"{operation:<10}{cells}")
    print("\ntarget (issue #6): signalkit batch() creates and updates <= 1.3x no auditing")
    return 0


if __name__ == "__main__":
    child = os.environ.get(_CHILD)
    if child:
        name, operation, rounds = child.split("|")
        workload(name, operation, int(rounds))
    else:
        sys.exit(main())
