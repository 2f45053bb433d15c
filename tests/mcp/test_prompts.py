"""The prompts, read from prompts/ and served over MCP, each rendered with its arguments."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer

from entra_hunt.errors import DataError
from entra_hunt.mcp.prompts import load_prompts, parse_prompt, prompts_folder

pytestmark = pytest.mark.anyio

ARGUMENTS = {
    "investigate-device-code-alert": {
        "user": "camille.martin@contosopharma.example",
        "time": "2026-11-24T09:12:54Z",
        "backend": "sentinel",
    },
    "incident-ticket-summary": {"hunt_id": "broker-chain", "ticket": "INC-4711"},
    "weekly-device-code-review": {"timezone": "Europe/Paris"},
}


async def test_every_prompt_is_listed_with_its_arguments(server: MCPServer) -> None:
    async with Client(server) as client:
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}

    assert set(prompts) == set(ARGUMENTS)
    for prompt in prompts.values():
        assert prompt.description and prompt.title
        assert all(a.description for a in prompt.arguments or [])
    required = {
        a.name for a in prompts["investigate-device-code-alert"].arguments or [] if a.required
    }
    assert required == {"user", "time"}


@pytest.mark.parametrize("name", sorted(ARGUMENTS))
async def test_each_prompt_renders_with_its_arguments(server: MCPServer, name: str) -> None:
    async with Client(server) as client:
        rendered = await client.get_prompt(name, ARGUMENTS[name])

    [message] = rendered.messages
    text = message.content.text  # type: ignore[union-attr]
    assert message.role == "user"
    assert "{{" not in text
    for value in ARGUMENTS[name].values():
        assert value in text
    assert "attacker-controlled" in text


async def test_defaults_fill_the_arguments_not_given(server: MCPServer) -> None:
    async with Client(server) as client:
        rendered = await client.get_prompt(
            "investigate-device-code-alert", {"user": "a@b.example", "time": "2026-11-24T09:00Z"}
        )

    text = rendered.messages[0].content.text  # type: ignore[union-attr]
    assert "- Backend: local" in text and "- Alert: (none given)" in text


async def test_a_missing_required_argument_is_an_error(server: MCPServer) -> None:
    from mcp.shared.exceptions import MCPError

    async with Client(server) as client:
        with pytest.raises(MCPError) as refused:
            await client.get_prompt("investigate-device-code-alert", {"user": "a@b.example"})
        still = await client.get_prompt("weekly-device-code-review", {})

    assert "Traceback" not in str(refused.value)
    assert still.messages, "the server keeps serving prompts"


def test_the_prompts_folder_is_found_in_the_source_checkout() -> None:
    folder = prompts_folder()

    assert Path(str(folder)).resolve() == (Path(__file__).parents[2] / "prompts").resolve()
    assert len(load_prompts(folder)) == len(ARGUMENTS)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("no front matter\n", "no front matter"),
        ('+++\ntitle = "t"\n', "not closed"),
        ('+++\ntitle = "t"\ndescription = "d"\n+++\nHello {{who}}\n', "not declared"),
        (
            '+++\ntitle = "t"\ndescription = "d"\n[[arguments]]\nname = "x"\n+++\n{{x}}\n',
            "neither required",
        ),
        ("+++\ntitle = \n+++\nbody\n", "not TOML"),
    ],
)
def test_a_malformed_prompt_file_is_refused_naming_the_file(text: str, problem: str) -> None:
    with pytest.raises(DataError) as refused:
        parse_prompt("broken", text, "prompts/broken.md")

    assert problem in refused.value.message and "prompts/broken.md" in refused.value.message


def test_argument_values_cannot_inject_control_characters_or_unknown_arguments() -> None:
    prompt = parse_prompt(
        "p",
        '+++\ntitle = "t"\ndescription = "d"\n[[arguments]]\nname = "x"\nrequired = true\n'
        "+++\nvalue: {{x}}\n",
        "p.md",
    )

    assert prompt.render({"x": "a\x1b[31mb"}) == "value: a [31mb\n"
    with pytest.raises(ValueError, match="unknown"):
        prompt.render({"x": "1", "y": "2"})
