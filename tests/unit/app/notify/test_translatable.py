"""Every notification text reaches Qt's translation tool: pyside6-lupdate extracts exactly the
strings the code passes to translate()."""

from __future__ import annotations

import ast
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

NOTIFY = Path(__file__).resolve().parents[4] / "app" / "notify"
LUPDATE = Path(sys.executable).parent / "pyside6-lupdate"


def translated_in_code() -> set[str]:
    found = set()
    for source in NOTIFY.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            context, text = node.args[0], node.args[1]
            if name == "translate" and isinstance(context, ast.Constant):
                assert context.value == "Notifications", source.name
                assert isinstance(text, ast.Constant), f"{source.name}: a computed text"
                found.add(text.value)
    return found


def test_lupdate_extracts_every_notification_text(tmp_path: Path) -> None:
    catalogue = tmp_path / "notify.ts"
    sources = sorted(str(p) for p in NOTIFY.glob("*.py"))
    subprocess.run(
        [str(LUPDATE), *sources, "-ts", str(catalogue)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    contexts = ET.parse(catalogue).getroot().findall("context")
    assert [c.findtext("name") for c in contexts] == ["Notifications"]
    extracted = {m.findtext("source") for m in contexts[0].findall("message")}
    expected = translated_in_code()
    assert len(expected) > 20
    assert extracted == expected
