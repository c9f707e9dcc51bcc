"""Other random streams: JAX's other PRNGs (`make streams`), fresh seed offsets (`make flake`), the plugin."""
