"""``switchboard serve`` as a real process: start, health, signals, refusals, and no leaks.

Children run with no OS keyring and ``SWITCHBOARD_SECRET_KEY`` set (the headless-server case),
an isolated ``HOME``, and their output in files (tests/support/processes.py). Upstream fakes run
on this test's event loop, so everything here awaits instead of blocking.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import signal
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway import __version__
from gateway.cli.desktop import NO_DISPLAY_LINE
from gateway.observe.request_log import INSERT_SQL, LogEntry
from gateway.store.db import open_logs_db
from tests.fakes.openai_upstream import DEFAULT_API_KEY, FakeOpenAI
from tests.support.processes import (
    CliRun,
    ServeProcess,
    all_output,
    child_env,
    eventually,
    folder_files,
    run_cli_async,
    wait_until,
)

CLIENT_KEY = "sk-sb-serve-process-client-0001"
CANARY = "sk-SECRET-canary-7f3a9"
STOP_TIMEOUT_S = 15.0
SHUTDOWN_LINE = "Shutting down: finishing requests in flight (up to 10 s)…\n"


@pytest.fixture
def env(isolated_home: Path) -> dict[str, str]:
    return child_env(isolated_home)


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    path = tmp_path / "child-output"
    path.mkdir()
    return path


def serve(data_dir: Path, env: dict[str, str], log_dir: Path, *extra: str) -> ServeProcess:
    args = ["serve", "--headless", "--data-dir", str(data_dir), "--port", "0", *extra]
    return ServeProcess(args, env=env, log_dir=log_dir)


async def cli(
    args: Sequence[str], data_dir: Path | None, env: dict[str, str], log_dir: Path
) -> CliRun:
    where = ["--data-dir", str(data_dir)] if data_dir is not None else []
    return await run_cli_async([*args, *where], env=env, log_dir=log_dir)


async def import_config(
    text: str, tmp_path: Path, data_dir: Path | None, env: dict[str, str], log_dir: Path
) -> CliRun:
    path = tmp_path / "import.toml"  # outside the data folder and the output folder
    path.write_text(text, encoding="utf-8")
    result = await cli(["config", "import", str(path)], data_dir, env, log_dir)
    assert result.returncode == 0, result.describe()
    return result


def fake_config(fake: FakeOpenAI, api_key: str = DEFAULT_API_KEY) -> str:
    return f"""
[[api_keys]]
name = "ci"
key = "{CLIENT_KEY}"

