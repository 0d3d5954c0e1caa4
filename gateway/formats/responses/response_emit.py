"""Hub response → the Response object a non-streaming Responses client receives."""

from __future__ import annotations

import time
from typing import Any

from gateway.formats import hub
from gateway.formats.responses.envelope import (
    echo_fields,
    function_call_item,
    item_id,
    message_item,
    reasoning_item,
    response_id,
    response_object,
)
from gateway.formats.responses.usage import STATUS_BY_FINISH, usage_from_hub

FAILED_MESSAGE = "The upstream model ended the response with an error."


def response_from_hub(response: hub.Response, request: hub.Request) -> dict[str, Any]:
    rid = response_id(response["id"])
    base = rid[5:]
    status, incomplete = STATUS_BY_FINISH.get(response["finish_reason"], ("completed", None))
    item_status = "incomplete" if status == "incomplete" else "completed"
    output: list[dict[str, Any]] = []
    # Hub order: reasoning, then text, then tool calls (the order of one assistant turn).
    for block in response["reasoning"]:
        if "redacted" in block and not block["text"]:
            continue  # Anthropic redacted thinking has no Responses form (docs/dialects)
        iid = block.get("id") or item_id("rs_", base, len(output))
        output.append(reasoning_item(iid, block["text"], block.get("signature")))
    texts = [part["text"] for part in response["content"] if part["type"] == "text"]
    if texts:
        output.append(message_item(item_id("msg_", base, len(output)), texts, item_status))
    for call in response["tool_calls"]:
        iid = item_id("fc_", base, len(output))
        output.append(
            function_call_item(iid, call["id"], call["name"], call["arguments"], item_status)
        )
    error = {"code": "server_error", "message": FAILED_MESSAGE} if status == "failed" else None
    return response_object(
        rid=rid,
        created_at=int(time.time()),  # the hub carries no timestamp; the clock is read here only
        model=response["model"] or request.get("model", ""),
        status=status,
        output=output,
        usage=usage_from_hub(response["usage"]),
        echo=echo_fields(request),
        error=error,
        incomplete_details=incomplete,
    )
