"""Content parts: Responses input/output parts ⇄ hub parts, and data URLs.

Responses carries inline bytes as data URLs (``input_image.image_url``, ``input_file.file_data``)
where the hub keeps ``media_type`` + bare base64, so both directions split or build one.
"""

from __future__ import annotations

from typing import Any

from gateway.formats import hub

# File extension ⇄ media type for inline files: the API wants a filename next to file_data, and a
# bare base64 file_data says nothing about its type. A small table, not mimetypes (which reads
# system files on first use).
_EXTENSION_BY_TYPE = {
    "application/pdf": "pdf",
    "text/plain": "txt",
    "text/markdown": "md",
    "text/csv": "csv",
    "text/html": "html",
    "application/json": "json",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
}
_TYPE_BY_EXTENSION = {ext: media for media, ext in _EXTENSION_BY_TYPE.items()}
DEFAULT_DOCUMENT_TYPE = "application/pdf"


def split_data_url(url: str) -> tuple[str, str] | None:
    """(media type, base64 payload) of a base64 ``data:`` URL; None for anything else."""
    if not url.startswith("data:"):
        return None
    header, comma, payload = url[5:].partition(",")
    if not comma or ";base64" not in header:
        return None
    return header.partition(";")[0], payload


def data_url(media_type: str, data: str) -> str:
    return f"data:{media_type};base64,{data}"


def media_type_for_filename(filename: str | None) -> str:
    if filename:
        ext = filename.rpartition(".")[2].lower()
        if ext in _TYPE_BY_EXTENSION:
            return _TYPE_BY_EXTENSION[ext]
    return DEFAULT_DOCUMENT_TYPE


def default_filename(media_type: str | None) -> str:
    return "document." + _EXTENSION_BY_TYPE.get(media_type or DEFAULT_DOCUMENT_TYPE, "bin")


# Responses → hub ----------------------------------------------------------------------------


def part_to_hub(part: Any) -> hub.Part | None:
    """One content part (input or output side) → a hub part; None when the hub cannot hold it
    (audio, files known only by ``file_id``, unknown types)."""
    if not isinstance(part, dict):
        return None
    kind = part.get("type")
    if kind in ("input_text", "output_text", "text"):
        text = part.get("text")
        return {"type": "text", "text": text} if isinstance(text, str) else None
    if kind == "refusal":
        refusal = part.get("refusal")
        return {"type": "text", "text": refusal} if isinstance(refusal, str) else None
    if kind == "input_image":
        return _image_to_hub(part)
    if kind == "input_file":
        return _file_to_hub(part)
    return None


def _image_to_hub(part: dict[str, Any]) -> hub.ImagePart | None:
    url = part.get("image_url")
    if not isinstance(url, str) or not url:
        return None  # file_id only: the file lives at OpenAI, nothing to carry
    image: hub.ImagePart = {"type": "image"}
    inline = split_data_url(url)
    if inline is None:
        image["url"] = url
    else:
        image["media_type"], image["data"] = inline
    detail = part.get("detail")
    if isinstance(detail, str) and detail != "auto":  # "auto" is the default: same as none
        image["detail"] = detail
    return image


def _file_to_hub(part: dict[str, Any]) -> hub.DocumentPart | None:
    filename = part.get("filename")
    document: hub.DocumentPart = {"type": "document"}
    file_data = part.get("file_data")
    file_url = part.get("file_url")
    if isinstance(file_data, str) and file_data:
        inline = split_data_url(file_data)
        if inline is None:  # bare base64: the type comes from the filename
            document["media_type"] = media_type_for_filename(filename)
            document["data"] = file_data
        else:
            document["media_type"], document["data"] = inline
    elif isinstance(file_url, str) and file_url:
        document["url"] = file_url
    else:
        return None
    if isinstance(filename, str) and filename:
        document["title"] = filename
    return document


def parts_to_hub(content: Any) -> list[hub.Part]:
    """A message's ``content`` (string or part list) → hub parts."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list):
        return []
    parts: list[hub.Part] = []
    for raw in content:
        part = part_to_hub(raw)
        if part is not None:
            parts.append(part)
    return parts


# hub → Responses ----------------------------------------------------------------------------


def input_part(part: hub.Part) -> dict[str, Any] | None:
    """A hub part → an input content part (user/developer messages, tool outputs)."""
    if part["type"] == "text":
        return {"type": "input_text", "text": part["text"]}
    if part["type"] == "image":
        if "data" in part:
            url = data_url(part.get("media_type", "image/png"), part["data"])
        elif "url" in part:
            url = part["url"]
        else:
            return None
        return {"type": "input_image", "image_url": url, "detail": part.get("detail", "auto")}
    if "data" in part:
        media_type = part.get("media_type", DEFAULT_DOCUMENT_TYPE)
        return {
            "type": "input_file",
            "filename": part.get("title") or default_filename(media_type),
            "file_data": data_url(media_type, part["data"]),
        }
    if "url" in part:
        document: dict[str, Any] = {"type": "input_file", "file_url": part["url"]}
        if "title" in part:
            document["filename"] = part["title"]
        return document
    return None


def input_parts(parts: list[hub.Part]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for part in parts:
        converted = input_part(part)
        if converted is not None:
            out.append(converted)
    return out
