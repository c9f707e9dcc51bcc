"""Python environments: the locked `.venv`, the interpreters found, and `make envs` over upstream's CI environments."""
