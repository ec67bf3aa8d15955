"""The assistant works as an installed package, outside the checkout.

A wheel is built from the checkout and installed into a fresh virtual environment in a
temporary folder. Its dependencies come from the test environment's site-packages (a .pth
line), so nothing is downloaded; the package itself, its rules and its widget come only from
the wheel. Then, in a working directory holding just a corpus folder and council.toml, the
installed ``assistant`` command ingests and answers, as a council would run it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import CORPUS, PROJECT_ROOT

pytestmark = pytest.mark.slow


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with the built wheel installed; returns its bin folder."""
    root = tmp_path_factory.mktemp("package")
    # Built from a copy of the sources, so the build leaves nothing in the checkout.
    source = root / "source"
    for name in ("assistant", "eval"):
        shutil.copytree(PROJECT_ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "reports"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PROJECT_ROOT / name, source / name)
    run(sys.executable, "-m", "pip", "wheel", source, "--no-deps", "--no-build-isolation",
        "--quiet", "-w", root / "dist", cwd=root)
    wheel = next((root / "dist").glob("care_leavers_assistant-*.whl"))
    run(sys.executable, "-m", "venv", root / "venv", cwd=root)
    python = root / "venv" / "bin" / "python"
    site = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=root).strip()
    # The test environment's packages, for the dependencies only (its own .pth files are not read).
    Path(site, "test-environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    run(python, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", wheel, cwd=root)
    return root / "venv" / "bin"


def test_the_installed_package_ingests_and_answers_in_a_council_folder(installed, tmp_path):
    work = tmp_path / "council"
    shutil.copytree(CORPUS, work / "corpus")
    shutil.copy(PROJECT_ROOT / "council.toml", work / "council.toml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ANONYMIZED_TELEMETRY="False", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    # The test run's model cache (the exported model, the exemplar banks' vectors), a setting like any
    # other: what this test proves is the package, not a first embedding of the banks.
    env["ASSISTANT_CACHE_DIR"] = str(PROJECT_ROOT / ".cache")

    where = run(installed / "python", "-c", "import assistant; print(assistant.__file__)", cwd=work, env=env)
    assert Path(where.strip()).is_relative_to(installed.parent), "the package must come from the wheel"

    run(installed / "assistant", "ingest", cwd=work, env=env)
    assert (work / ".index" / "CURRENT").exists()  # runtime files go to the working directory
    reply = json.loads(run(installed / "assistant", "ask", "how much is the uni bursary", "--json", cwd=work, env=env))
    assert reply["status"] == "answered" and "£2,000" in reply["text"]
    assert reply["citations"] and reply["citations"][0]["document_id"] == "local-offer"

    crisis = json.loads(run(installed / "assistant", "ask", "i want to end it all", "--json", cwd=work, env=env))
    assert crisis["status"] == "safeguarding"  # the rules came with the wheel

    widget = run(installed / "python", "-c",
                 "from assistant.web.edge import WIDGET_DIR; print((WIDGET_DIR / 'widget.js').stat().st_size)",
                 cwd=work, env=env)
    assert int(widget) > 1000
    assert "--questions" in run(installed / "assistant", "eval", "--help", cwd=work, env=env)
