"""JSON Schema ⇄ the Gemini ``Schema`` object (a subset of OpenAPI 3.0).

To Gemini (tool ``parameters`` and ``responseSchema``):
- ``type`` upper-cased; ``["T", "null"]`` → ``T`` + ``nullable``; several non-null types →
  ``anyOf`` of one branch per type; ``anyOf``/``oneOf`` → ``anyOf`` (a ``{"type": "null"}``
  branch becomes ``nullable``, a single remaining branch is inlined); ``allOf`` is merged.
- ``$ref`` to ``$defs``/``definitions`` is inlined (a recursive reference becomes a bare
  ``OBJECT``); ``const`` (string) → one-value ``enum``; non-string enums are dropped.
- ``format`` is kept only where Gemini gives it meaning (STRING ``enum``/``date-time``,
  NUMBER ``float``/``double``, INTEGER ``int32``/``int64``); ``required`` is filtered to the
  declared properties (Gemini rejects unknown names).
- Kept: description, enum, items, properties, required, nullable, min/maxItems,
  min/maxLength, pattern, minimum/maximum, min/maxProperties, propertyOrdering.
  Everything else (``$schema``, ``additionalProperties``, ``default``, ``examples``,
  ``title``, ...) is dropped.

From Gemini: types lower-cased, ``nullable`` → a ``"null"`` type (or ``anyOf`` branch),
snake_case keys accepted, ``propertyOrdering`` dropped (property order is kept by the dict).
"""

from __future__ import annotations

from typing import Any

_TYPES = frozenset({"STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT"})
_FORMATS: dict[str, frozenset[str]] = {
    "STRING": frozenset({"enum", "date-time"}),
    "NUMBER": frozenset({"float", "double"}),
    "INTEGER": frozenset({"int32", "int64"}),
}
_INT_KEYS = ("minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties")
_NUM_KEYS = ("minimum", "maximum")
_LIMIT_KEYS: dict[str, type | tuple[type, ...]] = {
    **dict.fromkeys(_INT_KEYS, int),
    **dict.fromkeys(_NUM_KEYS, (int, float)),
    "pattern": str,
}


