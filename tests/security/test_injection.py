"""No parameter value can change a query's structure: property-based, over the whole catalogue.

Two halves, which together cover every string a caller can send:

1. The literal builders (``kql.string_literal``, ``kql.dynamic_strings``) under hostile text:
   Microsoft's parser shows each literal keeps a fixed query's syntax tree and decodes back
   to exactly the input (or the builder refuses a character Kusto cannot escape).
2. Every string parameter of every catalogue hunt (found from its parameters model) under
   hostile text, run through the real runner against a backend that records the query. A
   value is either refused with a message naming the parameter, before any query is sent,
   or the query that ran has the same shape as with a benign value (same text outside
   literal values, see ``shapes``) and carries the value only as its escaped literal. The
   most hostile accepted value of each parameter also goes to the parser: same syntax tree
   fingerprint, decoded literal equal to the (normalised) input.

Each half sends all its queries to the parser in one node process.
"""

from __future__ import annotations

import types
import typing
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from shapes import shape

from entra_hunt.backends.base import QueryRun
from entra_hunt.engine.schema import TABLES
from entra_hunt.errors import EntraHuntError
from entra_hunt.hunts import CATALOGUE, BackendName, Hunt
from entra_hunt.hunts.base import RenderedQuery
from entra_hunt.hunts.kql import dynamic_strings, string_literal
from entra_hunt.hunts.params import HuntParameters, parameter_error
from entra_hunt.runner import run_hunt
from kusto_parser import Analysis, analyse

pytestmark = pytest.mark.slow

NOW = datetime(2026, 11, 30, tzinfo=UTC)
EXAMPLES_PER_PARAMETER = 40
LITERAL_EXAMPLES = 150

FRAGMENTS = (
    '"',
    "'",
    "\\",
    '\\"',
    "\n",
    "\r",
    "\t",
    "|",
    ";",
    "//",
    "/*",
    "*/",
    "--",
    "#",
    "`",
    "```",
    '@"',
    'h"',
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "$",
    "let x = 1;",
    '" | take 1 //',
    "| project",
    "\u2028",
    "\u0085",
    "\u202e",
    "\u200b",
    "\ufeff",
    "é",
    "東京",
    "😀",
    "\x00",
    "\x1b[2J",
    " ",
)
#: How a refusal that was really a crash (not a clean validation error) is marked.
CRASH = "CRASHED "
#: Characters a user principal name may hold besides letters and digits.
UPN_SPECIALS = "'._!#^~+&-"

fragments = st.sampled_from(FRAGMENTS)
hostile_text = st.one_of(
    st.lists(st.one_of(fragments, st.text(max_size=4)), max_size=16).map("".join),
    st.text(st.characters(codec="utf-8"), max_size=120),
    st.tuples(fragments, st.integers(200, 3000)).map(lambda t: (t[0] * t[1])[: t[1]]),
)
#: Valid user principal names full of the characters that matter to KQL ('#&+).
_LOCAL_PART = rf"[A-Za-z0-9{UPN_SPECIALS.replace('-', '')}\-]{{1,40}}"
upn_like = st.from_regex(rf"{_LOCAL_PART}@[a-z0-9-]{{1,12}}(\.[a-z]{{2,6}}){{1,2}}", fullmatch=True)
#: Legal user principal names made mostly of the characters KQL cares about.
upn_specials = st.lists(
    st.sampled_from([*UPN_SPECIALS, "a", "Z", "7"]), min_size=1, max_size=40
).map(lambda chars: "".join(chars) + "@contoso.example")
near_misses = st.tuples(upn_like, fragments, st.integers(0, 60)).map(
    lambda t: t[0][: t[2]] + t[1] + t[0][t[2] :]
)
durations = st.from_regex(r"\s{0,2}\d{1,4}\s{0,2}[dhm]\s{0,2}", fullmatch=True)
zones = st.one_of(
    st.sampled_from(sorted(zoneinfo.available_timezones())),
    st.sampled_from(["../../etc/passwd", "/etc/localtime", "Europe/../UTC", "UTC\x00", "zone.tab"]),
)
tables = st.sampled_from(sorted(TABLES))
#: Tried on every string parameter besides the generated values, so each run covers them.
FIXED_PROBES = (
    *FRAGMENTS,
    *(fragment * 300 for fragment in FRAGMENTS if fragment.strip()),
    "A" * 10_000,
    "*/" * 200,
    " UTC ",
    "UTC\n",
    "Europe/Paris",
    "America/Argentina/Buenos_Aires",
    " 7d ",
    "o'neil#ext#@contoso.example",
    "x&y+z!^~@contoso.example",
    *TABLES,
)
#: Every string parameter gets the same mix: most is hostile, some happens to be valid.
any_string = st.one_of(hostile_text, upn_like, upn_specials, near_misses, durations, zones, tables)


