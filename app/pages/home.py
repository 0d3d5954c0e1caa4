"""Home: is the gateway on, where is it, which key, what did it do today, how to set up tools.

Everything shown is read from the bridge's service and LiveStatus; repaints are coalesced so
the page redraws at most once per REPAINT_MS however often the figures change.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QCoreApplication, QLocale, Qt, QTimer
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTabBar,
    QWidget,
)

from app.bridge import ERROR, RUNNING, STARTING, GatewayBridge
from app.lifecycle.control import GatewayControl
from app.live import LiveStatus
from app.pages.base import Page
from app.pages.snippets import CONTEXT as SNIPPETS_CONTEXT
from app.pages.snippets import EXAMPLE_MODEL, Snippet, snippets
from app.tasks import spawn
from app.window.dialogs import ask
from app.window.widgets import Card, CopyButton, CopyField, Switch, hint_label
from gateway.config.commands import ConfigError
from gateway.config.snapshot import Snapshot
from gateway.observe.today import TodaySummary
from gateway.service import Event

REPAINT_MS = 250
DEFAULT_ENDPOINT = "http://127.0.0.1:20128"  # shown in snippets before the first start
STATUS_COLORS = {"running": "#2e9d4f", "degraded": "#d89b00", "stopped": "#8a8f98"}
ERROR_COLOR = "#d0383c"


def suggested_model(snapshot: Snapshot) -> str:
    """A model the user really has, for the snippets: a combo, else a connection's first model."""
    if snapshot.combos:
        return sorted(snapshot.combos)[0]
    for upstream in snapshot.upstreams:
        if upstream.model_list:
            return f"{upstream.alias}/{upstream.model_list[0]}"
    return EXAMPLE_MODEL


def format_cost(usd: float) -> str:
    if 0 < usd < 0.01:
        return "< $0.01"
    return f"${usd:,.2f}"


