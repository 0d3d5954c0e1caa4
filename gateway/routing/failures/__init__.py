"""Failure classification as data: which class a failed upstream attempt belongs to and what
the router does about it. Rules: resources/failure_rules.toml; docs: docs/routing/failures.md.
"""

from gateway.routing.failures.classify import Failure, action_for, classify
from gateway.routing.failures.table import (
    Action,
    Cooldown,
    FailureClass,
    FailureRulesError,
    FailureTable,
    Rule,
    default_table,
    load_table,
    parse_table,
)

__all__ = [
    "Action",
    "Cooldown",
    "Failure",
    "FailureClass",
    "FailureRulesError",
    "FailureTable",
    "Rule",
    "action_for",
    "classify",
    "default_table",
    "load_table",
    "parse_table",
]
