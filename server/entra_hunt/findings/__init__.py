"""Result models (HuntResult, Finding, Evidence) and triage scoring."""