class HomePage(Page):
    page_id = "home"
    icon = "home"

    @classmethod
    def title(cls) -> str:
        return QCoreApplication.translate("HomePage", "Home")

    def __init__(self, bridge: GatewayBridge, parent: QWidget | None = None) -> None:
        super().__init__(bridge, parent)
        self.setObjectName("page-home")
        self._live = LiveStatus.of(bridge)
        self._control = GatewayControl.of(bridge)
        self.key_dialog: QMessageBox | None = None
        self._repaint = QTimer(self, singleShot=True, interval=REPAINT_MS)
        self._repaint.timeout.connect(self.refresh)

        self.build(
            self.tr("Switchboard"),
            [
                self._status_card(),
                self._endpoint_card(),
                self._key_card(),
                self._today_card(),
                self._snippets_card(),
            ],
        )

        bridge.state_changed.connect(self.schedule_refresh)
        bridge.event_received.connect(self._on_event)
        self._live.changed.connect(self.schedule_refresh)
        self._control.busy_changed.connect(self.schedule_refresh)
        self.refresh()

    # layout ---------------------------------------------------------------------------------

    def _status_card(self) -> Card:
        card = Card(self.tr("Gateway"))
        row = QHBoxLayout()
        self.status_dot = QLabel()
        self.status_dot.setFixedWidth(14)
        self.status_label = QLabel()
        self.status_label.setObjectName("status")
        self.switch = Switch()
        self.switch.setAccessibleName(self.tr("Gateway on or off"))
        self.switch.setToolTip(self.tr("Turn the gateway on or off"))
        self.switch.clicked.connect(self._switch_clicked)
        row.addWidget(self.status_dot)
        row.addWidget(self.status_label, 1)
        row.addWidget(self.switch)
        card.body.addLayout(row)
        self.status_detail = hint_label("")
        self.status_detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        card.body.addWidget(self.status_detail)
        return card

    def _endpoint_card(self) -> Card:
        card = Card(self.tr("Endpoint"))
        self.endpoint_field = CopyField()
        self.endpoint_field.edit.setAccessibleName(self.tr("Endpoint URL"))
        card.body.addWidget(self.endpoint_field)
        card.body.addWidget(
            hint_label(self.tr("Point every coding tool at this address (snippets below)."))
        )
        return card

    def _key_card(self) -> Card:
        card = Card(self.tr("API key"))
        self.key_field = CopyField()
        self.key_field.edit.setAccessibleName(self.tr("Client API key"))
        card.body.addWidget(self.key_field)
        self.key_hint = hint_label("")
        card.body.addWidget(self.key_hint)
        row = QHBoxLayout()
        self.new_key_button = QPushButton(self.tr("Create new key…"))
        self.new_key_button.clicked.connect(self.request_new_key)
        row.addWidget(self.new_key_button)
        row.addStretch(1)
        card.body.addLayout(row)
        return card

    def _today_card(self) -> Card:
        card = Card(self.tr("Today"))
        grid = QGridLayout()
        grid.setHorizontalSpacing(24)
        self.requests_value, self.tokens_value, self.cost_value = QLabel(), QLabel(), QLabel()
        captions = (self.tr("Requests"), self.tr("Tokens"), self.tr("Cost"))
        values = (self.requests_value, self.tokens_value, self.cost_value)
        for col, (caption, value) in enumerate(zip(captions, values, strict=True)):
            font = value.font()
            font.setPointSizeF(font.pointSizeF() * 1.5)
            font.setBold(True)
            value.setFont(font)
            grid.addWidget(value, 0, col)
            grid.addWidget(hint_label(caption), 1, col)
            grid.setColumnStretch(col, 1)
        card.body.addLayout(grid)
        self.unpriced_hint = hint_label("")
        card.body.addWidget(self.unpriced_hint)
        return card

    def _snippets_card(self) -> Card:
        card = Card(self.tr("Set up your tools"))
        self.snippet_tabs = QTabBar()
        self.snippet_tabs.setExpanding(False)
        self.snippet_tabs.setDocumentMode(True)
        self._snippets: dict[str, Snippet] = {}
        for index, snippet in enumerate(snippets(DEFAULT_ENDPOINT, None)):
            self.snippet_tabs.addTab(snippet.title)
            self.snippet_tabs.setTabData(index, snippet.agent_id)
            self._snippets[snippet.agent_id] = snippet
        self.snippet_where = hint_label("")
        self.snippet_view = QPlainTextEdit()
        self.snippet_view.setReadOnly(True)
        self.snippet_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.snippet_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.snippet_view.setAccessibleName(self.tr("Setup snippet"))
        self.snippet_copy = CopyButton(self.snippet_view.toPlainText)
        self.snippet_copy.setObjectName("copy-snippet")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.snippet_copy)
        card.body.addWidget(self.snippet_tabs)
        card.body.addWidget(self.snippet_where)
        card.body.addWidget(self.snippet_view)
        card.body.addLayout(buttons)
        self.snippet_tabs.currentChanged.connect(lambda _: self._show_current_snippet())
        self._show_current_snippet()
        return card

    # state ----------------------------------------------------------------------------------

    def schedule_refresh(self, *_: object) -> None:
        """Coalesce changes: one repaint at most every REPAINT_MS."""
        if not self._repaint.isActive():
            self._repaint.start()

    def _on_event(self, event: Event) -> None:
        if event.kind in ("started", "stopped", "reloaded", "key_created"):
            self.schedule_refresh()

    def refresh(self) -> None:
        service = self.bridge.service
        state = self.bridge.state
        self._show_status(state)
        endpoint = service.endpoint if service.port else ""
        self.endpoint_field.set_value(endpoint)
        self._show_key(service.created_key, state == RUNNING)
        self._show_today(self._live.summary)
        model = suggested_model(service.snapshot)
        self._show_snippets(endpoint or DEFAULT_ENDPOINT, service.created_key, model)

    def _show_status(self, state: str) -> None:
        degraded = state == RUNNING and self._live.degraded
        if state == RUNNING:
            text = self.tr("Running — needs attention") if degraded else self.tr("Running")
            detail = (
                "\n".join(self._live.attention)
                if degraded
                else self.tr("Listening on {url}").format(url=self.bridge.service.endpoint)
            )
            color = STATUS_COLORS["degraded" if degraded else "running"]
        elif state == STARTING:
            text, detail, color = self.tr("Starting…"), "", STATUS_COLORS["stopped"]
        elif state == ERROR:
            text = self.tr("Not running")
            detail, color = self.bridge.last_error, ERROR_COLOR
        else:
            text = self.tr("Stopped")
            detail = self.tr("Your tools cannot reach Switchboard until you turn it on.")
            color = STATUS_COLORS["stopped"]
        self.status_label.setText(text)
        self.status_detail.setText(detail)
        self.status_detail.setVisible(bool(detail))
        self.status_dot.setText(f'<span style="color:{color}; font-size:16px">●</span>')
        self.switch.setChecked(state in (RUNNING, STARTING))
        self.switch.setEnabled(not self._control.busy and state != STARTING)

    def _show_key(self, key: str | None, running: bool) -> None:
        self.key_field.setVisible(key is not None)
        if key is not None:
            self.key_field.set_value(key)
            hint = self.tr(
                "Copy it now: Switchboard keeps only a fingerprint of each key, so this key "
                "cannot be shown again after Switchboard quits."
            )
        else:
            hint = self.tr(
                "Switchboard keeps only a fingerprint of each key, so an existing key cannot be "
                "shown again. Create a new one to copy it here."
            )
        if not self.bridge.service.snapshot.settings.require_api_key and running:
            hint += " " + self.tr("Keys are optional now: tools on this computer may omit them.")
        self.key_hint.setText(hint)
        self.new_key_button.setEnabled(running)
        self.new_key_button.setToolTip("" if running else self.tr("Turn the gateway on first."))

    def _show_today(self, summary: TodaySummary) -> None:
        locale = QLocale()
        self.requests_value.setText(locale.toString(summary.requests))
        self.tokens_value.setText(locale.toString(summary.tokens))
        self.cost_value.setText(format_cost(summary.cost_usd))
        self.unpriced_hint.setText(
            self.tr("{count} requests used models without a known price (not counted).").format(
                count=summary.unpriced
            )
            if summary.unpriced
            else ""
        )
        self.unpriced_hint.setVisible(bool(summary.unpriced))

    def _show_snippets(self, endpoint: str, key: str | None, model: str) -> None:
        self._snippets = {s.agent_id: s for s in snippets(endpoint, key, model)}
        self._show_current_snippet()

    def _show_current_snippet(self) -> None:
        snippet = self._snippets[str(self.snippet_tabs.tabData(self.snippet_tabs.currentIndex()))]
        self.snippet_where.setText(QCoreApplication.translate(SNIPPETS_CONTEXT, snippet.where))
        view = self.snippet_view
        if view.toPlainText() != snippet.text:
            view.setPlainText(snippet.text)
        # As tall as the snippet: no scroll bar, no empty space.
        lines = view.document().blockCount()  # the final newline's empty line included
        margin = view.document().documentMargin()
        view.setFixedHeight(
            int(view.fontMetrics().lineSpacing() * lines + 2 * margin + 2 * view.frameWidth() + 2)
        )

    def snippet_text(self, agent_id: str) -> str:
        """The snippet for one tool, as the page shows and copies it."""
        return self._snippets[agent_id].text

    # actions --------------------------------------------------------------------------------

    def _switch_clicked(self, checked: bool) -> None:
        if self._control.set_running(checked) is None:
            self.refresh()  # busy: show the real state again

    def request_new_key(self) -> None:
        """Ask for confirmation (non-blocking), then create a key and show it."""
        if self.bridge.state != RUNNING:
            return
        if self.key_dialog is not None and self.key_dialog.isVisible():
            self.key_dialog.raise_()
            return
        box = QMessageBox(self)
        box.setObjectName("create-key")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Create a new API key"))
        box.setText(self.tr("Create a new client API key?"))
        box.setInformativeText(
            self.tr(
                "Switchboard shows the new key here so you can copy it into your tools. Keys "
                "you already use keep working unless you also revoke them (switchboard key "
                "list, then switchboard key revoke NAME)."
            )
        )
        create = box.addButton(self.tr("Create key"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(create)
        self.key_dialog = box
        spawn(self._confirm_and_create(box, create))

    async def _confirm_and_create(self, box: QMessageBox, create: object) -> None:
        try:
            confirmed = await ask(box, create)
        finally:
            if self.key_dialog is box:
                self.key_dialog = None
        if confirmed:
            await self.create_key()

    async def create_key(self) -> str | None:
        service = self.bridge.service
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        for attempt in range(1, 6):
            name = f"desktop-{stamp}" if attempt == 1 else f"desktop-{stamp}-{attempt}"
            try:
                key = await self.bridge.run(service.create_client_key, name)
            except ConfigError as exc:
                if "already exists" in str(exc):
                    continue
                self.key_hint.setText(str(exc))
                return None
            self.refresh()
            return key
        return None
