"""Secrets: backend choice, references, the encrypted file store and its failure messages."""

from __future__ import annotations

import base64
import json
import os
import stat
import sys
import threading
from pathlib import Path

import keyring
import keyring.backends.fail
import keyring.backends.null
import pytest
from keyring.backends.chainer import ChainerBackend
from keyring.errors import KeyringLocked

from gateway.security.secrets import (
    SECRETS_FILE,
    SERVICE,
    SecretNotFoundError,
    Secrets,
    SecretStoreError,
    open_secrets,
)
from tests.support.memkeyring import MemoryKeyring

NAME = "connection/3f2a9c/api_key"
VALUE = "sk-live-VERY-secret-value-123"
KEY_ENV = {"SWITCHBOARD_SECRET_KEY": "correct horse battery staple"}


class LockedKeyring(MemoryKeyring):
    """A keyring that is installed but locked: every call fails like a dismissed unlock prompt."""

    # keyring registers every backend class; a negative priority keeps this one from ever
    # being auto-detected or chained elsewhere in the test run.
    priority = -1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("Failed to unlock the keyring")

    def set_password(self, service: str, username: str, password: str) -> None:
        # Echoes the value, as a careless backend might; the message must still not contain it.
        raise KeyringLocked(f"Failed to unlock the keyring while saving {password}")


class EmptyChainer(ChainerBackend):
    """A chainer with nothing to chain, whatever is installed on this machine."""

    backends = []  # type: ignore[assignment]


class MemoryChainer(ChainerBackend):
    """A chainer whose first (write) backend is the in-memory keyring."""

    backends = [MemoryKeyring()]  # type: ignore[assignment]


@pytest.fixture
def no_keyring() -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())


def file_secrets(data_dir: Path, passphrase: str = KEY_ENV["SWITCHBOARD_SECRET_KEY"]) -> Secrets:
    return open_secrets(data_dir, {"SWITCHBOARD_SECRET_KEY": passphrase})


# --- keyring backend ------------------------------------------------------------------------


def test_keyring_round_trip(data_dir: Path, memory_keyring: MemoryKeyring) -> None:
    secrets = open_secrets(data_dir, {})
    assert secrets.available
    assert secrets.description == "OS keyring (memkeyring MemoryKeyring)"

    ref = secrets.put(NAME, VALUE)

    assert ref == f"keyring:{NAME}"
    assert memory_keyring.store == {(SERVICE, NAME): VALUE}
    assert secrets.get(ref) == VALUE
    assert not (data_dir / SECRETS_FILE).exists()


def test_keyring_preferred_even_when_passphrase_set(data_dir: Path) -> None:
    secrets = open_secrets(data_dir, KEY_ENV)
    assert secrets.put(NAME, VALUE).startswith("keyring:")
    assert not (data_dir / SECRETS_FILE).exists()


def test_put_overwrites(data_dir: Path) -> None:
    secrets = open_secrets(data_dir, {})
    ref = secrets.put(NAME, "old")
    assert secrets.put(NAME, "new") == ref
    assert secrets.get(ref) == "new"


def test_keyring_missing_secret(data_dir: Path) -> None:
    with pytest.raises(SecretNotFoundError, match="not in the OS keyring"):
        open_secrets(data_dir, {}).get("keyring:connection/nope/api_key")


def test_keyring_delete(data_dir: Path) -> None:
    secrets = open_secrets(data_dir, {})
    ref = secrets.put(NAME, VALUE)
    secrets.delete(ref)
    with pytest.raises(SecretNotFoundError):
        secrets.get(ref)
    secrets.delete(ref)  # already gone: fine


def test_locked_keyring_on_put_gives_useful_message_without_secret(data_dir: Path) -> None:
    keyring.set_keyring(LockedKeyring())
    secrets = open_secrets(data_dir, {})
    assert secrets.available  # installed, just locked: not probed by writing

    with pytest.raises(SecretStoreError) as caught:
        secrets.put(NAME, VALUE)

    message = str(caught.value)
    assert VALUE not in message
    assert "Unlock the keyring" in message
    assert "KeyringLocked" in message
    assert "SWITCHBOARD_SECRET_KEY" in message
    assert caught.value.__cause__ is None  # nothing chained that could carry the value
    assert not (data_dir / SECRETS_FILE).exists()


