"""Applying changed settings from the desktop: validate, store, and move the gateway if needed.

    validate   every value through coerce_setting, host + require_api_key through
               check_exposure, as the gateway does: any problem → nothing is written
    probe      a new address is bound once off the GUI thread first: a taken port or an unknown
               host is reported without touching the running gateway
    store      service.write_settings through the bridge (the gateway reloads)
    restart    host/port changed while running: stop, start on the new address; if that fails,
               store the old address again and start on it, so the user is never left without
               a gateway without being told
    side work  start_at_login calls app.autostart.apply(enabled) in a worker thread

Problems come back per setting name (shown inline next to the field) plus one general line.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import re
import socket
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from PySide6.QtCore import QCoreApplication

from app.bridge import RUNNING, GatewayBridge
from gateway.config.commands import ConfigError
from gateway.config.settings import SettingError, coerce_setting
from gateway.config.validation import check_exposure
from gateway.service import PortInUseError

Value = bool | int | float | str
log = logging.getLogger("switchboard.desktop")
NETWORK = ("host", "port")
_SETTING_PREFIX = re.compile(r"^settings\.(\w+): ?(.*)$")


def _tr(text: str) -> str:
    return QCoreApplication.translate("SettingsApply", text)


@dataclass
class Outcome:
    errors: dict[str, str] = field(default_factory=dict)  # setting name → what is wrong
    general: str = ""  # a problem that belongs to no single field
    written: dict[str, Value] = field(default_factory=dict)
    restarted: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors and not self.general


def split_problems(message: str) -> tuple[dict[str, str], str]:
    """``settings.<name>: what`` lines → {name: what}; other lines → one general text."""
    errors: dict[str, str] = {}
    other: list[str] = []
    for line in message.splitlines():
        match = _SETTING_PREFIX.match(line)
        if match and match.group(1) != "":
            errors[match.group(1)] = _sentence(match.group(2))
        elif line.startswith("settings: "):
            other.append(_sentence(line.removeprefix("settings: ")))
        elif line.strip():
            other.append(line)
    return errors, "\n".join(other)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def validate(changes: Mapping[str, object], current: Mapping[str, object]) -> Outcome:
    """The gateway's own checks, before anything is written."""
    outcome = Outcome()
    merged = dict(current)
    for name, value in changes.items():
        try:
            merged[name] = coerce_setting(name, value)
        except SettingError as exc:
            outcome.errors.update(split_problems(str(exc))[0])
    if outcome.errors:
        return outcome
    if problem := check_exposure(str(merged["host"]), bool(merged["require_api_key"])):
        name = "host" if "host" in changes else "require_api_key"
        outcome.errors[name] = _sentence(problem) + "."
    return outcome


def probe_address(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on now, or None (blocking: a worker thread)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            if sys.platform != "win32":  # as aiohttp does: a port in TIME_WAIT is usable
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def apply_autostart(enabled: bool) -> None:
    """app/autostart.py's apply (blocking). Imported late: it is optional in some builds."""
    module = importlib.import_module("app.autostart")
    module.apply(enabled)


class SettingsApplier:
    """Applies one set of changes at a time for a bridge (the Settings page owns one)."""

    def __init__(
        self,
        bridge: GatewayBridge,
        *,
        probe: Callable[[str, int], str | None] = probe_address,
        autostart: Callable[[bool], None] = apply_autostart,
    ) -> None:
        self._bridge = bridge
        self.probe = probe
        self.autostart = autostart

    async def apply(self, changes: Mapping[str, object], stored: Mapping[str, object]) -> Outcome:
        """Apply ``changes`` (name → new value) over ``stored`` (the values they replace)."""
        outcome = validate(changes, stored)
        if not outcome.ok or not changes:
            return outcome
        values: dict[str, Value] = {n: coerce_setting(n, v) for n, v in changes.items()}
        service = self._bridge.service
        running = self._bridge.state == RUNNING
        moving = any(name in values for name in NETWORK)
        old_host, old_port = service.host, service.port
        new_host = str(values.get("host", stored["host"]))
        new_port = int(values["port"]) if "port" in values else old_port
        if moving and running and (new_host, new_port) != (old_host, old_port):
            problem = await asyncio.to_thread(self.probe, new_host, new_port)
            if problem is not None:
                name = "port" if "port" in values else "host"
                outcome.errors[name] = _tr(
                    "Cannot listen on {address}: {problem}. Switchboard keeps running on {old}."
                ).format(
                    address=_address(new_host, new_port), problem=problem, old=service.endpoint
                )
                return outcome
        if not await self._write(values, outcome):
            return outcome
        if "port" in values or (moving and running):
            # Over --port too: the user chose this port now (or keeps the current one).
            service.use_port(new_port)
        if moving and running:
            await self._move(new_host, new_port, old_host, old_port, stored, outcome)
        if "start_at_login" in outcome.written:
            enabled = bool(outcome.written["start_at_login"])
            try:
                await asyncio.to_thread(self.autostart, enabled)
            except (ImportError, OSError) as exc:
                log.warning("start at login could not be changed: %s", exc)
                outcome.errors["start_at_login"] = _tr(
                    "Saved, but the login item could not be changed: {error}"
                ).format(error=exc)
        return outcome

    async def _write(self, values: dict[str, Value], outcome: Outcome) -> bool:
        service = self._bridge.service
        try:
            await self._bridge.call(service.write_settings, values)
        except ConfigError as exc:
            errors, general = split_problems(str(exc))
            outcome.errors.update(errors)
            outcome.general = general
            return False
        except OSError as exc:
            outcome.general = _tr("Settings could not be saved: {error}").format(error=exc)
            return False
        outcome.written.update(values)
        return True

    async def _move(
        self,
        host: str,
        port: int,
        old_host: str,
        old_port: int,
        stored: Mapping[str, object],
        outcome: Outcome,
    ) -> None:
        """Restart on the new address; on failure, back on the old one (stored again too)."""
        bridge, service = self._bridge, self._bridge.service
        await bridge.stop()
        try:
            await bridge.start()
            outcome.restarted = True
            return
        except PortInUseError:
            failure = _tr("another program uses that port.")
        except Exception:
            failure = bridge.last_error
        log.warning("the gateway did not start on %s: %s", _address(host, port), failure)
        back = {name: stored[name] for name in NETWORK if name in outcome.written}
        for name in back:
            del outcome.written[name]
        culprit = "port" if "port" in back else "host"
        try:
            await bridge.call(service.write_settings, back)
            service.use_port(old_port)
            await bridge.start()
        except Exception:
            outcome.errors[culprit] = _tr("Could not listen on {address}: {problem}").format(
                address=_address(host, port), problem=failure
            )
            outcome.general = _tr(
                "The gateway is stopped: it could not start on {old} again either ({problem}). "
                "Turn it on from Home once the address is free."
            ).format(old=_address(old_host, old_port), problem=bridge.last_error)
            return
        outcome.errors[culprit] = _tr(
            "Could not listen on {address}: {problem} Switchboard is running on {old} again."
        ).format(address=_address(host, port), problem=failure, old=service.endpoint)


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
