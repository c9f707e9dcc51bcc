"""The patch series and its model: the patches, `series`, the stack of PRs, the pin, sources, drift, issues."""