# -- 1. the literal builders ---------------------------------------------------------------

UNESCAPABLE = {chr(c) for c in (*range(32), 127)} - {"\t", "\n", "\r"}
SCALAR_TEMPLATE = "let v = {};\nSigninLogs | where UserPrincipalName == v | take 1"
LIST_TEMPLATE = "let v = {};\nSigninLogs | where UserPrincipalName in~ (v) | take 1"


@dataclass
class LiteralProbes:
    scalars: list[str] = field(default_factory=list)
    lists: list[list[str]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def literal_probes() -> LiteralProbes:
    probes = LiteralProbes()

    @settings(max_examples=LITERAL_EXAMPLES, deadline=None, database=None, derandomize=True)
    @given(st.one_of(hostile_text, upn_like), st.lists(hostile_text, min_size=1, max_size=4))
    def explore(value: str, values: list[str]) -> None:
        try:
            string_literal(value)
        except ValueError:
            assert set(value) & UNESCAPABLE, repr(value)
            probes.refused.append(value)
        else:
            probes.scalars.append(value)
        if not any(set(v) & UNESCAPABLE for v in values):
            probes.lists.append(values)

    explore()
    return probes


@pytest.fixture(scope="module")
def literal_analyses(literal_probes: LiteralProbes) -> dict[str, Analysis]:
    queries = {"scalar-benign": SCALAR_TEMPLATE.format(string_literal("alice@contoso.example"))}
    queries["list-benign"] = LIST_TEMPLATE.format(dynamic_strings(["a@x.example", "b@x.example"]))
    for i, value in enumerate(literal_probes.scalars):
        queries[f"scalar-{i}"] = SCALAR_TEMPLATE.format(string_literal(value))
    for i, values in enumerate(literal_probes.lists):
        queries[f"list-{i}"] = LIST_TEMPLATE.format(dynamic_strings(values))
    return analyse(queries)


def test_hostile_text_was_generated_and_unescapable_characters_are_refused(
    literal_probes: LiteralProbes,
) -> None:
    assert len(literal_probes.scalars) > LITERAL_EXAMPLES // 2
    assert all(set(v) & UNESCAPABLE for v in literal_probes.refused)
    with pytest.raises(ValueError, match="U\\+0000"):
        string_literal("a\x00b")


def test_a_string_literal_never_changes_the_syntax_tree_and_decodes_to_its_input(
    literal_probes: LiteralProbes, literal_analyses: dict[str, Analysis]
) -> None:
    benign = literal_analyses["scalar-benign"]

    for i, value in enumerate(literal_probes.scalars):
        hostile = literal_analyses[f"scalar-{i}"]
        assert hostile.errors == (), hostile.report()
        assert hostile.fingerprint == benign.fingerprint, repr(value)
        assert [lit.value for lit in hostile.literals] == [value, "1"], repr(value)


def test_a_dynamic_array_keeps_its_structure_per_length_and_decodes_each_value(
    literal_probes: LiteralProbes, literal_analyses: dict[str, Analysis]
) -> None:
    by_length: dict[int, tuple[str, ...]] = {}

    for i, values in enumerate(literal_probes.lists):
        hostile = literal_analyses[f"list-{i}"]
        assert hostile.errors == (), hostile.report()
        assert [lit.value for lit in hostile.literals] == [*values, "1"], repr(values)
        assert by_length.setdefault(len(values), hostile.fingerprint) == hostile.fingerprint

    benign = literal_analyses["list-benign"]
    assert by_length.get(2, benign.fingerprint) == benign.fingerprint


# -- 2. every string parameter of every hunt -----------------------------------------------


class RecordingBackend:
    """A local backend that holds every table and records the queries it is asked to run."""

    name = BackendName.LOCAL
    dataset = "recording backend"
    reference_now = NOW

    def __init__(self) -> None:
        self.queries: list[RenderedQuery] = []

    async def available_tables(self) -> list[str]:
        return sorted(TABLES)

    async def run(self, query: RenderedQuery) -> QueryRun:
        self.queries.append(query)
        return QueryRun(table=query.table, rows=[])

    async def coverage_note(self, table: str) -> str | None:
        return None


@dataclass(frozen=True)
class Parameter:
    """One string-bearing parameter of one hunt, and a benign value for it."""

    hunt: Hunt
    name: str
    is_list: bool
    benign: object

    @property
    def id(self) -> str:
        return f"{self.hunt.id}.{self.name}"

    def value(self, text: str) -> object:
        return [text] if self.is_list else text


@dataclass(frozen=True)
class Outcome:
    """What one hostile value did: refused (and how), or the query it produced."""

    text: str
    refused: str = ""
    query: RenderedQuery | None = None
    validated: object = None


def _string_kinds(annotation: Any) -> set[str]:
    """'str' and/or 'list' when the annotation holds strings (``list[Upn] | None``...)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_string_kinds(a) for a in args))
    if origin is typing.Annotated:
        return _string_kinds(args[0])
    if origin is list:
        return {"list"} if _string_kinds(args[0]) else set()
    return {"str"} if annotation is str else set()


def _local_table(hunt: Hunt) -> str:
    return hunt.tables[BackendName.LOCAL][0]


def _attempt(parameter: Parameter, value: object) -> tuple[HuntParameters | str, RecordingBackend]:
    """Validate and run with ``value``: the parameters, or the refusal message."""
    backend = RecordingBackend()
    model = parameter.hunt.parameters
    arguments: dict[str, object] = {parameter.name: value}
    if parameter.name != "table":
        arguments["table"] = _local_table(parameter.hunt)
    try:
        params = model.model_validate(arguments)
    except ValidationError as exc:
        return parameter_error(exc, model).message, backend
    except Exception as exc:  # noqa: BLE001 - a crash is the finding; the test reports it
        return f"{CRASH}{type(exc).__name__}: {str(exc)[:200]}", backend
    try:
        anyio.run(run_hunt, parameter.hunt, params, backend)
    except EntraHuntError as exc:
        return exc.message, backend
    return params, backend


BENIGN_SAMPLES = ("alice@contoso.example", "UTC", "6h", "24h", "7d", "14d", "21d", *sorted(TABLES))


def string_parameters() -> list[Parameter]:
    """Every parameter of every catalogue hunt that takes a string or a list of strings.

    Each gets a benign value: the first sample that its model accepts and the runner runs.
    """
    found = []
    for hunt in CATALOGUE.values():
        for name, info in hunt.parameters.model_fields.items():
            kinds = _string_kinds(info.annotation)
            if not kinds:
                continue
            is_list = "list" in kinds
            for sample in BENIGN_SAMPLES:
                candidate = Parameter(hunt, name, is_list, [sample] if is_list else sample)
                if isinstance(_attempt(candidate, candidate.benign)[0], HuntParameters):
                    found.append(candidate)
                    break
            else:
                raise AssertionError(f"no benign sample runs as {hunt.id}.{name}")
    return found


PARAMETERS = string_parameters()


@dataclass
class ParameterProbes:
    baselines: dict[str, RenderedQuery] = field(default_factory=dict)
    outcomes: dict[str, list[Outcome]] = field(default_factory=dict)


@pytest.fixture(scope="module")
def parameter_probes() -> ParameterProbes:
    probes = ParameterProbes()
    for parameter in PARAMETERS:
        params, backend = _attempt(parameter, parameter.benign)
        assert isinstance(params, HuntParameters), (parameter.id, params)
        probes.baselines[parameter.id] = backend.queries[0]
        probes.outcomes[parameter.id] = _explore(parameter)
    return probes


def _explore(parameter: Parameter) -> list[Outcome]:
    outcomes: list[Outcome] = []

    @settings(
        max_examples=EXAMPLES_PER_PARAMETER,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(any_string)
    def probe(text: str) -> None:
        result, backend = _attempt(parameter, parameter.value(text))
        if isinstance(result, str):
            assert not backend.queries, "a refused value must not reach the backend"
            outcomes.append(Outcome(text, refused=result))
        else:
            [query] = backend.queries
            outcomes.append(Outcome(text, query=query, validated=getattr(result, parameter.name)))

    probe()
    for text in FIXED_PROBES:
        probe.hypothesis.inner_test(text)  # type: ignore[attr-defined]
    return outcomes


@pytest.mark.parametrize("parameter", PARAMETERS, ids=lambda p: p.id)
def test_a_refused_value_is_refused_before_any_query_naming_the_parameter(
    parameter_probes: ParameterProbes, parameter: Parameter
) -> None:
    refused = [o for o in parameter_probes.outcomes[parameter.id] if o.refused]

    crashes = [(o.text[:60], o.refused) for o in refused if o.refused.startswith(CRASH)]
    assert not crashes, f"validation raised instead of refusing: {crashes[:3]}"
    for outcome in refused:
        assert parameter.name in outcome.refused, (outcome.text, outcome.refused)
        assert "Traceback" not in outcome.refused


@pytest.mark.parametrize("parameter", PARAMETERS, ids=lambda p: p.id)
def test_an_accepted_value_changes_only_literal_values_of_the_query(
    parameter_probes: ParameterProbes, parameter: Parameter
) -> None:
    baseline = parameter_probes.baselines[parameter.id]
    benign_literals = _literals(parameter.benign)
    reaches_query = all(lit in baseline.text for lit in benign_literals)

    for outcome in parameter_probes.outcomes[parameter.id]:
        if outcome.query is None:
            continue
        if parameter.name == "table":
            assert outcome.text in parameter.hunt.tables[BackendName.LOCAL], repr(outcome.text)
            continue
        text = outcome.query.text
        same_table = outcome.query.table == baseline.table
        if same_table:
            assert shape(text) == shape(baseline.text), repr(outcome.text)
        if reaches_query:
            for literal in _literals(outcome.validated):
                assert literal in text, (repr(outcome.text), literal)


def test_user_principal_names_are_strict_yet_accept_every_legal_character(
    parameter_probes: ParameterProbes,
) -> None:
    users = [p for p in PARAMETERS if p.name == "users"]
    assert users, "every hunt takes users"

    for parameter in users:
        outcomes = parameter_probes.outcomes[parameter.id]
        accepted = [o for o in outcomes if o.query is not None]
        assert any(set(o.text) & set("'#&+") for o in accepted), "quotes and # reach KQL"
        for outcome in accepted:
            assert set(outcome.text) <= set(_UPN_ALPHABET), repr(outcome.text)
            assert outcome.validated == [outcome.text.lower()]


_UPN_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@" + UPN_SPECIALS


def _hostility(text: str) -> tuple[int, int]:
    return (sum(text.count(c) for c in "\"'\\|;#&/\n`@"), len(text))


@pytest.fixture(scope="module")
def parser_samples(
    parameter_probes: ParameterProbes,
) -> dict[str, tuple[Outcome, Analysis, Analysis]]:
    """The most hostile accepted value of each parameter, and its baseline, through the parser."""
    chosen: dict[str, Outcome] = {}
    for parameter in PARAMETERS:
        baseline = parameter_probes.baselines[parameter.id]
        accepted = [
            o
            for o in parameter_probes.outcomes[parameter.id]
            if o.query is not None and o.query.table == baseline.table
        ]
        if accepted:
            chosen[parameter.id] = max(accepted, key=lambda o: _hostility(o.text))
    texts = {o.query.text for o in chosen.values() if o.query}
    texts |= {parameter_probes.baselines[pid].text for pid in chosen}
    found = {a.text: a for a in analyse({f"q{i}": t for i, t in enumerate(texts)}).values()}
    return {
        pid: (outcome, found[outcome.query.text], found[parameter_probes.baselines[pid].text])
        for pid, outcome in chosen.items()
        if outcome.query
    }


@pytest.mark.parametrize("parameter", PARAMETERS, ids=lambda p: p.id)
def test_the_most_hostile_accepted_value_keeps_the_syntax_tree_and_decodes_exactly(
    parser_samples: dict[str, tuple[Outcome, Analysis, Analysis]], parameter: Parameter
) -> None:
    if parameter.name == "table":
        pytest.skip("a table name is chosen from the hunt's own list, never written into KQL")
    if parameter.id not in parser_samples:
        pytest.skip(f"no generated value of {parameter.id} was accepted")
    outcome, hostile, baseline = parser_samples[parameter.id]

    assert hostile.errors == (), hostile.report()
    assert hostile.fingerprint == baseline.fingerprint, repr(outcome.text)
    benign = _values(parameter.benign)
    before = _strings(baseline)
    if benign and all(b in before for b in benign):
        expected = _replace(before, benign, _values(outcome.validated))
        assert _strings(hostile) == expected, repr(outcome.text)


def _strings(analysis: Analysis) -> list[str]:
    """The decoded values of the query's string literals, in order."""
    return [lit.value for lit in analysis.literals if lit.kind == "StringLiteralToken"]


def _values(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _literals(value: object) -> list[str]:
    return [string_literal(v) for v in _values(value)]


def _replace(literals: list[str], old: list[str], new: list[str]) -> list[str]:
    replaced = list(literals)
    for before, after in zip(old, new, strict=True):
        replaced = [after if lit == before else lit for lit in replaced]
    return replaced
