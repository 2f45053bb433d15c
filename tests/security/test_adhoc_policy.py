"""The run_kql policy agrees with Microsoft's parser: what it accepts reaches no forbidden KQL.

``hunts.adhoc.check_adhoc`` reads an assistant's own query with strings and comments blanked
out, then refuses forbidden words. If its idea of where a string or a comment ends differs
from Kusto's, a forbidden operator can hide in what it thinks is a string. Each probe here
hides ``externaldata`` (or another forbidden construct) behind one of KQL's literal and
comment forms; whenever the policy accepts a probe, Kusto.Language must not see the construct
in the syntax tree. All probes go through one node process.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kusto_parser import Analysis, analyse

adhoc = pytest.importorskip("entra_hunt.hunts.adhoc")

pytestmark = pytest.mark.slow

FORBIDDEN = ' | union (externaldata(x:string) [@"https://evil.example/x"])'
#: Syntax kinds the policy exists to keep out of a query.
FORBIDDEN_KINDS = (
    ":ExternalDataExpression",
    ":EvaluateOperator",
    ":SetOptionStatement",
)
#: Ways to open a string or comment that one reader may close where the other does not.
OPENERS = {
    "verbatim_backslash": '| where UserPrincipalName == @"C:\\"',
    "verbatim_single_backslash": "| where UserPrincipalName == @'C:\\'",
    "obfuscated_verbatim": '| where UserPrincipalName == h@"C:\\"',
    "obfuscated": '| where UserPrincipalName == h"x\\"',
    "doubled_quote": '| where UserPrincipalName == @"a""b"',
    "multiline": "| where UserPrincipalName == ```x\\```",
    "tilde_multiline": "| where UserPrincipalName == ~~~x\\~~~",
    "comment_to_cr": "// note\r",
    "comment_to_line_separator": "// note\u2028",
    "comment_to_paragraph_separator": "// note\u2029",
    "comment_to_next_line": "// note\u0085",
    "comment_to_lf": "// note\n",
}
CLOSERS = ("", ' //"', " //'", " // ```")


def _probe(opener: str, closer: str) -> str:
    return f"SigninLogs {opener}{FORBIDDEN}{closer}"


def _accepted(query: str) -> bool:
    try:
        adhoc.check_adhoc(query)
    except adhoc.ParameterError:
        return False
    return True


def _forbidden(analysis: Analysis) -> list[str]:
    return [entry for entry in analysis.fingerprint if entry.endswith(FORBIDDEN_KINDS)]


@pytest.fixture(scope="module")
def probes() -> dict[str, str]:
    found = {
        f"{name}{index}": _probe(opener, closer)
        for name, opener in OPENERS.items()
        for index, closer in enumerate(CLOSERS)
    }

    @settings(max_examples=60, deadline=None, database=None, derandomize=True)
    @given(
        st.lists(st.sampled_from(list(OPENERS.values())), min_size=1, max_size=3),
        st.sampled_from(CLOSERS),
    )
    def combine(openers: list[str], closer: str) -> None:
        found[f"mix{len(found)}"] = _probe(" ".join(openers), closer)

    combine()
    return found


@pytest.fixture(scope="module")
def analyses(probes: dict[str, str]) -> dict[str, Analysis]:
    return analyse(probes)


def test_every_probe_really_carries_the_forbidden_operator_for_kusto(
    probes: dict[str, str], analyses: dict[str, Analysis]
) -> None:
    unrealistic = [name for name in probes if not _forbidden(analyses[name])]

    # A probe Kusto reads without the operator tests nothing; most must carry it.
    assert len(unrealistic) < len(probes) // 2, unrealistic


def test_the_policy_refuses_every_query_in_which_kusto_sees_a_forbidden_operator(
    probes: dict[str, str], analyses: dict[str, Analysis]
) -> None:
    bypasses = [
        f"{name}: {query!r}"
        for name, query in probes.items()
        if _forbidden(analyses[name]) and _accepted(query)
    ]

    assert not bypasses, "run_kql's policy accepts:\n" + "\n".join(bypasses[:10])
