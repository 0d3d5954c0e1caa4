"""Request settings both ways: tools, tool_choice, ``text.format`` and ``reasoning``.

Also used by the response emitters, which echo the request's settings in the Response object.
"""

from __future__ import annotations

from typing import Any

from gateway.formats import hub

_TOOL_CHOICE_MODES = ("auto", "none", "required")
_FORMAT_TYPES = ("text", "json_object", "json_schema")
DEFAULT_SCHEMA_NAME = "response"  # text.format json_schema requires a name; the hub may have none


# Responses → hub ----------------------------------------------------------------------------


def tools_to_hub(tools: Any) -> list[hub.Tool]:
    """Function tools only: built-in ones (web_search, file_search, local_shell, custom, mcp,
    ...) run at OpenAI or need its grammar engine, so no other upstream can honour them."""
    if not isinstance(tools, list):
        return []
    out: list[hub.Tool] = []
    for tool in tools:
        if not isinstance(tool, dict) or tool.get("type") != "function":
            continue
        name = tool.get("name")
        if not isinstance(name, str):
            continue
        parameters = tool.get("parameters")
        converted: hub.Tool = {
            "name": name,
            "parameters": parameters if isinstance(parameters, dict) else {"type": "object"},
        }
        description = tool.get("description")
        if isinstance(description, str):
            converted["description"] = description
        strict = tool.get("strict")
        if isinstance(strict, bool):
            converted["strict"] = strict
        out.append(converted)
    return out


def tool_choice_to_hub(choice: Any) -> hub.ToolChoice | None:
    if isinstance(choice, str):
        return choice if choice in _TOOL_CHOICE_MODES else None
    if not isinstance(choice, dict):
        return None
    kind = choice.get("type")
    if kind == "function" and isinstance(choice.get("name"), str):
        return {"name": choice["name"]}
    if kind == "allowed_tools" and choice.get("mode") in ("auto", "required"):
        return str(choice["mode"])  # the allow-list itself has no hub equivalent
    return None  # a built-in tool (web_search, custom, mcp ...): dropped with the tool


def text_format_to_hub(text: Any) -> hub.ResponseFormat | None:
    fmt = text.get("format") if isinstance(text, dict) else None
    if not isinstance(fmt, dict) or fmt.get("type") not in _FORMAT_TYPES:
        return None
    out: hub.ResponseFormat = {"type": fmt["type"]}
    if fmt["type"] == "json_schema":
        if isinstance(fmt.get("name"), str):
            out["name"] = fmt["name"]
        if isinstance(fmt.get("schema"), dict):
            out["schema"] = fmt["schema"]
        if isinstance(fmt.get("strict"), bool):
            out["strict"] = fmt["strict"]
    return out


def reasoning_to_hub(reasoning: Any) -> hub.ReasoningConfig | None:
    if not isinstance(reasoning, dict):
        return None
    out: hub.ReasoningConfig = {}
    effort = reasoning.get("effort")
    if isinstance(effort, str):
        # Responses also knows "none" (reasoning off) and "xhigh"; kept as given for a
        # Responses upstream, with ``enabled`` saying on/off to the other dialects.
        out["enabled"] = effort != "none"
        out["effort"] = effort
    summary = reasoning.get("summary", reasoning.get("generate_summary"))
    if isinstance(summary, str):
        out["summary"] = summary
    return out or None


# hub → Responses ----------------------------------------------------------------------------


def tools_from_hub(tools: list[hub.Tool]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for tool in tools:
        converted: dict[str, Any] = {"type": "function", "name": tool["name"]}
        if "description" in tool:
            converted["description"] = tool["description"]
        converted["parameters"] = tool["parameters"]
        # Responses turns an absent strict into strict mode (rewriting the schema); the other
        # dialects default to non-strict, so absent means False here.
        converted["strict"] = tool.get("strict", False)
        out.append(converted)
    return out


def tool_choice_from_hub(choice: hub.ToolChoice) -> str | dict[str, str]:
    if isinstance(choice, dict):
        return {"type": "function", "name": choice.get("name", "")}
    return choice if choice in _TOOL_CHOICE_MODES else "auto"


def text_from_hub(fmt: hub.ResponseFormat | None) -> dict[str, Any]:
    """The ``text`` object: ``{"format": ...}``."""
    if fmt is None or fmt["type"] == "text":
        return {"format": {"type": "text"}}
    if fmt["type"] == "json_object":
        return {"format": {"type": "json_object"}}
    out: dict[str, Any] = {
        "type": "json_schema",
        "name": fmt.get("name") or DEFAULT_SCHEMA_NAME,
        "schema": fmt.get("schema", {"type": "object"}),
    }
    if "strict" in fmt:
        out["strict"] = fmt["strict"]
    return {"format": out}


def effort_for_budget(budget_tokens: int) -> str:
    """An explicit thinking budget (Anthropic, Gemini) → a Responses effort, with the same
    thresholds as the OpenAI Chat emitter so both OpenAI dialects think alike."""
    if budget_tokens <= 2048:
        return "low"
    if budget_tokens <= 8192:
        return "medium"
    return "high"


def reasoning_from_hub(config: hub.ReasoningConfig | None) -> dict[str, str] | None:
    """The ``reasoning`` object, or None to leave the model's default."""
    if not config:
        return None
    out: dict[str, str] = {}
    if "effort" in config:
        out["effort"] = config["effort"]
    elif config.get("enabled") is False:
        return None  # "none" is unknown to older reasoning models: the default is the safe ask
    elif "budget_tokens" in config:
        out["effort"] = effort_for_budget(config["budget_tokens"])
    if "summary" in config:
        out["summary"] = config["summary"]
    return out or None
