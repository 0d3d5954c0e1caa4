"""``switchboard`` as users start it: the desktop app (offscreen) in both loop modes, the
gateway answering, and SIGTERM quitting cleanly."""

from __future__ import annotations

import signal
from pathlib import Path

import aiohttp
import pytest

from tests.support.processes import ServeProcess, child_env

STOP_LIMIT_S = 20.0


@pytest.mark.parametrize("mode", ["thread", "shared"])
async def test_the_desktop_app_runs_in_both_loop_modes(
    mode: str, data_dir: Path, isolated_home: Path, tmp_path: Path
) -> None:
    env = child_env(isolated_home, extra={"QT_QPA_PLATFORM": "offscreen"})
    args = ["--gateway-loop", mode, "--port", "0", "--data-dir", str(data_dir)]
    with ServeProcess(args, env=env, log_dir=tmp_path / "out") as proc:
        endpoint = await proc.wait_for_endpoint()
        async with aiohttp.ClientSession() as http, http.get(f"{endpoint}/health") as response:
            assert response.status == 200
        proc.send_signal(signal.SIGTERM)
        assert await proc.wait_exit(STOP_LIMIT_S) == 0, proc.describe()
        assert proc.stdout().splitlines() == [
            f"Switchboard gateway listening on {endpoint}",
            f"Data folder: {data_dir}",
        ]
        assert proc.stderr() == ""  # Qt's own messages go to the log file
    log = (data_dir / "logs" / "desktop.log").read_text(encoding="utf-8")
    assert "quitting: stopping the gateway" in log
    assert not (data_dir / "run" / "gateway.json").exists()  # removed by a clean stop
