"""The FlowJAX checkout: fetch and verify the sdist, make the checkout, judge it, record the kit's state in it."""
