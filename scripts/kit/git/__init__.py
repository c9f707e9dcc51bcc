"""Git, one function per git command: checked calls, the one patch engine, scratch index and worktree, refs."""
