"""Secrets (API keys, OAuth tokens) behind one small interface.

The database never holds a secret, only a reference: ``keyring:<name>`` or ``file:<name>``.
The scheme records which store holds the value, so a secret stays readable from the store it
was written to even after the preferred store changes (a keyring appears or goes away).

Preference when storing: a usable OS keyring, else an encrypted file keyed by
``SWITCHBOARD_SECRET_KEY``, else refuse with a message that says how to fix it. There is no
plaintext fallback, and no message raised here ever contains a secret value.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

import keyring
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from keyring.errors import KeyringError, PasswordDeleteError

SERVICE: Final = "Switchboard"
SECRET_KEY_ENV: Final = "SWITCHBOARD_SECRET_KEY"
SECRETS_FILE: Final = "secrets.enc"

_log = logging.getLogger(__name__)

_NAME_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/@:+-]{0,255}")
_NAME_RULE: Final = (
    "A secret name is 1-256 ASCII letters, digits or . _ / @ : + - and starts with a letter "
    "or digit."
)
_KEYRING_HOWTO: Final = "Install and unlock a keyring (gnome-keyring / KWallet)"


class SecretStoreError(Exception):
    """A secret could not be stored or read; the message says what to do and holds no secret."""


class SecretNotFoundError(SecretStoreError):
    """The reference points at a secret that does not exist."""


def _check_name(name: str) -> None:
    # The name is never echoed: a caller passing a secret by mistake must not see it in a log.
    if _NAME_RE.fullmatch(name) is None:
        raise SecretStoreError(_NAME_RULE)


def _scrub(exc: BaseException, value: str) -> str:
    """The exception as text with the secret value masked, in case a backend echoes it."""
    text = str(exc)
    if value:
        text = text.replace(value, "***")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _Store(Protocol):
    scheme: str

    @property
    def description(self) -> str: ...

    def put(self, name: str, value: str) -> None: ...

    def get(self, name: str) -> str: ...

    def delete(self, name: str) -> None: ...


# --- OS keyring -------------------------------------------------------------------------------


def _unusable_reason(backend: KeyringBackend) -> str | None:
    """Why this backend cannot hold secrets, or None when it can. Decided without writing."""
    if isinstance(backend, chainer.ChainerBackend):
        # The chainer writes to its first (highest-priority) backend; empty means no keyring.
        chained = _chained(backend)
        if not chained:
            return "no keyring backend was found"
        return _unusable_reason(chained[0])
    if isinstance(backend, fail.Keyring):
        return "no keyring backend was found"
    if isinstance(backend, null.Keyring):
        return "the keyring is disabled (null backend)"
    if type(backend).__module__.startswith("keyrings.alt"):
        # keyrings.alt backends are plaintext, or prompt on a terminal: neither is acceptable.
        return f"{_backend_name(backend)} from keyrings.alt is not trusted"
    return None


def _chained(backend: chainer.ChainerBackend) -> list[KeyringBackend]:
    chained: list[KeyringBackend] = list(type(backend).backends)
    return chained


def _backend_name(backend: KeyringBackend) -> str:
    # A chainer writes to its first backend: name that one, which is what the user knows.
    if isinstance(backend, chainer.ChainerBackend) and (chained := _chained(backend)):
        return _backend_name(chained[0])
    name: str = type(backend).name
    return name


def _detect_keyring() -> tuple[KeyringBackend | None, str]:
    """The active keyring backend if it is usable, else None and the reason."""
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # a bad PYTHON_KEYRING_BACKEND or keyringrc.cfg can raise anything
        return None, f"the keyring backend could not be loaded ({type(exc).__name__})"
    reason = _unusable_reason(backend)
    if reason is not None:
        return None, reason
    return backend, ""


class _KeyringStore:
    """The OS keyring: service ``Switchboard``, username = secret name."""

    scheme = "keyring"

    def __init__(self, backend: KeyringBackend | None, problem: str) -> None:
        self._backend = backend
        self.problem = problem

    @property
    def usable(self) -> bool:
        return self._backend is not None

    @property
    def description(self) -> str:
        if self._backend is None:
            return "unavailable"
        return f"OS keyring ({_backend_name(self._backend)})"

    def _require(self, name: str) -> KeyringBackend:
        if self._backend is None:
            raise SecretStoreError(
                f"Secret '{name}' is kept in the OS keyring, but no OS keyring is available "
                f"({self.problem}). {_KEYRING_HOWTO}, then try again."
            )
        return self._backend

    def put(self, name: str, value: str) -> None:
        backend = self._require(name)
        try:
            backend.set_password(SERVICE, name, value)
        except KeyringError as exc:
            # `from None`: the chained exception could carry the value into a traceback.
            raise SecretStoreError(
                f"Could not store secret '{name}' in the {self.description}: "
                f"{_scrub(exc, value)}. Unlock the keyring and try again."
            ) from None

    def get(self, name: str) -> str:
        backend = self._require(name)
        try:
            value = backend.get_password(SERVICE, name)
        except KeyringError as exc:
            raise SecretStoreError(
                f"Could not read secret '{name}' from the {self.description}: "
                f"{type(exc).__name__}. Unlock the keyring and try again."
            ) from exc
        if value is None:
            raise SecretNotFoundError(f"Secret '{name}' is not in the {self.description}.")
        return value

    def delete(self, name: str) -> None:
        backend = self._require(name)
        try:
            backend.delete_password(SERVICE, name)
        except PasswordDeleteError:
            # Backends raise this for a missing entry, which is fine; make sure it is gone.
            if self._exists(backend, name):
                raise SecretStoreError(
                    f"Could not delete secret '{name}' from the {self.description}. "
                    "Unlock the keyring and try again."
                ) from None
        except KeyringError as exc:
            raise SecretStoreError(
                f"Could not delete secret '{name}' from the {self.description}: "
                f"{type(exc).__name__}. Unlock the keyring and try again."
            ) from exc

    @staticmethod
    def _exists(backend: KeyringBackend, name: str) -> bool:
        try:
            return backend.get_password(SERVICE, name) is not None
        except KeyringError:
            return True


# --- Encrypted file ---------------------------------------------------------------------------

_FORMAT: Final = "switchboard-secrets"
_VERSION: Final = 1
_SCRYPT_N: Final = 2**15  # ~32 MiB and ~0.1 s per derivation; the key is cached per store
_SCRYPT_R: Final = 8
_SCRYPT_P: Final = 1
_NONCE_BYTES: Final = 12
_CHECK_PLAINTEXT: Final = b"switchboard secrets v1"
_CHECK_AAD: Final = b"switchboard-check"


def _entry_aad(name: str) -> bytes:
    # Binds each ciphertext to its name, so entries cannot be swapped inside the file.
    return b"switchboard-secret:" + name.encode("ascii")


@dataclass
class _Vault:
    """The decoded file: KDF parameters, a passphrase check, and {name: nonce+ciphertext}."""

    salt: bytes
    n: int
    r: int
    p: int
    check: bytes
    entries: dict[str, bytes] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        doc = {
            "format": _FORMAT,
            "version": _VERSION,
            "kdf": {
                "name": "scrypt",
                "salt": _b64(self.salt),
                "n": self.n,
                "r": self.r,
                "p": self.p,
            },
            "check": _b64(self.check),
            "secrets": {name: _b64(blob) for name, blob in sorted(self.entries.items())},
        }
        return json.dumps(doc, indent=1).encode("ascii")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise ValueError("expected base64 text")
    return base64.b64decode(text.encode("ascii"), validate=True)


def _parse_vault(raw: bytes) -> _Vault:
    """Decode the file, raising ValueError on anything unexpected (caller reports damage)."""
    doc = json.loads(raw)
    if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
        raise ValueError("not a Switchboard secrets file")
    if doc.get("version") != _VERSION:
        raise ValueError(f"unsupported version {doc.get('version')!r}")
    kdf, entries = doc.get("kdf"), doc.get("secrets")
    if not isinstance(kdf, dict) or kdf.get("name") != "scrypt" or not isinstance(entries, dict):
        raise ValueError("missing kdf or secrets")
    n, r, p = kdf.get("n"), kdf.get("r"), kdf.get("p")
    # Bounds stop a crafted file from asking for gigabytes of scrypt memory.
    if not (
        isinstance(n, int)
        and 2**14 <= n <= 2**20
        and n & (n - 1) == 0
        and isinstance(r, int)
        and 1 <= r <= 16
        and isinstance(p, int)
        and 1 <= p <= 4
    ):
        raise ValueError("bad scrypt parameters")
    vault = _Vault(salt=_unb64(kdf.get("salt")), n=n, r=r, p=p, check=_unb64(doc.get("check")))
    for name, blob in entries.items():
        if not isinstance(name, str) or _NAME_RE.fullmatch(name) is None:
            raise ValueError("bad entry name")
        vault.entries[name] = _unb64(blob)
    return vault


class _EncryptedFileStore:
    """``<data_dir>/secrets.enc``: scrypt(passphrase, salt) -> AES-256-GCM per entry.

    Names are in clear (they are not secret), values are encrypted one by one. Writes are
    read-modify-write under a thread lock plus an OS file lock (other Switchboard processes),
    and replace the file atomically.
    """

    scheme = "file"

    def __init__(self, path: Path, passphrase: str | None) -> None:
        self.path = path
        self._passphrase = passphrase
        self._lock = threading.Lock()
        self._key_cache: tuple[tuple[bytes, int, int, int], bytes] | None = None

    @property
    def has_key(self) -> bool:
        return self._passphrase is not None

    @property
    def description(self) -> str:
        return f"encrypted file {self.path}"

    # -- public operations

    def put(self, name: str, value: str) -> None:
        with self._locked():
            vault = self._load() or self._new_vault()
            key = self._key(vault)
            nonce = os.urandom(_NONCE_BYTES)
            ciphertext = AESGCM(key).encrypt(nonce, value.encode("utf-8"), _entry_aad(name))
            vault.entries[name] = nonce + ciphertext
            self._write(vault)

    def get(self, name: str) -> str:
        vault = self._load()  # no lock: os.replace means we see the old or the new file
        if vault is None or name not in vault.entries:
            raise SecretNotFoundError(f"Secret '{name}' is not in the {self.description}.")
        key = self._key(vault)
        blob = vault.entries[name]
        try:
            plain = AESGCM(key).decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], _entry_aad(name))
        except InvalidTag:
            raise SecretStoreError(
                f"Secret '{name}' in {self.path} cannot be decrypted: the file was modified or "
                "damaged. Store the secret again, or restore the file from a backup."
            ) from None
        return plain.decode("utf-8")

    def delete(self, name: str) -> None:
        # Needs no passphrase: names are in clear, so a lost passphrase can still clean up.
        with self._locked():
            vault = self._load()
            if vault is None or name not in vault.entries:
                return
            del vault.entries[name]
            self._write(vault)

    # -- internals

    def _require_passphrase(self) -> str:
        if self._passphrase is None:
            raise SecretStoreError(
                f"Secrets are kept in the encrypted file {self.path}, but {SECRET_KEY_ENV} is "
                f"not set. Set {SECRET_KEY_ENV} to the passphrase that encrypted it."
            )
        return self._passphrase

    def _new_vault(self) -> _Vault:
        vault = _Vault(salt=os.urandom(16), n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, check=b"")
        key = self._derive(vault)
        nonce = os.urandom(_NONCE_BYTES)
        vault.check = nonce + AESGCM(key).encrypt(nonce, _CHECK_PLAINTEXT, _CHECK_AAD)
        self._key_cache = ((vault.salt, vault.n, vault.r, vault.p), key)
        return vault

    def _derive(self, vault: _Vault) -> bytes:
        passphrase = self._require_passphrase()
        kdf = Scrypt(salt=vault.salt, length=32, n=vault.n, r=vault.r, p=vault.p)
        return kdf.derive(passphrase.encode("utf-8"))

    def _key(self, vault: _Vault) -> bytes:
        """The verified key for this file; a wrong passphrase fails here, never as garbage."""
        params = (vault.salt, vault.n, vault.r, vault.p)
        if self._key_cache is not None and self._key_cache[0] == params:
            return self._key_cache[1]
        key = self._derive(vault)
        check = vault.check
        try:
            plain = AESGCM(key).decrypt(check[:_NONCE_BYTES], check[_NONCE_BYTES:], _CHECK_AAD)
        except InvalidTag:
            plain = b""
        if plain != _CHECK_PLAINTEXT:
            raise SecretStoreError(
                f"{SECRET_KEY_ENV} does not match the key that encrypted {self.path}. Set it to "
                "the passphrase used when the secrets were stored, or move the file aside to "
                "start a new store (the secrets in it will then have to be entered again)."
            )
        self._key_cache = (params, key)
        return key

    def _load(self) -> _Vault | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise SecretStoreError(
                f"Could not read {self.path}: {exc.strerror}. Check the file's permissions."
            ) from exc
        try:
            return _parse_vault(raw)
        except (ValueError, binascii.Error) as exc:  # JSONDecodeError is a ValueError
            raise SecretStoreError(
                f"{self.path} is damaged ({exc}). Restore it from a backup, or move it aside "
                "and enter the secrets again."
            ) from None

    def _write(self, vault: _Vault) -> None:
        """Atomic replace: temp file in the same folder, fsync, os.replace, fsync the folder."""
        folder = self.path.parent
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{self.path.name}.", suffix=".tmp")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as handle:
                if os.name == "posix":
                    os.fchmod(handle.fileno(), 0o600)  # mkstemp already does; be explicit
                handle.write(vault.to_bytes())
                handle.flush()
                os.fsync(handle.fileno())
            tmp.replace(self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise SecretStoreError(
                f"Could not write {self.path}: {exc.strerror}. Check free space and the "
                "folder's permissions."
            ) from exc
        _fsync_dir(folder)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise SecretStoreError(f"Could not create {self.path.parent}: {exc.strerror}.") from exc
        with self._lock, _file_lock(self.path.with_name(self.path.name + ".lock")):
            yield


def _fsync_dir(folder: Path) -> None:
    # Makes the rename durable on POSIX; Windows cannot open a folder for fsync.
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _file_lock(lock_path: Path) -> Iterator[None]:
    """An exclusive OS lock, so two processes never interleave read-modify-write."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_LOCK, 1)  # retries for ~10 s, then raises OSError
            try:
                yield
            finally:
                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# --- Public facade ----------------------------------------------------------------------------


