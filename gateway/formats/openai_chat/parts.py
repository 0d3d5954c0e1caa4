"""Message content: OpenAI string / content-part arrays ⇄ hub parts."""

from __future__ import annotations

from typing import Any

from gateway.formats import hub
from gateway.formats.openai_chat.mapping import data_url, split_data_url

# Chat Completions accepts only PDF file parts; a file part without a media type is one.
_DEFAULT_FILE_TYPE = "application/pdf"
_DEFAULT_IMAGE_TYPE = "image/png"


def _image_to_hub(image: object) -> hub.ImagePart | None:
    # Some clients send "image_url": "<url>" instead of {"url": ...}.
    if isinstance(image, str):
        url, detail = image, None
    elif isinstance(image, dict) and isinstance(image.get("url"), str):
        url, detail = image["url"], image.get("detail")
    else:
        return None
    part: hub.ImagePart = {"type": "image"}
    inline = split_data_url(url)
    if inline is not None:
        part["media_type"], part["data"] = inline
    else:
        part["url"] = url
    if isinstance(detail, str):
        part["detail"] = detail
    return part


def _file_to_hub(file: object) -> hub.DocumentPart | None:
    if not isinstance(file, dict):
        return None
    file_data = file.get("file_data")
    if not isinstance(file_data, str):
        return None  # file_id refers to OpenAI's file store: nothing another dialect can use
    part: hub.DocumentPart = {"type": "document"}
    inline = split_data_url(file_data)
    if inline is not None:
        part["media_type"], part["data"] = inline
    else:
        part["media_type"], part["data"] = _DEFAULT_FILE_TYPE, file_data
    filename = file.get("filename")
    if isinstance(filename, str):
        part["title"] = filename
    return part


def parts_to_hub(content: object) -> list[hub.Part]:
    """``content`` as a client sent it (string, part list or null) → hub parts. Audio parts
    and refusal parts are dropped (no other dialect takes audio input)."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if not isinstance(content, list):
        return []
    parts: list[hub.Part] = []
    for item in content:
        if isinstance(item, str):
            parts.append({"type": "text", "text": item})
            continue
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "text":
            text = item.get("text")
            if isinstance(text, str):
                parts.append({"type": "text", "text": text})
        elif kind == "image_url":
            image = _image_to_hub(item.get("image_url"))
            if image is not None:
                parts.append(image)
        elif kind == "file":
            document = _file_to_hub(item.get("file"))
            if document is not None:
                parts.append(document)
    return parts


def part_to_openai(part: hub.Part) -> dict[str, Any] | None:
    """One hub part → an OpenAI content part; None when Chat Completions cannot carry it
    (a document known only by URL: file parts take inline data or an uploaded file id)."""
    if part["type"] == "text":
        return {"type": "text", "text": part["text"]}
    if part["type"] == "image":
        if "data" in part:
            url = data_url(part.get("media_type", _DEFAULT_IMAGE_TYPE), part["data"])
        elif "url" in part:
            url = part["url"]
        else:
            return None
        image: dict[str, Any] = {"url": url}
        if "detail" in part:
            image["detail"] = part["detail"]
        return {"type": "image_url", "image_url": image}
    if "data" not in part:
        return None
    media_type = part.get("media_type", _DEFAULT_FILE_TYPE)
    filename = part.get("title") or (
        "document.pdf" if media_type == _DEFAULT_FILE_TYPE else "document"
    )
    return {
        "type": "file",
        "file": {"filename": filename, "file_data": data_url(media_type, part["data"])},
    }


def user_content_to_openai(parts: list[hub.Part]) -> str | list[dict[str, Any]]:
    """A plain string when the message is one text part (what every compatible server
    accepts), else a part array."""
    if len(parts) == 1 and parts[0]["type"] == "text":
        return parts[0]["text"]
    out = [converted for part in parts if (converted := part_to_openai(part)) is not None]
    return out or ""


def joined_text(parts: list[hub.Part], separator: str) -> str:
    """The text parts as one string: system, assistant and tool content are sent as plain
    strings because several compatible servers accept nothing else for those roles."""
    texts = [part["text"] for part in parts if part["type"] == "text"]
    return texts[0] if len(texts) == 1 else separator.join(texts)
