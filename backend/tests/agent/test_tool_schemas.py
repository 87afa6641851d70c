"""The tool schemas the LLM and MCP clients read are generated from the argument models the tool
layer validates with (agent.tools.TOOLS): they must promise exactly what validation does.

For every tool the checks are derived from the generated schema itself, so a constraint added to
a model (or a new argument) is covered without touching this file: the required fields and the
enum choices are the model's; a value at a stated limit passes both the schema and the model; a
value beyond a limit, outside an enum, of the wrong type, or a missing required field fails both.
"""

from __future__ import annotations

import enum
import types
import typing
from typing import Any, Literal

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, Field, ValidationError

from todo_api.agent.tools import (
    TOOL_NAMES,
    TOOL_SPECS,
    TOOLS,
    AddTaskArgs,
    Tool,
    ToolBox,
    UpdateTaskArgs,
    openai_tools,
    tool_parameters,
)
from todo_api.schemas import Priority

BY_NAME = {tool.name: tool for tool in TOOLS}
SPECS = {spec["name"]: spec["parameters"] for spec in TOOL_SPECS}


def _accepts(model: type[BaseModel], arguments: dict[str, Any]) -> bool:
    try:
        model.model_validate(arguments)
    except ValidationError:
        return False
    return True


def _valid_value(prop: dict[str, Any]) -> Any:
    if "enum" in prop:
        return prop["enum"][0]
    if prop["type"] == "boolean":
        return True
    return "x" * max(prop.get("minLength", 1), 1)


def _minimal(params: dict[str, Any]) -> dict[str, Any]:
    return {name: _valid_value(params["properties"][name]) for name in params.get("required", [])}


