"""Quota windows and budgets: window arithmetic (windows.py), the limits that apply
(limits.py), live usage per window (tracker.py), the events they raise (events.py) and
provider quota readings (fetcher.py). docs/usage.md explains them."""
