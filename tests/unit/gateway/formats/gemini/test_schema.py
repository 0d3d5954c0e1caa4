"""JSON Schema ⇄ Gemini Schema conversion rules."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.formats.gemini.schema import from_gemini, to_gemini


@pytest.mark.parametrize(
    ("json_schema", "gemini"),
    [
        ({"type": "string"}, {"type": "STRING"}),
        ({"type": ["string", "null"]}, {"type": "STRING", "nullable": True}),
        ({"type": ["null", "integer"]}, {"type": "INTEGER", "nullable": True}),
        ({"type": "null"}, {"nullable": True}),
        (
            {"type": ["string", "number"], "description": "id"},
            {"anyOf": [{"type": "STRING"}, {"type": "NUMBER"}], "description": "id"},
        ),
        (
            {"anyOf": [{"type": "string"}, {"type": "null"}], "description": "d"},
            {"type": "STRING", "description": "d", "nullable": True},
        ),
        (
            {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
            {"anyOf": [{"type": "STRING"}, {"type": "ARRAY", "items": {"type": "STRING"}}]},
        ),
        ({"const": "fixed"}, {"type": "STRING", "enum": ["fixed"]}),
        (
            {"type": "string", "enum": ["a", None]},
            {"type": "STRING", "enum": ["a"], "nullable": True},
        ),
        ({"type": "integer", "enum": [1, 2]}, {"type": "INTEGER"}),
        ({"type": "string", "format": "uri"}, {"type": "STRING"}),
        ({"type": "string", "format": "date-time"}, {"type": "STRING", "format": "date-time"}),
        ({"type": "integer", "format": "int64"}, {"type": "INTEGER", "format": "int64"}),
        ({"type": "number", "format": "int64"}, {"type": "NUMBER"}),
        (
            {"type": "string", "minLength": 1, "maxLength": 9, "pattern": "^a"},
            {"type": "STRING", "minLength": 1, "maxLength": 9, "pattern": "^a"},
        ),
        (
            {"type": "number", "minimum": 0, "maximum": 1.5, "exclusiveMaximum": 2},
            {"type": "NUMBER", "minimum": 0, "maximum": 1.5},
        ),
        (
            {"type": "array", "items": {"type": "boolean"}, "minItems": 1, "maxItems": 3},
            {"type": "ARRAY", "items": {"type": "BOOLEAN"}, "minItems": 1, "maxItems": 3},
        ),
        (
            {"properties": {"a": {"type": "string"}}},
            {"type": "OBJECT", "properties": {"a": {"type": "STRING"}}},
        ),
        ({"items": {"type": "string"}}, {"type": "ARRAY", "items": {"type": "STRING"}}),
        ({"type": "object"}, {"type": "OBJECT"}),
        (
            {"type": "object", "properties": {"free": True}},
            {"type": "OBJECT", "properties": {"free": {}}},
        ),
    ],
)
def test_to_gemini(json_schema: dict[str, Any], gemini: dict[str, Any]) -> None:
    assert to_gemini(json_schema) == gemini


def test_to_gemini_drops_unsupported_keywords() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "x",
        "title": "Args",
        "type": "object",
        "properties": {
            "a": {"type": "string", "default": "x", "examples": ["y"], "title": "A"},
        },
        "required": ["a", "ghost"],
        "additionalProperties": False,
        "patternProperties": {"^x": {}},
    }
    assert to_gemini(schema) == {
        "type": "OBJECT",
        "properties": {"a": {"type": "STRING"}},
        "required": ["a"],
    }


def test_to_gemini_inlines_refs() -> None:
    schema = {
        "type": "object",
        "properties": {
            "home": {"$ref": "#/$defs/Address", "description": "Where they live"},
            "work": {"$ref": "#/definitions/Address"},
            "nope": {"$ref": "#/$defs/Missing"},
        },
        "$defs": {
            "Address": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            }
        },
    }
    converted = to_gemini(schema)
    address = {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]}
    assert converted["properties"]["home"] == {**address, "description": "Where they live"}
    assert converted["properties"]["work"] == address
    assert converted["properties"]["nope"] == {"type": "OBJECT"}


def test_to_gemini_recursive_ref_stops() -> None:
    schema = {
        "$ref": "#/$defs/Node",
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
            }
        },
    }
    assert to_gemini(schema) == {
        "type": "OBJECT",
        "properties": {"children": {"type": "ARRAY", "items": {"type": "OBJECT"}}},
    }


def test_to_gemini_merges_all_of() -> None:
    schema = {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            {"$ref": "#/$defs/B"},
        ],
        "$defs": {"B": {"properties": {"b": {"type": "integer"}}, "required": ["b"]}},
    }
    assert to_gemini(schema) == {
        "type": "OBJECT",
        "properties": {"a": {"type": "STRING"}, "b": {"type": "INTEGER"}},
        "required": ["a", "b"],
    }


def test_to_gemini_does_not_touch_its_input() -> None:
    schema: dict[str, Any] = {"type": "object", "properties": {"a": {"type": ["string", "null"]}}}
    snapshot = repr(schema)
    to_gemini(schema)
    assert repr(schema) == snapshot


@pytest.mark.parametrize(
    ("gemini", "json_schema"),
    [
        ({"type": "STRING"}, {"type": "string"}),
        ({"type": "string", "nullable": True}, {"type": ["string", "null"]}),
        ({"nullable": True}, {"type": "null"}),
        (
            {"any_of": [{"type": "INTEGER"}], "nullable": True},
            {"anyOf": [{"type": "integer"}, {"type": "null"}]},
        ),
        (
            {"type": "ARRAY", "items": {"type": "NUMBER"}, "min_items": "2", "maxItems": 4},
            {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 4},
        ),
        (
            {
                "type": "OBJECT",
                "title": "T",
                "properties": {"a": {"type": "BOOLEAN", "default": True}},
                "required": ["a"],
                "propertyOrdering": ["a"],
                "example": {"a": True},
            },
            {
                "type": "object",
                "title": "T",
                "properties": {"a": {"type": "boolean", "default": True}},
                "required": ["a"],
            },
        ),
        ({"type": "TYPE_UNSPECIFIED", "description": "d"}, {"description": "d"}),
        ("not a schema", {}),
    ],
)
def test_from_gemini(gemini: Any, json_schema: dict[str, Any]) -> None:
    assert from_gemini(gemini) == json_schema
