"""``switchboard health [--json]`` and ``switchboard health reset``: the running gateway's
routing health (breakers, cooldowns, last errors, statistics), asked over its loopback admin
routes with the token from its runtime file (gateway/run_file.py)."""

from __future__ import annotations

import argparse
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any

import orjson

from gateway.cli.common import CliError, add_json_flag, data_dir_of, print_json, print_table
from gateway.run_file import (
    ADMIN_HEADER,
    HEALTH_PATH,
    RESET_PATH,
    pid_alive,
    read_run_file,
)

NOT_RUNNING = "the gateway is not running (start it with `switchboard serve`)"
TIMEOUT_S = 10.0
ERROR_WIDTH = 60
# No proxies: the admin token must go straight to the gateway on this machine, whatever
# HTTP_PROXY says.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "health",
        parents=[common],
        help="show the running gateway's routing health",
        description="Breaker state, cooldowns, last error, success rate and latency of every "
        "enabled connection, grouped by provider, from the running gateway.",
    )
    add_json_flag(parser)
    parser.set_defaults(handler=show_health)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    reset = actions.add_parser(
        "reset",
        parents=[common],
        help="close breakers and end cooldowns now",
        description="Forget breakers, cooldowns and last errors of every connection, of one "
        "provider (its breaker and all its connections) or of one connection.",
    )
    scope = reset.add_mutually_exclusive_group()
    scope.add_argument("--provider", metavar="P", help="only this provider id (e.g. openai)")
    scope.add_argument("--connection", metavar="NAME", help="only this connection")
    reset.add_argument(
        "--stats", action="store_true", help="also forget success rates, latencies and counts"
    )
    reset.set_defaults(handler=reset_health)


def show_health(args: argparse.Namespace) -> int:
    report = _call(args, "GET", HEALTH_PATH)
    if args.json:
        print_json(report)
        return 0
    rows = []
    for provider in report["providers"]:
        name = provider["provider"] + _provider_breaker(provider["breaker"])
        for connection in provider["connections"]:
            rows.append(_row(name, connection, report["at"]))
    print_table(
        (
            "provider",
            "connection",
            "breaker",
            "cooling down",
            "success",
            "requests",
            "p50/p95/p99 ms",
            "last error",
        ),
        rows,
        empty="No enabled connections.",
    )
    return 0


def reset_health(args: argparse.Namespace) -> int:
    body = {"provider": args.provider, "connection": args.connection, "stats": args.stats}
    cleared = _call(args, "POST", RESET_PATH, body)["cleared"]
    if args.connection is not None:
        scope = f"connection {args.connection!r}"
    elif args.provider is not None:
        scope = f"provider {args.provider!r} and its connections"
    else:
        scope = "every provider and connection"
    entries = "entry" if cleared == 1 else "entries"
    also = ", statistics too" if args.stats else ""
    print(f"Reset the routing health of {scope}: {cleared} breaker/cooldown {entries}{also}.")
    return 0


def _call(args: argparse.Namespace, method: str, path: str, body: Any = None) -> Any:
    info = read_run_file(data_dir_of(args))
    if info is None or not pid_alive(info.pid):
        raise CliError(NOT_RUNNING)
    request = urllib.request.Request(
        info.loopback_url + path,
        data=orjson.dumps(body) if body is not None else None,
        method=method,
        headers={ADMIN_HEADER: info.admin_token, "Content-Type": "application/json"},
    )
    try:
        with _OPENER.open(request, timeout=TIMEOUT_S) as response:
            return orjson.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise CliError(f"the gateway refused: {_error_message(exc)}") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ConnectionRefusedError):
            raise CliError(NOT_RUNNING) from None
        raise CliError(f"cannot reach the gateway at {info.loopback_url}: {exc.reason}") from None
    except (TimeoutError, ConnectionError) as exc:
        raise CliError(f"the gateway at {info.loopback_url} did not answer: {exc}") from None


def _error_message(exc: urllib.error.HTTPError) -> str:
    try:
        message = orjson.loads(exc.read())["error"]["message"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return f"HTTP {exc.code}"
    return str(message)


def _provider_breaker(breaker: dict[str, Any]) -> str:
    if breaker["state"] == "open":
        return f" (open, {_duration(breaker['seconds_left'])})"
    if breaker["state"] == "half_open":
        return " (half-open)"
    return ""


def _row(provider: str, connection: dict[str, Any], now: float) -> tuple[str, ...]:
    breaker = connection["breaker"]
    if breaker["state"] == "open":
        state = f"open, {_duration(breaker['seconds_left'])}"
    elif breaker["state"] == "half_open":
        state = "half-open"
    else:
        failures = breaker["failures"]
        state = f"closed, {failures} failed" if failures else "closed"
    cooling = [connection["cooldown"]] if connection["cooldown"] else []
    cooling += connection["model_cooldowns"]
    cells = [_cooling(c) for c in cooling[:2]]
    if len(cooling) > 2:
        cells.append(f"+{len(cooling) - 2} more")
    latency = connection["latency_ms"]
    requests = str(connection["requests"])
    if connection["in_flight"]:
        requests += f" ({connection['in_flight']} now)"
    error = connection["last_error"]
    last = f"{_clip(error['text'])} ({_duration(now - error['at'])} ago)" if error else "-"
    if connection["problem"]:
        last = _clip(f"unusable: {connection['problem']}")
    return (
        provider,
        connection["connection"],
        state,
        "; ".join(cells) or "-",
        f"{connection['success_rate'] * 100:.0f}%",
        requests,
        "/".join(_ms(latency[p]) for p in ("p50", "p95", "p99")) if latency else "-",
        last,
    )


def _cooling(cooldown: dict[str, Any]) -> str:
    what = cooldown["model"] or "all models"
    until = datetime.fromtimestamp(cooldown["until"])
    when = until.strftime("%H:%M:%S" if cooldown["seconds_left"] < 12 * 3600 else "%Y-%m-%d %H:%M")
    return f"{what} until {when} ({_duration(cooldown['seconds_left'])})"


def _ms(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h"


def _clip(text: str, width: int = ERROR_WIDTH) -> str:
    text = " ".join(text.split())  # one line, whatever the upstream sent
    return text if len(text) <= width else text[: width - 1] + "…"
