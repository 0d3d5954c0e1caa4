"""The encrypted file store across real processes with no OS keyring (headless Linux default)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET = "sk-proj-Subprocess-Secret-9f8e7d"
NAME = "connection/5b1c/api_key"

# The secret travels on stdin, never argv, so it cannot show up in a process listing.
STORE = """
import sys
from pathlib import Path
from gateway.security.secrets import open_secrets
secrets = open_secrets(Path(sys.argv[1]))
print(secrets.description)
print(secrets.put(sys.argv[2], sys.stdin.read()))
"""
READ = """
import sys
from pathlib import Path
from gateway.security.secrets import open_secrets
sys.stdout.write(open_secrets(Path(sys.argv[1])).get(sys.argv[2]))
"""


def run_child(
    code: str, *args: str, secret_key: str | None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    env["PYTHONPATH"] = str(REPO_ROOT)
    env.pop("SWITCHBOARD_SECRET_KEY", None)
    if secret_key is not None:
        env["SWITCHBOARD_SECRET_KEY"] = secret_key
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=60,
        check=False,
    )


def test_store_in_one_process_read_in_another(data_dir: Path) -> None:
    stored = run_child(STORE, str(data_dir), NAME, secret_key="subprocess passphrase", stdin=SECRET)
    assert stored.returncode == 0, stored.stderr
    description, ref = stored.stdout.splitlines()
    assert description == f"encrypted file {data_dir / 'secrets.enc'}"
    assert ref == f"file:{NAME}"

    read = run_child(READ, str(data_dir), ref, secret_key="subprocess passphrase")
    assert read.returncode == 0, read.stderr
    assert read.stdout == SECRET

    files = [path for path in data_dir.rglob("*") if path.is_file()]
    assert data_dir / "secrets.enc" in files
    needles = [SECRET.encode(), base64.b64encode(SECRET.encode()), SECRET.encode("utf-16-le")]
    for path in files:
        content = path.read_bytes()
        for needle in needles:
            assert needle not in content, f"plaintext secret found in {path.name}"


def test_without_keyring_or_passphrase_the_child_refuses(data_dir: Path) -> None:
    stored = run_child(STORE, str(data_dir), NAME, secret_key=None, stdin=SECRET)
    assert stored.returncode != 0
    assert "SWITCHBOARD_SECRET_KEY is not set" in stored.stderr
    assert SECRET not in stored.stderr + stored.stdout
    assert list(data_dir.iterdir()) == []


def test_wrong_passphrase_in_a_child_fails_cleanly(data_dir: Path) -> None:
    stored = run_child(STORE, str(data_dir), NAME, secret_key="right", stdin=SECRET)
    assert stored.returncode == 0, stored.stderr
    ref = stored.stdout.splitlines()[1]

    read = run_child(READ, str(data_dir), ref, secret_key="wrong")
    assert read.returncode != 0
    assert "SWITCHBOARD_SECRET_KEY does not match the key that encrypted" in read.stderr
    assert SECRET not in read.stderr + read.stdout
