"""Mutation testing: the catalogue of gradient-breaking edits, the report that runs them, its probe."""
