"""Thin Click commands, one per stage: read params, call pure functions, write outputs."""
