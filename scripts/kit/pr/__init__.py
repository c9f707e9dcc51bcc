"""`make pr`: each PR's branch as the contributor, its body, and the commands to open it."""
