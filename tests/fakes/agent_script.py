"""A scripted coding-agent turn, shared by every fake upstream (model ``fake-agent``).

The test writes the script into its prompt; the fake plays it back one step per request,
whatever wrappers the real CLI puts around the prompt (``<system-reminder>``,
``<environment_context>``, ``<session_context>``…), so the CLI's own tool loop runs for real:

    SAY: <text>          reply with exactly <text>
    RUN: <command>       call the CLI's shell tool with <command>; one RUN line per step

With RUN lines, step k (k = tool results received since the prompt) calls the shell tool with
the k-th command; once every command has a result, the reply is ``DONE: `` followed by the
tool results joined with `` | `` (so the test can check the CLI really ran them).

Each fake converts its dialect's request into ``Turn`` and renders the returned ``Step`` with
its own wire format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

SHELL_TOOLS = ("bash", "exec_command", "run_shell_command", "shell", "local_shell")
_LINE = re.compile(r"^\s*(SAY|RUN):[ \t]*(.+?)\s*$", re.M)


@dataclass
class Turn:
    """The part of a request the script needs, in no dialect in particular."""

    user_texts: list[str]  # every user message's text, oldest first
    results_after_prompt: list[str]  # tool results sent after the newest scripted user message
    tools: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (name, schema)


@dataclass
class Step:
    text: str | None = None  # a plain reply
    tool: str | None = None  # or a call to this tool …
    arguments: dict[str, Any] | None = None  # … with these arguments


def scripted_prompt(user_texts: list[str]) -> str | None:
    """The newest user text that carries a script."""
    for text in reversed(user_texts):
        if _LINE.search(text):
            return text
    return None


def next_step(turn: Turn) -> Step:
    prompt = scripted_prompt(turn.user_texts)
    if prompt is None:
        return Step(text="No script: write SAY: or RUN: lines in the prompt.")
    lines = _LINE.findall(prompt)
    says = [value for kind, value in lines if kind == "SAY"]
    commands = [value for kind, value in lines if kind == "RUN"]
    if not commands:
        return Step(text=" ".join(says))
    done = len(turn.results_after_prompt)
    if done >= len(commands):
        return Step(text="DONE: " + " | ".join(r.strip() for r in turn.results_after_prompt))
    name, arguments = shell_call(turn.tools, commands[done])
    if name is None:
        offered = ", ".join(n for n, _ in turn.tools) or "none"
        return Step(text=f"No shell tool among the offered tools ({offered}).")
    return Step(tool=name, arguments=arguments)


def shell_call(
    tools: list[tuple[str, dict[str, Any]]], command: str
) -> tuple[str | None, dict[str, Any]]:
    """The CLI's shell tool and arguments that run ``command``: the command goes in
    ``command`` or ``cmd`` (else the first required string); other required strings get a
    short description."""
    for name, schema in tools:
        if name.lower() not in SHELL_TOOLS:
            continue
        properties = schema.get("properties") or {}
        required = list(schema.get("required") or [])
        key = next((k for k in ("command", "cmd") if k in properties), None)
        if key is None:
            key = required[0] if required else "command"
        arguments: dict[str, Any] = {key: command}
        for other in required:
            if other != key and (properties.get(other) or {}).get("type") == "string":
                arguments[other] = "run a command for the e2e test"
        if (properties.get(key) or {}).get("type") == "array":
            arguments[key] = ["bash", "-lc", command]
        return name, arguments
    return None, {}
