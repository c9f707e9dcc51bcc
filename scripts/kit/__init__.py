"""FlowJAX reparameterization patch kit: apply, test and export an upstream patch series."""
