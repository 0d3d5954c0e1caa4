"""Desktop notifications: gateway events → notes (policy.py) → the platform's notifier."""

from app.notify.choose import default_notifier
from app.notify.note import ClickHandler, Note, Notifier
from app.notify.policy import NotificationPolicy, enabled_by
from app.notify.recording import NullNotifier, RecordingNotifier

__all__ = [
    "ClickHandler",
    "Note",
    "NotificationPolicy",
    "Notifier",
    "NullNotifier",
    "RecordingNotifier",
    "default_notifier",
    "enabled_by",
]
