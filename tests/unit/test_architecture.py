"""The layers of the call path (pyproject's import-linter contracts) and the dialplan names the service relies on."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from ntpd112.paths import DIALPLAN_DIR, PROJECT_DIR
from ntpd112.pbx import names


def test_import_layers_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_context_the_service_names_exists_in_the_shipped_dialplan() -> None:
    dialplan = (DIALPLAN_DIR / "extensions_ntpd112.conf").read_text(encoding="utf-8")
    contexts = set(re.findall(r"^\[([\w-]+)\]", dialplan, flags=re.M))
    named = {value for key, value in vars(names).items() if key.endswith("_CONTEXT")}
    # The routes context is rendered by pbx.routes_dialplan into its own include, not shipped.
    assert named - contexts == {names.ROUTES_CONTEXT}
    # The service continues calls at the entry extension of these two.
    for context in (names.QUEUE_CONTEXT, names.CALLBACK_CONTEXT):
        body = dialplan.split(f"[{context}]\n", 1)[1].split("\n[", 1)[0]
        assert f"exten => {names.ENTRY_EXTENSION},1," in body, context