class Secrets:
    """Stores secrets in the preferred backend and reads them back by reference."""

    def __init__(self, keyring_store: _KeyringStore, file_store: _EncryptedFileStore) -> None:
        self._keyring = keyring_store
        self._file = file_store
        self._stores: dict[str, _Store] = {"keyring": keyring_store, "file": file_store}
        self._preferred: _Store | None
        if keyring_store.usable:
            self._preferred = keyring_store
        elif file_store.has_key:
            self._preferred = file_store
        else:
            self._preferred = None

    @property
    def available(self) -> bool:
        return self._preferred is not None

    @property
    def description(self) -> str:
        return "unavailable" if self._preferred is None else self._preferred.description

    def put(self, name: str, value: str) -> str:
        """Store ``value`` under ``name`` and return the reference to keep in the database."""
        _check_name(name)
        if self._preferred is None:
            raise SecretStoreError(
                f"No OS keyring is available ({self._keyring.problem}) and {SECRET_KEY_ENV} is "
                f"not set. {_KEYRING_HOWTO}, or set {SECRET_KEY_ENV} to a passphrase to keep "
                f"secrets in an encrypted file in {self._file.path.parent}."
            )
        if self._preferred is self._keyring:
            try:
                self._keyring.put(name, value)
                return f"{self._keyring.scheme}:{name}"
            except SecretStoreError as exc:
                if not self._file.has_key:
                    raise SecretStoreError(
                        f"{exc} Or set {SECRET_KEY_ENV} to a passphrase to keep secrets in an "
                        f"encrypted file in {self._file.path.parent}."
                    ) from None
                # A locked or broken keyring: the user opted into the file store via the env var.
                _log.warning(
                    "%s; storing secret '%s' in the %s instead", exc, name, self._file.description
                )
        self._file.put(name, value)
        return f"{self._file.scheme}:{name}"

    def get(self, ref: str) -> str:
        """The secret behind ``ref``; SecretNotFoundError when it points nowhere."""
        store, name = self._resolve(ref)
        return store.get(name)

    def delete(self, ref: str) -> None:
        """Remove the secret behind ``ref``; a missing secret is not an error."""
        store, name = self._resolve(ref)
        store.delete(name)

    def _resolve(self, ref: str) -> tuple[_Store, str]:
        scheme, sep, name = ref.partition(":")
        store = self._stores.get(scheme) if sep else None
        if store is None:
            # The ref is not echoed: it might be a secret passed by mistake.
            raise SecretStoreError(
                "Not a secret reference: expected 'keyring:<name>' or 'file:<name>'."
            )
        _check_name(name)
        return store, name


def open_secrets(data_dir: Path, env: Mapping[str, str] | None = None) -> Secrets:
    """Secrets for ``data_dir``: a usable keyring, else the encrypted file, else unavailable.

    ``env`` defaults to ``os.environ``; an empty ``SWITCHBOARD_SECRET_KEY`` counts as unset.
    """
    env = os.environ if env is None else env
    passphrase = env.get(SECRET_KEY_ENV) or None
    backend, problem = _detect_keyring()
    return Secrets(
        _KeyringStore(backend, problem),
        _EncryptedFileStore(Path(data_dir) / SECRETS_FILE, passphrase),
    )
