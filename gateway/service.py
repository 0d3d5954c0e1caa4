"""GatewayService: the one facade through which the CLI and the desktop app run the gateway.

``start()`` opens the stores, builds the configuration snapshot and serves HTTP on the
running asyncio loop; ``stop()`` drains in-flight requests (up to ``shutdown_timeout``) and
closes everything. Configuration changes made by anyone (this process or the CLI in another)
bump a revision in the database; the service polls it and swaps in a new snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from secrets import token_urlsafe
from typing import Any, ParamSpec, TypeVar

import apsw
from aiohttp import web

from gateway.config import commands
from gateway.config.repository import read_settings
from gateway.config.snapshot import Settings, Snapshot, Upstream, build_snapshot
from gateway.config.store import ConfigStore
from gateway.config.validation import check_exposure
from gateway.observe import analytics
from gateway.observe.analytics import Bucket, Dimension, UsageReport
from gateway.observe.events import Event
from gateway.observe.health_events import POLL_INTERVAL_S, watch_health
from gateway.observe.request_log import RequestLog
from gateway.observe.retention import PruneReport, prune
from gateway.observe.rollup import open_logs_writer
from gateway.observe.today import TodaySummary, today_summary
from gateway.providers.catalog import Catalog, default_catalog
from gateway.providers.upstream import create_session
from gateway.routing.credentials import ApiKeyRefresher, Credentials, stored_upstream
from gateway.routing.health import HealthReport, build_report, reset
from gateway.routing.router import Router
from gateway.run_file import RunInfo, remove_run_file, write_run_file
from gateway.security.secrets import Secrets, open_secrets
from gateway.server.app import create_app
from gateway.server.cache_store import CacheStore
from gateway.server.replays import Replays
from gateway.server.response_cache import CacheStats, ResponseCache
from gateway.server.runtime import Runtime
from gateway.store.db import CONFIG_DB_NAME, LOGS_DB_NAME, ThreadLocalReader, open_connection
from gateway.store.writer import DbWriter
from gateway.usage.counters import Reading
from gateway.usage.events import KEEP_S, EventBook, load_fired
from gateway.usage.fetcher import FetchScheduler, QuotaFetcher
from gateway.usage.tracker import UsageTracker, WindowState, read_seed

P = ParamSpec("P")
T = TypeVar("T")
log = logging.getLogger("switchboard.service")

DEFAULT_KEY_NAME = "default"
RETENTION_FIRST_RUN_S = 10.0


class ServiceError(RuntimeError):
    """The gateway cannot start; the message says why and what to do."""


class PortInUseError(ServiceError):
    pass


__all__ = ["Event", "GatewayService", "PortInUseError", "ServiceError"]


class GatewayService:
    def __init__(
        self,
        data_dir: Path,
        *,
        host: str | None = None,
        port: int | None = None,
        catalog: Catalog | None = None,
        secrets: Secrets | None = None,
        reload_interval: float = 1.0,
        shutdown_timeout: float = 10.0,
        router: Router | None = None,
        retention_interval: float = 3600.0,
        health_interval: float = POLL_INTERVAL_S,
        usage_clock: Callable[[], float] | None = None,
        quota_fetchers: Mapping[str, QuotaFetcher] | None = None,
        quota_interval: float = 30.0,
    ) -> None:
        """``router``: live routing state to start with (tests inject one with a fake clock);
        ``health_interval``: seconds between two looks for provider and login changes;
        ``usage_clock``: the wall clock quota windows follow (tests move it by hand);
        ``quota_fetchers``: provider quota endpoints by provider id (docs/usage.md)."""
        self.data_dir = data_dir
        self._host_override = host
        self._port_override = port
        self._catalog = catalog
        self._secrets = secrets
        self._reload_interval = reload_interval
        self._shutdown_timeout = shutdown_timeout
        self._router = router
        self._retention_interval = retention_interval
        self._health_interval = health_interval
        self._usage_clock = usage_clock
        self._quota_fetchers = dict(quota_fetchers or {})
        self._quota_interval = quota_interval
        self._quota_task: asyncio.Task[None] | None = None
        self._fetch: FetchScheduler | None = None
        self._listeners: list[Callable[[Event], None]] = []
        self._config: ConfigStore | None = None
        self._logs: DbWriter | None = None
        self._runtime: Runtime | None = None
        self._runner: web.AppRunner | None = None
        self._reload_task: asyncio.Task[None] | None = None
        self._retention_task: asyncio.Task[None] | None = None
        self._health_task: asyncio.Task[None] | None = None
        self.host = host or "127.0.0.1"
        self.port = port or 0
        # Plaintext of the key this process made last (first start, or create_client_key): the
        # only moment a key can be shown; never stored.
        self.created_key: str | None = None
        self._admin_token: str | None = None  # fresh per start; in <data_dir>/run/gateway.json
        self._log_reader = ThreadLocalReader(data_dir / LOGS_DB_NAME)  # opened on first read

    # lifecycle ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._runner is not None

    @property
    def endpoint(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def context(self) -> commands.Context:
        if self._config is None:
            raise RuntimeError("the service is not started")
        return commands.Context(self._config, self.catalog, self.secrets)

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = default_catalog()
        return self._catalog

    @property
    def secrets(self) -> Secrets:
        if self._secrets is None:
            self._secrets = open_secrets(self.data_dir)
        return self._secrets

    @property
    def runtime(self) -> Runtime:
        """What the running gateway's handlers share (tests and the desktop app read it)."""
        if self._runtime is None:
            raise RuntimeError("the service is not started")
        return self._runtime

    @property
    def snapshot(self) -> Snapshot:
        runtime = self._runtime  # read once: another thread may be stopping the service
        return runtime.snapshot if runtime is not None else Snapshot.empty()

    async def start(self) -> None:
        if self.running:
            return
        try:
            await self._open_stores()
            snapshot = await asyncio.to_thread(self._build_snapshot)
            self.host = self._host_override or snapshot.settings.host
            self.port = (
                self._port_override if self._port_override is not None else snapshot.settings.port
            )
            if problem := check_exposure(self.host, snapshot.settings.require_api_key):
                raise ServiceError(f"Refusing to start: {problem}.")
            assert self._logs is not None and self._config is not None
            refresher = ApiKeyRefresher(stored_upstream(self._config, self.catalog, self.secrets))
            cache = ResponseCache(CacheStore(self._logs))
            await cache.load(snapshot.settings.cache_max_mb << 20)  # persisted answers
            usage = UsageTracker(
                self._usage_clock or time.time, EventBook(self._emit_usage, self._logs)
            )
            self._runtime = Runtime(
                snapshot,
                create_session(),
                RequestLog(self._logs, usage.record),
                router=self._router or Router(),
                credentials=Credentials(refresher),
                replays=Replays(cache),
                usage=usage,
            )
            await self._seed_usage(remember_events=True)
            self._admin_token = token_urlsafe(32)
            await self._serve(self._runtime)
            await self._write_run_file(self._admin_token)
            # Only once the port is ours: a failed start must not leave a key nobody saw.
            if snapshot.settings.require_api_key and not snapshot.key_names_by_hash:
                _, self.created_key = await asyncio.to_thread(
                    commands.create_key, self.context, DEFAULT_KEY_NAME
                )
                self._runtime.install(await asyncio.to_thread(self._build_snapshot))
        except BaseException:
            await self.stop()
            raise
        self._reload_task = asyncio.create_task(self._watch_revision(), name="config-watch")
        self._retention_task = asyncio.create_task(self._keep_pruning(), name="retention")
        self._health_task = asyncio.create_task(
            watch_health(self._health_source, self._emit, self._health_interval),
            name="health-events",
        )
        self._quota_task = asyncio.create_task(self._keep_ticking(), name="quota-windows")
        self._fetch = FetchScheduler(
            self._quota_fetchers, lambda: self.snapshot.upstreams, self._apply_readings
        )
        self._fetch.start()
        self._emit(Event("started", self.endpoint))

    async def stop(self) -> None:
        if self._admin_token is not None:  # first, so the CLI stops finding a closing gateway
            await asyncio.to_thread(remove_run_file, self.data_dir, self._admin_token)
            self._admin_token = None
        if self._fetch is not None:
            await self._fetch.stop()
            self._fetch = None
        for task in (
            self._reload_task,
            self._retention_task,
            self._health_task,
            self._quota_task,
        ):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._reload_task = self._retention_task = self._health_task = None
        self._quota_task = None
        was_running = self._runner is not None
        if self._runner is not None:
            await self._runner.cleanup()  # waits for in-flight requests, then closes
            self._runner = None
        if self._runtime is not None:
            await self._runtime.http.close()
            self._runtime = None
        for closer in (self._logs, self._config):
            if closer is not None:
                await asyncio.to_thread(closer.close)
        self._logs = self._config = None
        await asyncio.to_thread(self._log_reader.close_all)
        if was_running:
            self._emit(Event("stopped"))

    def use_port(self, port: int) -> None:
        """Listen on ``port`` from the next start on (the desktop's "port in use" choice)."""
        self._port_override = port

    async def _open_stores(self) -> None:
        self._config = ConfigStore(self.data_dir)
        await asyncio.to_thread(self._config.open)
        self._logs = open_logs_writer(self.data_dir / LOGS_DB_NAME, name="logs-writer")
        await asyncio.to_thread(self._logs.start)  # may migrate (and back up) a large file

    async def _serve(self, runtime: Runtime) -> None:
        self._runner = web.AppRunner(
            create_app(runtime, self._admin_token),
            access_log=None,
            shutdown_timeout=self._shutdown_timeout,
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=1024)
        try:
            await site.start()
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)):
                raise PortInUseError(
                    f"Port {self.port} on {self.host} is already in use (is Switchboard already "
                    f"running?). Choose another with --port PORT."
                ) from None
            raise ServiceError(
                f"Cannot listen on {self.host}:{self.port}: {exc.strerror}."
            ) from None
        if self.port == 0:  # an ephemeral port (tests): report the real one
            server = site._server
            sockets = getattr(server, "sockets", None) or []
            self.port = sockets[0].getsockname()[1]

    async def _write_run_file(self, admin_token: str) -> None:
        info = RunInfo(os.getpid(), self.host, self.port, admin_token)
        try:
            await asyncio.to_thread(write_run_file, self.data_dir, info)
        except OSError as exc:
            raise ServiceError(
                f"Cannot write the runtime file in {self.data_dir / 'run'}: {exc.strerror}."
            ) from None

    # routing health -------------------------------------------------------------------------

    def health(self) -> HealthReport:
        """Breakers, cooldowns, last errors and statistics of every enabled connection."""
        return build_report(self.runtime.router, self.snapshot.upstreams)

    def _health_source(self) -> tuple[Router, tuple[Upstream, ...]] | None:
        runtime = self._runtime
        return None if runtime is None else (runtime.router, runtime.snapshot.upstreams)

    def reset_health(
        self, provider: str | None = None, connection: str | None = None, *, stats: bool = False
    ) -> int:
        """Forget breakers and cooldowns of everything, one provider or one connection (by
        name); how many were not healthy. Raises routing.health.UnknownTarget for a name no
        enabled connection has. Call it on the gateway's loop."""
        return reset(
            self.runtime.router,
            self.snapshot.upstreams,
            provider=provider,
            connection=connection,
            stats=stats,
        )

    def attention(self) -> tuple[str, ...]:
        """What keeps the gateway from full health: providers whose breaker is open and
        connections that need a login, one line each (empty when all is well). Call it on the
        gateway's loop."""
        if self._runtime is None:
            return ()
        lines = [
            f"{p.name}: down (circuit breaker open)"
            for p in self.health().providers
            if p.breaker.state == "open"
        ]
        logins = self._runtime.router.logins
        lines += [
            f"{u.connection}: needs a new login"
            for u in self.snapshot.upstreams
            if logins.get(u.connection_id) is not None
        ]
        return tuple(lines)

    # request log ----------------------------------------------------------------------------

    async def today_summary(self) -> TodaySummary:
        """Requests, tokens and cost since local midnight, read from logs.db off the loop
        (works while the gateway is stopped; all zero before the first start)."""
        return await asyncio.to_thread(self._read_today)

    def _read_today(self) -> TodaySummary:
        if not self._log_reader.path.exists():
            return TodaySummary()
        try:
            return today_summary(self._log_reader.connection(), self.catalog)
        except apsw.SQLError:  # the first start is creating the table right now
            return TodaySummary()

    # configuration --------------------------------------------------------------------------

    def read_settings(self) -> Settings:
        """The stored settings, also while the gateway is stopped (the desktop reads them before
        starting it). Blocking: call it off the GUI thread."""
        if self._runtime is not None:
            return self._runtime.snapshot.settings
        path = self.data_dir / CONFIG_DB_NAME
        if not path.exists():
            return Settings()
        conn = open_connection(path, readonly=True)
        try:
            return Settings.from_stored(read_settings(conn))
        finally:
            conn.close()

    def write_settings(self, values: Mapping[str, object]) -> None:
        """Validate and store settings (``commands.set_settings``), also while the gateway is
        stopped (the desktop's Settings page). Blocking: run it through ``call``, which
        reloads a running gateway. Raises ConfigError naming each bad setting."""
        if self._config is not None:
            commands.set_settings(self.context, dict(values))
            return
        store = ConfigStore(self.data_dir)
        store.open()
        try:
            context = commands.Context(store, self.catalog, self.secrets)
            commands.set_settings(context, dict(values))
        finally:
            store.close()

    def _build_snapshot(self) -> Snapshot:
        assert self._config is not None
        return build_snapshot(self._config.state(), self.catalog, self.secrets)

    async def reload(self) -> Snapshot:
        """Rebuild the snapshot from the database now and swap it in."""
        snapshot = await asyncio.to_thread(self._build_snapshot)
        if self._runtime is not None:
            self._runtime.install(snapshot)
            await self._seed_usage()
        self._emit(Event("reloaded", str(snapshot.revision)))
        return snapshot

    async def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a blocking configuration command off the loop, then reload if it changed."""
        result = await asyncio.to_thread(fn, *args, **kwargs)
        if self._runtime is not None:
            await self.reload()
        return result

    async def create_client_key(self, name: str) -> str:
        """Create a client API key named ``name`` and remember its plaintext as
        ``created_key`` (the desktop shows it); older keys stay valid. Emits key_created."""
        _, plaintext = await self.call(commands.create_key, self.context, name)
        self.created_key = plaintext
        self._emit(Event("key_created", name))
        return plaintext

    async def _watch_revision(self) -> None:
        assert self._config is not None
        config = self._config
        while True:
            await asyncio.sleep(self._reload_interval)
            try:
                revision = await asyncio.to_thread(config.revision)
                if self._runtime is not None and revision != self._runtime.snapshot.revision:
                    await self.reload()
            except Exception:
                log.exception("configuration reload failed; keeping the current snapshot")

    async def usage(
        self,
        by: Dimension = "model",
        since: float | None = None,
        until: float | None = None,
        bucket: Bucket | None = None,
    ) -> UsageReport:
        """Usage analytics (gateway/observe/analytics.py) read off the event loop."""
        path = self.data_dir / LOGS_DB_NAME

        def read() -> UsageReport:
            conn = open_connection(path, readonly=True)
            try:
                return analytics.usage(conn, by=by, since=since, until=until, bucket=bucket)
            finally:
                conn.close()

        return await asyncio.to_thread(read)

    async def prune_logs(self, now: float | None = None) -> PruneReport:
        """Delete request logs and usage totals past their retention (docs/usage.md)."""
        if self._logs is None:
            raise RuntimeError("the service is not started")
        settings = self.snapshot.settings
        return await prune(
            self._logs,
            log_retention_days=settings.log_retention_days,
            usage_retention_days=settings.usage_retention_days,
            now=now,
        )

    async def _keep_pruning(self) -> None:
        # Soon after start (a gateway started once a day still prunes), then periodically.
        await asyncio.sleep(min(RETENTION_FIRST_RUN_S, self._retention_interval))
        while True:
            try:
                report = await self.prune_logs()
                if report.log_rows or report.usage_rows:
                    log.info(
                        "retention: deleted %d request-log rows and %d hourly usage rows",
                        report.log_rows,
                        report.usage_rows,
                    )
            except Exception:
                log.exception("pruning old logs failed; trying again later")
            await asyncio.sleep(self._retention_interval)

    async def flush_logs(self) -> None:
        """Wait until every request logged so far is in logs.db."""
        if self._logs is not None:
            await self._logs.aflush()

    # quota windows and budgets -------------------------------------------------------------

    def quota(self) -> list[WindowState]:
        """Every connection's quota windows: used, limit, remaining %, reset, countdown."""
        return self.runtime.usage.states(budgets=False)

    def budgets(self) -> list[WindowState]:
        """Every budget, with what its current day, week or month has spent."""
        return self.runtime.usage.states(budgets=True)

    async def _seed_usage(self, *, remember_events: bool = False) -> None:
        """Fill new limits in from request_log (and, at start, the events already fired)."""
        runtime = self.runtime
        limits, runtime.unseeded = runtime.unseeded, []
        if not limits and not remember_events:
            return
        usage, tiers = runtime.usage, runtime.snapshot.tiers
        now = usage.clock()
        path = self.data_dir / LOGS_DB_NAME

        def read() -> tuple[dict[tuple[str, str, str], Any], list[Any]]:
            conn = open_connection(path, readonly=True)
            try:
                fired = load_fired(conn, now - KEEP_S) if remember_events else []
                return read_seed(conn, limits, tiers, now), fired
            finally:
                conn.close()

        seeds, fired = await asyncio.to_thread(read)
        usage.book.remember(fired)
        usage.seed(seeds)

    async def _keep_ticking(self) -> None:
        # Windows that end with no traffic still reset (and say so) within this interval.
        while True:
            await asyncio.sleep(self._quota_interval)
            try:
                self.runtime.usage.tick()
            except Exception:
                log.exception("quota window update failed")

    def _apply_readings(self, upstream: Upstream, readings: list[Reading]) -> None:
        for reading in readings:
            self.runtime.usage.apply_reading(upstream.connection, reading)

    def _emit_usage(self, kind: str, detail: str, data: Mapping[str, object]) -> None:
        self._emit(Event(kind, detail, data))

    # response cache -------------------------------------------------------------------------

    def cache_stats(self) -> CacheStats:
        """Hits, misses, stores, evictions, tokens saved, size (since this start)."""
        return self.runtime.replays.cache.stats()

    async def clear_cache(self) -> None:
        """Forget every cached response, in memory and in logs.db."""
        await self.runtime.replays.cache.clear()

    # events ---------------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``listener`` (on the gateway's loop) for every event; returns unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("event listener failed")
