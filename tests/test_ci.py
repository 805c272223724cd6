"""CI runs what the README tells a developer to run: its test command, then the same under
spawned worker processes (as on Windows)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ci_runs_the_readme_test_command_under_fork_and_spawn():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", readme, re.S).group(1).splitlines()
    install_and_test = block[1]
    assert "pip install" in install_and_test and "pytest" in install_and_test
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert install_and_test in ci
    pytest_command = install_and_test.split(" && ")[-1]
    assert f"TREEM_START_METHOD=spawn {pytest_command}" in ci
