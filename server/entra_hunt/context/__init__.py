"""Threat context served with hunt results: techniques, campaigns, references, actions."""