def test_locked_keyring_on_get(data_dir: Path) -> None:
    keyring.set_keyring(LockedKeyring())
    with pytest.raises(SecretStoreError, match="Unlock the keyring") as caught:
        open_secrets(data_dir, {}).get(f"keyring:{NAME}")
    assert not isinstance(caught.value, SecretNotFoundError)


def test_locked_keyring_falls_back_to_file_when_passphrase_set(data_dir: Path) -> None:
    keyring.set_keyring(LockedKeyring())
    secrets = open_secrets(data_dir, KEY_ENV)

    ref = secrets.put(NAME, VALUE)

    assert ref == f"file:{NAME}"
    assert secrets.get(ref) == VALUE


@pytest.mark.parametrize(
    "backend",
    [keyring.backends.fail.Keyring(), keyring.backends.null.Keyring(), EmptyChainer()],
    ids=["fail", "null", "empty-chainer"],
)
def test_unusable_keyrings_are_detected(
    data_dir: Path, backend: keyring.backend.KeyringBackend
) -> None:
    keyring.set_keyring(backend)
    secrets = open_secrets(data_dir, {})
    assert not secrets.available
    assert secrets.description == "unavailable"


def test_chainer_with_a_usable_backend_is_usable(data_dir: Path) -> None:
    keyring.set_keyring(MemoryChainer())
    secrets = open_secrets(data_dir, {})
    assert secrets.description == "OS keyring (memkeyring MemoryKeyring)"
    assert secrets.get(secrets.put(NAME, VALUE)) == VALUE