def _samples(params: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Arguments the schema allows and arguments it refuses, one property varied at a time."""
    base = _minimal(params)
    allowed, refused = [base], []
    for name in params.get("required", []):
        refused.append({k: v for k, v in base.items() if k != name})
    for name, prop in params["properties"].items():

        def variant(value: Any, name: str = name) -> dict[str, Any]:
            return {**base, name: value}

        allowed.append(variant(_valid_value(prop)))
        refused.append(variant({"not": "a scalar"}))
        if "enum" in prop:
            allowed += [variant(choice) for choice in prop["enum"]]
            refused.append(variant("bogus"))
        if prop["type"] == "boolean":
            allowed += [variant(False), variant(True)]
            refused.append(variant("maybe"))
        if "maxLength" in prop:
            allowed.append(variant("x" * prop["maxLength"]))
            refused.append(variant("x" * (prop["maxLength"] + 1)))
        elif prop["type"] == "string" and "enum" not in prop:  # no limit stated: none enforced
            allowed.append(variant("x" * 100_000))
        if prop.get("minLength", 0) > 0:
            refused.append(variant(""))
    return allowed, refused


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: t.name)
def test_schema_and_validation_agree(tool: Tool) -> None:
    params = SPECS[tool.name]
    schema = Draft202012Validator(params)
    Draft202012Validator.check_schema(params)
    assert set(params["properties"]) == set(tool.args.model_fields)
    required = {name for name, f in tool.args.model_fields.items() if f.is_required()}
    assert set(params.get("required", [])) == required
    allowed, refused = _samples(params)
    for arguments in allowed:
        assert schema.is_valid(arguments), arguments
        assert _accepts(tool.args, arguments), arguments
    for arguments in refused:
        assert not schema.is_valid(arguments), arguments
        assert not _accepts(tool.args, arguments), arguments


def _choices(annotation: Any) -> set[str] | None:
    """The values a Literal or Enum annotation (possibly Optional) allows; None for free text."""
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return {member.value for member in annotation}
    if typing.get_origin(annotation) is Literal:
        return set(typing.get_args(annotation))
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        found = [_choices(a) for a in typing.get_args(annotation) if a is not type(None)]
        return found[0] if len(found) == 1 else None
    return None


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: t.name)
def test_enums_are_the_models_choices(tool: Tool) -> None:
    params = SPECS[tool.name]
    for name, field in tool.args.model_fields.items():
        assert set(params["properties"][name].get("enum", ())) == (
            _choices(field.annotation) or set()
        ), name


def _keys(node: Any) -> set[str]:
    """Every schema keyword used, below `properties` only the schemas (not the property names)."""
    if isinstance(node, list):
        return set().union(*(_keys(n) for n in node))
    if not isinstance(node, dict):
        return set()
    found = set(node)
    for key, value in node.items():
        found |= (
            set().union(*(_keys(v) for v in value.values()))
            if key == "properties"
            else _keys(value)
        )
    return found


def test_specs_are_what_providers_accept() -> None:
    """No $ref/$defs to resolve, no pydantic titles, no `anyOf [X, null]` (Groq refuses it)."""
    assert [spec["name"] for spec in TOOL_SPECS] == [tool.name for tool in TOOLS]
    assert TOOL_NAMES == set(BY_NAME)
    used = _keys([spec["parameters"] for spec in TOOL_SPECS])
    assert not used & {"$ref", "$defs", "anyOf", "oneOf", "allOf", "title"}
    for spec in TOOL_SPECS:
        assert spec["parameters"]["type"] == "object"
        # _Args ignores extra arguments, so the schema must not forbid them either.
        assert spec["parameters"].get("additionalProperties", True) is True
        assert _accepts(BY_NAME[spec["name"]].args, {**_minimal(spec["parameters"]), "extra": 1})
        for prop in spec["parameters"]["properties"].values():
            assert prop["type"] in {"string", "boolean"}
            assert prop.get("default", "") is not None
    assert openai_tools() == [{"type": "function", "function": spec} for spec in TOOL_SPECS]


def test_every_tool_has_its_method() -> None:
    for tool in TOOLS:
        assert callable(getattr(ToolBox, tool.name, None)), tool.name


def test_descriptions_come_from_the_models() -> None:
    specs = {name: params["properties"] for name, params in SPECS.items()}
    task_ref = 'The task\'s id (e.g. "12") or words from its title (e.g. "milk").'
    for name in ("complete_task", "reopen_task", "delete_task", "update_task"):
        assert specs[name]["task"] == {
            "type": "string",
            "minLength": 1,
            "maxLength": 200,
            "description": task_ref,
        }
    for name in ("complete_task", "delete_task", "clear_completed"):
        assert specs[name]["confirm"]["type"] == "boolean"
        assert "explicitly confirmed" in specs[name]["confirm"]["description"]
    for name in ("add_task", "update_task"):
        assert specs[name]["due_date"]["description"].startswith("Due date as YYYY-MM-DD")
        assert specs[name]["priority"] == {"type": "string", "enum": [p.value for p in Priority]}
    assert specs["add_task"]["title"]["description"] == "Short title, e.g. 'buy milk'."
    assert specs["update_task"]["title"]["description"] == "The new title."
    assert specs["list_tasks"]["due_on"]["description"].startswith("Only tasks due on this day")
    assert specs["list_tasks"]["query"]["description"] == "Words the title must contain."


def test_task_ids_as_numbers_are_accepted_though_the_schema_says_string() -> None:
    """Models often send {"task": 12}; the schema names the string form only, which every
    provider takes, and validation stays the more lenient side."""
    tool = BY_NAME["delete_task"]
    assert tool.args.model_validate({"task": 12}).model_dump()["task"] == "12"
    assert not _accepts(tool.args, {"task": 0})  # no task has id 0


def test_a_new_argument_is_one_line_in_its_model() -> None:
    """What the due-time argument will look like: its type, limit and description reach the
    schema with nothing else to edit."""

    class WithTime(AddTaskArgs):
        due_time: str | None = Field(default=None, max_length=20, description="HH:MM, 24-hour.")

    class UpdateWithTime(UpdateTaskArgs):
        due_time: str | None = Field(default=None, max_length=20, description="HH:MM, 24-hour.")

    for model in (WithTime, UpdateWithTime):
        params = tool_parameters(model)
        assert params["properties"]["due_time"] == {
            "type": "string",
            "maxLength": 20,
            "description": "HH:MM, 24-hour.",
        }
        assert "due_time" not in params.get("required", [])
