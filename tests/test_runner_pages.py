"""The output budget: summary first, findings up to a cap, and a next page to get the rest."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from entra_hunt import runner
from entra_hunt.backends.local import LocalBackend
from entra_hunt.findings.models import HuntResult
from entra_hunt.hunts import CATALOGUE

HUNT = CATALOGUE["device-code-first-use"]


def _run(**arguments: object) -> HuntResult:
    params = HUNT.parameters.model_validate({"lookback": "7d", **arguments})
    backend = LocalBackend(Path("/nonexistent/entra-hunt-tests/absent.duckdb"))
    return anyio.run(runner.run_hunt, HUNT, params, backend)


def test_pages_follow_each_other_through_next_page_and_cover_every_finding() -> None:
    everything = _run(max_findings=500)
    pages = [_run(max_findings=4)]
    while pages[-1].next_page is not None:
        pages.append(_run(**pages[-1].next_page))

    paged = [f.id for page in pages for f in page.findings]

    assert paged == [f.id for f in everything.findings]
    assert len(pages) == -(-everything.rows_matched // 4)
    assert pages[0].findings_truncated and not pages[-1].findings_truncated
    assert all(p.summary == everything.summary for p in pages), "the summary counts all"
    assert any("next_page" in note for note in pages[0].notes)
    assert pages[1].offset == 4 and pages[1].window == pages[0].window


def test_the_character_budget_cuts_findings_before_max_findings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runner, "FINDINGS_BUDGET", 5_000)

    result = _run(max_findings=500)

    assert 1 <= len(result.findings) < result.rows_matched
    assert result.findings_truncated and result.next_page is not None
    assert result.next_page["offset"] == len(result.findings)


def test_an_offset_past_the_end_returns_no_findings_and_says_so() -> None:
    result = _run(offset=400)

    assert result.findings == [] and result.rows_matched > 0
    assert any("past the last" in note for note in result.notes)