[[connections]]
name = "fake"
provider = "openai"
base_url = "{fake.base_url}"
api_key = "{api_key}"
"""


def bearer(key: str = CLIENT_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def chat(
    http: aiohttp.ClientSession,
    endpoint: str,
    model: str,
    text: str,
    *,
    stream: bool = False,
    key: str = CLIENT_KEY,
) -> tuple[int, bytes]:
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": text}]}
    if stream:
        body["stream"] = True
    async with http.post(
        f"{endpoint}/v1/chat/completions", json=body, headers=bearer(key)
    ) as response:
        return response.status, await response.read()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --------------------------------------------------------------------------- start and health


async def test_first_start_creates_a_key_once_and_serves_health(
    data_dir: Path, env: dict[str, str], log_dir: Path
) -> None:
    with serve(data_dir, env, log_dir) as first:
        endpoint = await first.wait_for_endpoint()
        assert re.fullmatch(r"http://127\.0\.0\.1:[1-9]\d*", endpoint)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{endpoint}/health") as response:
                assert response.status == 200
                assert response.content_type == "application/json"
                health = await response.json()
            assert health["status"] == "ok"
            assert health["version"] == __version__
            stdout = first.stdout()
            created = re.search(r"\(shown only now\): (sk-sb-[0-9a-f]{32})$", stdout, re.M)
            assert created is not None, first.describe()
            key = created.group(1)
            async with http.get(f"{endpoint}/v1/models", headers=bearer(key)) as response:
                assert response.status == 200  # the printed key is the one the gateway accepts
            async with http.get(f"{endpoint}/v1/models") as response:
                assert response.status == 401
        first.send_signal(signal.SIGTERM)
        assert await first.wait_exit(STOP_TIMEOUT_S) == 0
        assert first.stdout().splitlines() == [
            f"Switchboard gateway listening on {endpoint}",
            f"Data folder: {data_dir}",
            f"Created the client API key 'default' (shown only now): {key}",
            "Send it as 'Authorization: Bearer <key>' or 'x-api-key: <key>'.",
        ]
        assert first.stderr() == SHUTDOWN_LINE

    with serve(data_dir, env, log_dir) as second:
        endpoint = await second.wait_for_endpoint()
        second.send_signal(signal.SIGTERM)
        assert await second.wait_exit(STOP_TIMEOUT_S) == 0
        assert second.stdout().splitlines() == [
            f"Switchboard gateway listening on {endpoint}",
            f"Data folder: {data_dir}",
        ]

    keys = await cli(["key", "list", "--json"], data_dir, env, log_dir)
    assert keys.returncode == 0, keys.describe()
    assert [(k["name"], k["prefix"]) for k in json.loads(keys.stdout)] == [
        ("default", key[:10] + "…")
    ]
    # The plaintext key is in the first child's stdout only, never in the data folder.
    for path, content in folder_files(data_dir).items():
        assert key.encode() not in content, path.name


async def test_keys_changed_by_another_process_apply_without_a_restart(
    data_dir: Path, env: dict[str, str], log_dir: Path
) -> None:
    with serve(data_dir, env, log_dir) as proc:
        endpoint = await proc.wait_for_endpoint()
        created = await cli(["key", "create", "late"], data_dir, env, log_dir)
        assert created.returncode == 0, created.describe()
        key = created.stdout.strip()
        async with aiohttp.ClientSession() as http:

            async def models_status() -> int:
                async with http.get(f"{endpoint}/v1/models", headers=bearer(key)) as response:
                    return response.status

            async def accepted() -> bool:
                return await models_status() == 200

            async def refused() -> bool:
                return await models_status() == 401

            await eventually(accepted, "the running gateway to accept the new key")
            revoked = await cli(["key", "revoke", "late"], data_dir, env, log_dir)
            assert revoked.returncode == 0, revoked.describe()
            await eventually(refused, "the running gateway to refuse the revoked key")
        proc.send_signal(signal.SIGTERM)
        assert await proc.wait_exit(STOP_TIMEOUT_S) == 0


# --------------------------------------------------------------------------- signals


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
async def test_a_signal_lets_the_request_in_flight_finish(
    signum: signal.Signals, data_dir: Path, env: dict[str, str], log_dir: Path, tmp_path: Path
) -> None:
    async with FakeOpenAI() as fake:
        await import_config(fake_config(fake), tmp_path, data_dir, env, log_dir)
        with serve(data_dir, env, log_dir) as proc:
            endpoint = await proc.wait_for_endpoint()
            async with aiohttp.ClientSession() as http:
                # The fake holds fake-slow-1.5 for 1.5 s before it answers.
                pending = asyncio.create_task(
                    chat(http, endpoint, "openai/fake-slow-1.5", "finish me")
                )
                await wait_until(
                    lambda: any(
                        isinstance(r.body, dict) and r.body.get("model") == "fake-slow-1.5"
                        for r in fake.state.requests
                    ),
                    "the upstream to receive the request",
                )
                assert not pending.done()
                proc.send_signal(signum)
                status, raw = await pending
            assert status == 200, raw
            reply = json.loads(raw)
            assert reply["choices"][0]["message"]["content"] == "Echo: finish me"
            assert reply["choices"][0]["finish_reason"] == "stop"
            assert await proc.wait_exit(STOP_TIMEOUT_S) == 0
            assert proc.stderr() == SHUTDOWN_LINE

    logs = await cli(["logs", "--json"], data_dir, env, log_dir)
    rows = [json.loads(line) for line in logs.stdout.splitlines()]
    assert [(r["requested_model"], r["status"], r["key_name"]) for r in rows] == [
        ("openai/fake-slow-1.5", 200, "ci")
    ]


# --------------------------------------------------------------------------- refusals


async def test_a_port_in_use_exits_2_with_one_line(
    data_dir: Path, env: dict[str, str], log_dir: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = await cli(["serve", "--headless", "--port", str(port)], data_dir, env, log_dir)
    assert result.returncode == 2, result.describe()
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.describe()
    assert str(port) in lines[0]
    assert "--port" in lines[0]


async def test_key_less_access_on_a_network_address_is_refused(
    data_dir: Path, env: dict[str, str], log_dir: Path, tmp_path: Path
) -> None:
    await import_config("[settings]\nrequire_api_key = false\n", tmp_path, data_dir, env, log_dir)
    result = await cli(
        ["serve", "--headless", "--host", "0.0.0.0", "--port", "0"], data_dir, env, log_dir
    )
    assert result.returncode == 2, result.describe()
    assert result.stdout == ""  # never printed "listening on"
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.describe()
    assert "require_api_key" in lines[0]
    assert "0.0.0.0" in lines[0]


# --------------------------------------------------------------------------- logs --follow


def append_log_rows(data_dir: Path, request_ids: Sequence[str]) -> None:
    conn = open_logs_db(data_dir)
    try:
        with conn:
            for request_id in request_ids:
                entry = LogEntry(1_750_000_000.0, request_id, "openai", status=200)
                conn.execute(INSERT_SQL, entry.row())
    finally:
        conn.close()


async def test_logs_follow_prints_new_rows_until_interrupted(
    data_dir: Path, env: dict[str, str], log_dir: Path
) -> None:
    append_log_rows(data_dir, ["old-1", "old-2"])
    with ServeProcess(
        ["logs", "--follow", "--json", "--tail", "1", "--data-dir", str(data_dir)],
        env=env,
        log_dir=log_dir,
    ) as follower:
        await follower.wait_for_stdout(re.compile(r'"request_id":"old-2"'))
        append_log_rows(data_dir, ["new-1", "new-2"])
        await follower.wait_for_stdout(re.compile(r'"request_id":"new-2"'))
        follower.send_signal(signal.SIGINT)
        assert await follower.wait_exit(STOP_TIMEOUT_S) == 0
        rows = [json.loads(line) for line in follower.stdout().splitlines()]
        assert [r["request_id"] for r in rows] == ["old-2", "new-1", "new-2"]
        assert follower.stderr() == ""


# --------------------------------------------------------------------------- no leaks


async def test_the_upstream_key_appears_in_no_file_and_no_output(
    data_dir: Path, env: dict[str, str], log_dir: Path, tmp_path: Path
) -> None:
    async with FakeOpenAI(api_key=CANARY) as fake:
        await import_config(fake_config(fake, CANARY), tmp_path, data_dir, env, log_dir)
        probe = await cli(
            ["connection", "test", "fake", "--model", "gpt-4o-mini"], data_dir, env, log_dir
        )
        assert probe.returncode == 0, probe.describe()
        assert probe.stdout.startswith("ok: model gpt-4o-mini answered in ")

        with serve(data_dir, env, log_dir) as proc:
            endpoint = await proc.wait_for_endpoint()
            async with aiohttp.ClientSession() as http:
                status, raw = await chat(http, endpoint, "openai/gpt-4o-mini", "hello there")
                assert status == 200, raw
                assert json.loads(raw)["choices"][0]["message"]["content"] == "Echo: hello there"
                status, raw = await chat(http, endpoint, "openai/gpt-4o-mini", "hi", stream=True)
                assert status == 200, raw
                assert raw.endswith(b"data: [DONE]\n\n")
                status, raw = await chat(http, endpoint, "openai/fake-error-400", "boom")
                assert status == 400, raw
                assert json.loads(raw)["error"]["message"] == (
                    "Fake upstream error 400 for model 'fake-error-400'."
                )
                status, raw = await chat(http, endpoint, "nope/model-x", "where")
                assert status == 404, raw
                status, raw = await chat(http, endpoint, "openai/gpt-4o-mini", "x", key="sk-bad1")
                assert status == 401, raw
                async with http.get(f"{endpoint}/no/such/route") as response:
                    assert response.status == 404

            export = await cli(["config", "export"], data_dir, env, log_dir)
            assert export.returncode == 0, export.describe()
            assert 'name = "fake"' in export.stdout
            assert "api_key =" not in export.stdout
            proc.send_signal(signal.SIGTERM)
            assert await proc.wait_exit(STOP_TIMEOUT_S) == 0

        # The canary did reach the upstream, so it really was stored and used.
        chat_requests = [r for r in fake.state.requests if r.path == "/v1/chat/completions"]
        assert len(chat_requests) == 4  # connection test, two replies, one upstream error
        assert {r.headers["authorization"] for r in chat_requests} == {f"Bearer {CANARY}"}

    logs = await cli(["logs"], data_dir, env, log_dir)
    assert logs.returncode == 0, logs.describe()
    assert len(logs.stdout.splitlines()) == 5
    logs_json = await cli(["logs", "--json"], data_dir, env, log_dir)
    rows = [json.loads(line) for line in logs_json.stdout.splitlines()]
    assert [(r["requested_model"], r["status"]) for r in rows] == [
        ("openai/gpt-4o-mini", 200),
        ("openai/gpt-4o-mini", 200),
        ("openai/fake-error-400", 400),
        ("nope/model-x", 404),
        (None, 401),  # refused before the body is read
    ]

    needles = [CANARY.encode(), base64.b64encode(CANARY.encode()), CANARY.encode("utf-16-le")]
    files = folder_files(data_dir)
    names = {path.name for path in files}
    assert {"switchboard.db", "logs.db", "secrets.enc"} <= names
    outputs = all_output(log_dir)
    # stdout and stderr of: import, connection test, serve, export, logs, logs --json.
    assert len(outputs) == 2 * 6
    for path, content in {**files, **outputs}.items():
        for needle in needles:
            assert needle not in content, f"the upstream key leaked into {path}"


# --------------------------------------------------------------------------- no command


async def test_no_command_without_a_display_runs_the_headless_gateway(
    env: dict[str, str], log_dir: Path, tmp_path: Path, isolated_home: Path
) -> None:
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):  # no screen at all
        env.pop(name, None)
    port = free_port()
    # No --data-dir anywhere: the default data folder under the isolated HOME.
    await import_config(f"[settings]\nport = {port}\n", tmp_path, None, env, log_dir)
    default_dir = isolated_home / ".local" / "share" / "Switchboard"
    with ServeProcess([], env=env, log_dir=log_dir) as proc:
        endpoint = await proc.wait_for_endpoint()
        assert endpoint == f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http, http.get(f"{endpoint}/health") as response:
            assert response.status == 200
            assert (await response.json())["status"] == "ok"
        proc.send_signal(signal.SIGTERM)
        assert await proc.wait_exit(STOP_TIMEOUT_S) == 0
        lines = proc.stdout().splitlines()
        assert lines[:3] == [
            NO_DISPLAY_LINE,
            f"Switchboard gateway listening on {endpoint}",
            f"Data folder: {default_dir}",
        ]
        assert lines[3].startswith("Created the client API key 'default' (shown only now): ")
        assert proc.stderr() == SHUTDOWN_LINE
    assert (default_dir / "switchboard.db").is_file()
