"""MCP prompts read from the top-level ``prompts/`` folder: investigation playbooks as text.

Each ``*.md`` file is one prompt: TOML front matter between ``+++`` lines (title,
description, ``[[arguments]]`` with name, description, and ``required = true`` or a
``default``), then the Markdown text, where ``{{name}}`` stands for an argument. The folder
is found in an installed wheel (``entra_hunt/prompts``) or, in a source checkout, at the
repository root. A malformed file stops the server from starting, naming the file and what
is wrong, so a broken prompt never ships silently.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.prompts.base import Prompt, PromptArgument

from entra_hunt.errors import DataError

__all__ = ["PromptFile", "load_prompts", "prompts_folder", "register"]

_FENCE = "+++"
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
#: Longest argument value a prompt takes in, after control characters are removed.
VALUE_CAP = 2_000


@dataclass(frozen=True)
class PromptArgumentSpec:
    """One declared argument of a prompt file."""

    name: str
    description: str
    required: bool
    default: str


@dataclass(frozen=True)
class PromptFile:
    """A parsed prompt file."""

    name: str
    title: str
    description: str
    arguments: tuple[PromptArgumentSpec, ...]
    body: str

    def render(self, values: dict[str, str]) -> str:
        """The prompt text with each ``{{name}}`` replaced by its value or default."""
        unknown = set(values) - {a.name for a in self.arguments}
        if unknown:
            raise ValueError(f"unknown argument(s) {', '.join(sorted(unknown))}")
        filled = {a.name: _clean(values.get(a.name, a.default)) for a in self.arguments}
        return _PLACEHOLDER.sub(lambda m: filled[m.group(1)], self.body)


def _clean(value: str) -> str:
    text = "".join(ch if ch in "\n\t" or ord(ch) >= 32 else " " for ch in str(value))
    return text[:VALUE_CAP]


def prompts_folder() -> Traversable:
    """The prompts folder: the installed copy, else the source checkout's."""
    installed = resources.files("entra_hunt").joinpath("prompts")
    if installed.is_dir():
        return installed
    source = Path(__file__).resolve().parents[3] / "prompts"
    if source.is_dir():
        return source
    raise DataError(
        "the prompts folder is missing",
        where=f"{installed} and {source}",
        fix="Reinstall entra-hunt (the wheel carries entra_hunt/prompts)",
    )


def parse_prompt(name: str, text: str, where: str) -> PromptFile:
    """One prompt file's text as a :class:`PromptFile`; DataError naming ``where`` if bad."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != _FENCE:
        raise DataError("no front matter", where=where, fix=f"Open the file with a {_FENCE} line")
    try:
        closing = next(i for i in range(1, len(lines)) if lines[i].strip() == _FENCE)
    except StopIteration:
        raise DataError(
            "the front matter is not closed", where=where, fix=f"Close it with a {_FENCE} line"
        ) from None
    try:
        meta: dict[str, Any] = tomllib.loads("".join(lines[1:closing]))
    except tomllib.TOMLDecodeError as exc:
        raise DataError(
            f"the front matter is not TOML ({exc})", where=where, fix="Correct the TOML"
        ) from None
    body = "".join(lines[closing + 1 :]).strip() + "\n"

    arguments = []
    for entry in meta.get("arguments", []):
        required = bool(entry.get("required", False))
        if not required and "default" not in entry:
            raise DataError(
                f"argument {entry.get('name')!r} has neither required = true nor a default",
                where=where,
                fix="Give it one of the two",
            )
        arguments.append(
            PromptArgumentSpec(
                name=str(entry["name"]),
                description=str(entry.get("description", "")),
                required=required,
                default=str(entry.get("default", "")),
            )
        )
    declared = {a.name for a in arguments}
    used = set(_PLACEHOLDER.findall(body))
    if used - declared:
        raise DataError(
            f"placeholder(s) {', '.join(sorted(used - declared))} are not declared arguments",
            where=where,
            fix="Declare them under [[arguments]] or remove them",
        )
    if not meta.get("title") or not meta.get("description"):
        raise DataError("title or description is missing", where=where, fix="Add both")
    return PromptFile(
        name=name,
        title=str(meta["title"]),
        description=str(meta["description"]),
        arguments=tuple(arguments),
        body=body,
    )


def load_prompts(folder: Traversable | None = None) -> list[PromptFile]:
    """Every prompt file of ``folder`` (default :func:`prompts_folder`), by name."""
    root = folder or prompts_folder()
    found = []
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".md") or entry.name.lower() == "readme.md":
            continue
        name = entry.name.removesuffix(".md")
        found.append(parse_prompt(name, entry.read_text(encoding="utf-8"), str(entry)))
    return found


def _as_prompt(prompt: PromptFile) -> Prompt:
    def render(**values: str) -> str:
        return prompt.render(values)

    return Prompt(
        name=prompt.name,
        title=prompt.title,
        description=prompt.description,
        arguments=[
            PromptArgument(
                name=a.name,
                description=a.description + ("" if a.required else f" Default: {a.default}."),
                required=a.required,
            )
            for a in prompt.arguments
        ],
        fn=render,
        context_kwarg=None,
    )


def register(server: MCPServer) -> None:
    """Add every prompt of the prompts folder to ``server``."""
    for prompt in load_prompts():
        server.add_prompt(_as_prompt(prompt))
