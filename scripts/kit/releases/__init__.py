"""FlowJAX releases: `make matrix` over several of them, and the sha256 of each sdist the kit has used."""
