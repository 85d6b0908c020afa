"""What the source distribution holds: enough to run the test suite from it."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sdist_include() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(config["tool"]["hatch"]["build"]["targets"]["sdist"]["include"])


class SdistTests:
    def test_sdist_holds_the_example_project_the_tests_run(self) -> None:
        # tests/test_example.py runs example_project/manage.py: without it, the
        # suite of an unpacked sdist fails with FileNotFoundError.
        assert (ROOT / "example_project" / "manage.py").is_file()
        assert "example_project" in sdist_include()

    def test_sdist_holds_the_package_tests_and_docs(self) -> None:
        assert {"signalkit", "tests", "docs"} <= sdist_include()