def _seq(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def to_gemini(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema as a Gemini ``Schema``."""
    defs: dict[str, Any] = {}
    for key in ("definitions", "$defs"):
        found = schema.get(key)
        if isinstance(found, dict):
            defs.update(found)
    return _to_gemini(schema, defs, ())


def _deref(node: dict[str, Any], defs: dict[str, Any], stack: tuple[str, ...]) -> Any:
    """``node`` with its ``$ref`` inlined (sibling keywords win), or None when unresolvable."""
    name = str(node["$ref"]).rsplit("/", 1)[-1]
    target = defs.get(name)
    if not isinstance(target, dict) or name in stack:
        return None
    merged = dict(target)
    merged.update((k, v) for k, v in node.items() if k != "$ref")
    return merged, (*stack, name)


def _merge_all_of(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    merged = {k: v for k, v in node.items() if k != "allOf"}
    found = merged.get("properties")
    properties: dict[str, Any] = dict(found) if isinstance(found, dict) else {}
    required: list[Any] = [r for r in _seq(merged.get("required")) if isinstance(r, str)]
    for sub in node["allOf"]:
        if isinstance(sub, dict) and "$ref" in sub:
            resolved = _deref(sub, defs, ())
            sub = resolved[0] if resolved else {}
        if not isinstance(sub, dict):
            continue
        if isinstance(sub.get("properties"), dict):
            properties.update(sub["properties"])
        required.extend(r for r in _seq(sub.get("required")) if r not in required)
        for key, value in sub.items():
            if key not in ("properties", "required"):
                merged.setdefault(key, value)
    if properties:
        merged["properties"] = properties
    if required:
        merged["required"] = required
    return merged


def _to_gemini(node: Any, defs: dict[str, Any], stack: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(node, dict):
        return {}
    if "$ref" in node:
        resolved = _deref(node, defs, stack)
        if resolved is None:
            return {"type": "OBJECT"}
        node, stack = resolved
    if "allOf" in node and isinstance(node["allOf"], list):
        node = _merge_all_of(node, defs)

    # One pass over the keys the node has (schemas are small; most keywords are absent).
    out: dict[str, Any] = {}
    kind: Any = None
    nullable = False
    any_of: Any = None
    enum: Any = None
    const: Any = None
    fmt: Any = None
    properties: Any = None
    required: Any = None
    ordering: Any = None
    items: Any = None
    limits: dict[str, Any] = {}
    for key, value in node.items():
        if key == "type":
            kind = value
        elif key == "properties":
            properties = value
        elif key == "description":
            if isinstance(value, str):
                out["description"] = value
        elif key == "required":
            required = value
        elif key == "items":
            items = value
        elif key == "enum":
            enum = value
        elif key == "anyOf" or (key == "oneOf" and any_of is None):
            any_of = value
        elif key == "format":
            fmt = value
        elif key == "nullable":
            nullable = value is True
        elif key == "const":
            const = value
        elif key == "propertyOrdering":
            ordering = value
        elif (
            key in _LIMIT_KEYS
            and isinstance(value, _LIMIT_KEYS[key])
            and not isinstance(value, bool)  # bool is an int to isinstance
        ):
            limits[key] = value

    branches: list[dict[str, Any]] = []
    if isinstance(kind, list):
        nullable = nullable or "null" in kind
        named = [t for t in kind if isinstance(t, str) and t != "null"]
        kind = named[0] if len(named) == 1 else None
        if len(named) > 1:
            branches = [{"type": t.upper()} for t in named if t.upper() in _TYPES]
    if kind == "null":
        nullable, kind = True, None
    if isinstance(any_of, list):
        for branch in any_of:
            if isinstance(branch, dict) and branch.get("type") == "null" and len(branch) == 1:
                nullable = True
            else:
                branches.append(_to_gemini(branch, defs, stack))
    if len(branches) == 1:
        out.update(branches[0])
    elif branches:
        out["anyOf"] = branches

    if isinstance(kind, str):
        kind = kind.upper()
        if kind in _TYPES:
            out["type"] = kind
    if isinstance(enum, list):
        if None in enum:
            nullable = True
        values = [v for v in enum if v is not None]
        if values and all(isinstance(v, str) for v in values):
            out["enum"] = values
    elif isinstance(const, str):
        out["enum"] = [const]
    if "enum" in out and "type" not in out and "anyOf" not in out:
        out["type"] = "STRING"

    kind = out.get("type")
    if kind is None and "anyOf" not in out:
        if isinstance(properties, dict):
            kind = out["type"] = "OBJECT"
        elif isinstance(items, dict):
            kind = out["type"] = "ARRAY"
    if isinstance(fmt, str) and fmt in _FORMATS.get(kind or "", ()):
        out["format"] = fmt
    if isinstance(properties, dict) and kind == "OBJECT":
        out["properties"] = {
            str(name): _to_gemini(sub, defs, stack) for name, sub in properties.items()
        }
        if isinstance(required, list):
            kept = [r for r in required if isinstance(r, str) and r in properties]
            if kept:
                out["required"] = kept
        if isinstance(ordering, list) and all(isinstance(p, str) for p in ordering):
            out["propertyOrdering"] = ordering
    if isinstance(items, dict) and kind == "ARRAY":
        out["items"] = _to_gemini(items, defs, stack)
    if limits:
        out.update(limits)
    if nullable:
        out["nullable"] = True
    return out


_SNAKE_KEYS = {
    "any_of": "anyOf",
    "min_items": "minItems",
    "max_items": "maxItems",
    "min_length": "minLength",
    "max_length": "maxLength",
    "min_properties": "minProperties",
    "max_properties": "maxProperties",
    "property_ordering": "propertyOrdering",
}
_FROM_TYPES = {
    "STRING": "string",
    "NUMBER": "number",
    "INTEGER": "integer",
    "BOOLEAN": "boolean",
    "ARRAY": "array",
    "OBJECT": "object",
    "NULL": "null",
}
_PLAIN_KEYS = frozenset({"description", "format", "title", "pattern", "default", "enum"})


def from_gemini(schema: Any) -> dict[str, Any]:
    """A Gemini ``Schema`` (any key spelling, any type case) as JSON Schema."""
    if not isinstance(schema, dict):
        return {}
    out: dict[str, Any] = {}
    kind: str | None = None
    nullable = False
    for raw_key, value in schema.items():
        key = _SNAKE_KEYS.get(raw_key, raw_key)
        if key == "type":
            kind = _FROM_TYPES.get(str(value).upper())
        elif key == "nullable":
            nullable = value is True
        elif key == "properties" and isinstance(value, dict):
            out["properties"] = {str(k): from_gemini(v) for k, v in value.items()}
        elif key == "items":
            out["items"] = from_gemini(value)
        elif key == "anyOf" and isinstance(value, list):
            out["anyOf"] = [from_gemini(branch) for branch in value]
        elif key == "required" and isinstance(value, list):
            out["required"] = value
        elif key in _INT_KEYS:
            # proto3 JSON writes int64 as a string ("minItems": "1").
            if isinstance(value, str) and value.isdigit():
                value = int(value)
            out[key] = value
        elif key in _NUM_KEYS or key in _PLAIN_KEYS:
            out[key] = value
    if kind is not None:
        if nullable and kind != "null":
            out["type"] = [kind, "null"]
        else:
            out["type"] = kind
    elif nullable:
        if "anyOf" in out:
            out["anyOf"].append({"type": "null"})
        else:
            out["type"] = "null"
    # Keep "type" first: easier to read in logs and fixtures.
    if "type" in out:
        out = {"type": out.pop("type"), **out}
    return out