def test_keyring_that_fails_to_load_is_unusable(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> keyring.backend.KeyringBackend:
        raise RuntimeError("bad PYTHON_KEYRING_BACKEND")

    monkeypatch.setattr(keyring, "get_keyring", broken)
    secrets = open_secrets(data_dir, KEY_ENV)
    assert secrets.description == f"encrypted file {data_dir / SECRETS_FILE}"


# --- choosing a backend -----------------------------------------------------------------------


@pytest.mark.usefixtures("no_keyring")
def test_file_backend_chosen_without_keyring_when_passphrase_set(data_dir: Path) -> None:
    secrets = open_secrets(data_dir, KEY_ENV)
    assert secrets.available
    assert secrets.description == f"encrypted file {data_dir / SECRETS_FILE}"
    assert secrets.put(NAME, VALUE) == f"file:{NAME}"


@pytest.mark.usefixtures("no_keyring")
def test_env_defaults_to_os_environ(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not open_secrets(data_dir).available
    monkeypatch.setenv("SWITCHBOARD_SECRET_KEY", "from the environment")
    assert open_secrets(data_dir).description.startswith("encrypted file ")


@pytest.mark.usefixtures("no_keyring")
@pytest.mark.parametrize("env", [{}, {"SWITCHBOARD_SECRET_KEY": ""}], ids=["unset", "empty"])
def test_put_without_any_backend_says_how_to_fix(data_dir: Path, env: dict[str, str]) -> None:
    secrets = open_secrets(data_dir, env)
    assert not secrets.available
    assert secrets.description == "unavailable"

    with pytest.raises(SecretStoreError) as caught:
        secrets.put(NAME, VALUE)

    message = str(caught.value)
    assert message.startswith("No OS keyring is available")
    assert "SWITCHBOARD_SECRET_KEY is not set" in message
    assert "gnome-keyring / KWallet" in message
    assert str(data_dir) in message
    assert VALUE not in message
    assert list(data_dir.iterdir()) == []  # nothing written, least of all plaintext


# --- encrypted file backend -------------------------------------------------------------------


@pytest.mark.usefixtures("no_keyring")
def test_file_round_trip_persists_across_instances(data_dir: Path) -> None:
    ref = file_secrets(data_dir).put(NAME, VALUE)
    other = file_secrets(data_dir).put("connection/other/oauth_token", "tök€n ✓")

    fresh = file_secrets(data_dir)
    assert fresh.get(ref) == VALUE
    assert fresh.get(other) == "tök€n ✓"


@pytest.mark.usefixtures("no_keyring")
def test_file_does_not_contain_plaintext(data_dir: Path) -> None:
    file_secrets(data_dir).put(NAME, VALUE)

    raw = (data_dir / SECRETS_FILE).read_bytes()
    assert VALUE.encode() not in raw
    assert base64.b64encode(VALUE.encode()) not in raw
    assert KEY_ENV["SWITCHBOARD_SECRET_KEY"].encode() not in raw
    assert NAME in json.loads(raw)["secrets"]  # names are in clear, values are not


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
@pytest.mark.usefixtures("no_keyring")
def test_file_mode_is_0600(data_dir: Path) -> None:
    secrets = file_secrets(data_dir)
    secrets.put(NAME, VALUE)
    secrets.put("connection/b/api_key", VALUE)  # a rewrite keeps the mode too
    assert stat.S_IMODE((data_dir / SECRETS_FILE).stat().st_mode) == 0o600


@pytest.mark.usefixtures("no_keyring")
def test_writes_leave_no_temp_files(data_dir: Path) -> None:
    secrets = file_secrets(data_dir)
    secrets.put(NAME, VALUE)
    secrets.delete(f"file:{NAME}")
    names = {p.name for p in data_dir.iterdir()}
    assert names <= {SECRETS_FILE, SECRETS_FILE + ".lock"}


@pytest.mark.usefixtures("no_keyring")
def test_wrong_passphrase_is_an_error_not_garbage(data_dir: Path) -> None:
    ref = file_secrets(data_dir).put(NAME, VALUE)
    before = (data_dir / SECRETS_FILE).read_bytes()
    wrong = file_secrets(data_dir, "not the passphrase")

    expected = (
        f"SWITCHBOARD_SECRET_KEY does not match the key that encrypted {data_dir / SECRETS_FILE}"
    )
    with pytest.raises(SecretStoreError) as caught:
        wrong.get(ref)
    assert expected in str(caught.value)
    assert not isinstance(caught.value, SecretNotFoundError)

    with pytest.raises(SecretStoreError, match="does not match"):
        wrong.put("connection/b/api_key", "another")
    assert (data_dir / SECRETS_FILE).read_bytes() == before  # no mixed keys in one file


@pytest.mark.usefixtures("no_keyring")
def test_file_missing_secret(data_dir: Path) -> None:
    secrets = file_secrets(data_dir)
    with pytest.raises(SecretNotFoundError):
        secrets.get(f"file:{NAME}")  # no file yet
    secrets.put(NAME, VALUE)
    with pytest.raises(SecretNotFoundError, match="connection/nope/api_key"):
        secrets.get("file:connection/nope/api_key")


@pytest.mark.usefixtures("no_keyring")
def test_file_delete(data_dir: Path) -> None:
    secrets = file_secrets(data_dir)
    ref = secrets.put(NAME, VALUE)
    kept = secrets.put("connection/b/api_key", "kept")

    secrets.delete(ref)

    with pytest.raises(SecretNotFoundError):
        secrets.get(ref)
    assert secrets.get(kept) == "kept"


def test_delete_missing_ref_is_fine(data_dir: Path) -> None:
    secrets = open_secrets(data_dir, KEY_ENV)
    secrets.delete(f"keyring:{NAME}")
    secrets.delete(f"file:{NAME}")  # no file at all
    assert not (data_dir / SECRETS_FILE).exists()


@pytest.mark.usefixtures("no_keyring")
def test_damaged_file_is_reported(data_dir: Path) -> None:
    (data_dir / SECRETS_FILE).write_bytes(b"{not json")
    with pytest.raises(SecretStoreError, match="is damaged"):
        file_secrets(data_dir).get(f"file:{NAME}")
    with pytest.raises(SecretStoreError, match="is damaged"):
        file_secrets(data_dir).put(NAME, VALUE)
    assert (data_dir / SECRETS_FILE).read_bytes() == b"{not json"  # never silently replaced


@pytest.mark.usefixtures("no_keyring")
def test_tampered_entry_is_reported(data_dir: Path) -> None:
    secrets = file_secrets(data_dir)
    ref = secrets.put(NAME, VALUE)
    path = data_dir / SECRETS_FILE
    doc = json.loads(path.read_bytes())
    blob = bytearray(base64.b64decode(doc["secrets"][NAME]))
    blob[-1] ^= 1
    doc["secrets"][NAME] = base64.b64encode(bytes(blob)).decode()
    path.write_text(json.dumps(doc))

    with pytest.raises(SecretStoreError, match="modified or damaged"):
        file_secrets(data_dir).get(ref)


@pytest.mark.usefixtures("no_keyring")
def test_concurrent_puts_lose_nothing(data_dir: Path) -> None:
    shared = file_secrets(data_dir)
    second = file_secrets(data_dir)  # another instance on the same file: the OS lock covers it
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def worker(index: int) -> None:
        store = shared if index % 2 else second
        try:
            start.wait()
            for item in range(5):
                store.put(f"connection/t{index}/key{item}", f"value-{index}-{item}")
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    fresh = file_secrets(data_dir)
    for index in range(8):
        for item in range(5):
            assert fresh.get(f"file:connection/t{index}/key{item}") == f"value-{index}-{item}"
    assert len(json.loads((data_dir / SECRETS_FILE).read_bytes())["secrets"]) == 40


# --- references -------------------------------------------------------------------------------


def test_file_ref_still_readable_when_keyring_appears(data_dir: Path) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    ref = open_secrets(data_dir, KEY_ENV).put(NAME, VALUE)
    assert ref.startswith("file:")

    keyring.set_keyring(MemoryKeyring())
    secrets = open_secrets(data_dir, KEY_ENV)
    assert secrets.description.startswith("OS keyring")
    assert secrets.get(ref) == VALUE


def test_file_ref_without_passphrase_says_what_to_set(data_dir: Path) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    ref = open_secrets(data_dir, KEY_ENV).put(NAME, VALUE)

    keyring.set_keyring(MemoryKeyring())
    with pytest.raises(SecretStoreError, match="SWITCHBOARD_SECRET_KEY is not set") as caught:
        open_secrets(data_dir, {}).get(ref)
    assert not isinstance(caught.value, SecretNotFoundError)


def test_keyring_ref_when_keyring_is_gone(data_dir: Path) -> None:
    ref = open_secrets(data_dir, KEY_ENV).put(NAME, VALUE)
    assert ref.startswith("keyring:")

    keyring.set_keyring(keyring.backends.fail.Keyring())
    secrets = open_secrets(data_dir, KEY_ENV)
    assert secrets.description.startswith("encrypted file")

    with pytest.raises(SecretStoreError) as caught:
        secrets.get(ref)
    assert not isinstance(caught.value, SecretNotFoundError)
    assert "kept in the OS keyring, but no OS keyring is available" in str(caught.value)
    assert "gnome-keyring / KWallet" in str(caught.value)


@pytest.mark.parametrize(
    "ref",
    [VALUE, "vault:connection/a/api_key", "keyring:", "file:", ":name", "keyring:bad name"],
)
def test_invalid_refs_are_rejected_without_echo(data_dir: Path, ref: str) -> None:
    secrets = open_secrets(data_dir, KEY_ENV)
    for call in (secrets.get, secrets.delete):
        with pytest.raises(SecretStoreError) as caught:
            call(ref)
        assert not isinstance(caught.value, SecretNotFoundError)
        assert ref not in str(caught.value)


@pytest.mark.parametrize("name", ["", "has space", "/leading-slash", "naïve", "x" * 300])
def test_invalid_names_are_rejected(data_dir: Path, name: str) -> None:
    with pytest.raises(SecretStoreError, match="secret name"):
        open_secrets(data_dir, KEY_ENV).put(name, VALUE)


def test_data_dir_is_created_for_the_file(tmp_path: Path) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    data_dir = tmp_path / "not" / "yet"
    ref = open_secrets(data_dir, KEY_ENV).put(NAME, VALUE)
    assert open_secrets(data_dir, KEY_ENV).get(ref) == VALUE
    if os.name == "posix":
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
