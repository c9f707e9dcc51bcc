"""Proof: the stages of `make test`, which tests to run, pytest and its tallies, docs, the reproducer, ruff."""
