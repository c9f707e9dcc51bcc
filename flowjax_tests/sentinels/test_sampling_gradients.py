"""Kit-side sentinels of sampling gradients and coverage; no patch carries them upstream.

They pin what the gradient tests leave out, so that the kit notices when upstream or JAX
changes it (`make test`, `make matrix`, `make envs`, `make bump`):

- the default planar flow cannot sample;
- every public distribution and flow has a case in upstream's dicts, or a stated reason
  why not;
- every flow that samples through a NumericalInverse has a case in the sample gradient
  test of test_flows.py; every flow's sampling gradients, in both directions (invert=True
  samples through the inverses, invert=False through transform), are checked here with
  that test's oracle where upstream's cases do not reach them.

Run from the checkout's root with its pytest config (`--rootdir`, `-c`), so that
`tests.test_distributions` and `tests.test_flows` import from the checkout.
"""

import inspect

import flowjax.distributions
import flowjax.flows
import jax
import jax.random as jr
import pytest
from flowjax.bijections import Affine, Invert, NumericalInverse
from flowjax.distributions import (
    AbstractDistribution,
    StandardNormal,
)
from flowjax.flows import (
    block_neural_autoregressive_flow,
    coupling_flow,
    masked_autoregressive_flow,
    planar_flow,
    triangular_spline_flow,
)

KEY = jr.key(0)

# Public distributions with no case in upstream's _test_distributions, and why.
NOT_IN_TEST_DISTRIBUTIONS = {
    "MultivariateNormal": "has no scalar shape",
    "Transformed": "every case of _test_distributions and of testcases is one",
}
# Flows with no case in test_flow_sample_gradient, and why.
NO_SAMPLE_GRADIENT_CASE = {
    "coupling_flow": "no FlowJAX derivative rule on its sampling path (KIT_SAMPLE_GRADIENT_CASES)",
    "masked_autoregressive_flow": "no FlowJAX derivative rule on its sampling path (KIT_SAMPLE_GRADIENT_CASES)",
    "planar_flow": "no FlowJAX derivative rule on its sampling path (KIT_SAMPLE_GRADIENT_CASES)",
}


def _flow_cases():
    """Sampling gradient cases upstream's test leaves out: each flow, each direction."""
    from tests.test_flows import DIM, KWARGS

    conditional = KWARGS | {"cond_dim": 2}
    cases = {
        "BNAF-invert-False": lambda: block_neural_autoregressive_flow(**conditional, invert=False),
        "triangular_spline_flow-invert-False": lambda: triangular_spline_flow(**conditional, invert=False),
        "planar_flow-invert-False": lambda: planar_flow(**conditional, invert=False, width_size=5, depth=1),
        "planar_flow-leaky-relu-invert-True": lambda: planar_flow(
            **conditional, negative_slope=0.1, width_size=5, depth=1
        ),
    }
    for invert in [True, False]:
        cases[f"coupling_flow-invert-{invert}"] = lambda invert=invert: coupling_flow(
            **conditional, transformer=Affine(), invert=invert
        )
        cases[f"masked_autoregressive_flow-invert-{invert}"] = lambda invert=invert: (
            masked_autoregressive_flow(**conditional, transformer=Affine(), invert=invert)
        )
    assert DIM == 3  # the cases are built like upstream's
    return cases


KIT_SAMPLE_GRADIENT_CASES = [
    "BNAF-invert-False",
    "triangular_spline_flow-invert-False",
    "coupling_flow-invert-True",
    "coupling_flow-invert-False",
    "masked_autoregressive_flow-invert-True",
    "masked_autoregressive_flow-invert-False",
    "planar_flow-invert-False",
    "planar_flow-leaky-relu-invert-True",
]


def test_default_planar_flow_cannot_sample():
    flow = planar_flow(KEY, base_dist=StandardNormal((3,)), flow_layers=1, width_size=5, depth=1)
    with pytest.raises(NotImplementedError, match="leaky relu"):
        flow.sample(KEY)


def public_distributions() -> set[str]:
    """Concrete distribution classes defined in flowjax.distributions."""
    return {
        name
        for name, obj in vars(flowjax.distributions).items()
        if not name.startswith("_")
        and inspect.isclass(obj)
        and obj.__module__ == "flowjax.distributions"
        and issubclass(obj, AbstractDistribution)
        and not inspect.isabstract(obj)
        and not getattr(obj, "__abstractvars__", None)
    }


def public_flows() -> set[str]:
    """The flow functions defined in flowjax.flows."""
    return {
        name
        for name, obj in vars(flowjax.flows).items()
        if inspect.isfunction(obj) and obj.__module__ == "flowjax.flows" and not name.startswith("_")
    }


def test_every_distribution_is_in_test_distributions():
    from tests.test_distributions import _test_distributions

    ids = {param.id for param in _test_distributions}
    missing = sorted(public_distributions() - ids - set(NOT_IN_TEST_DISTRIBUTIONS))
    assert not missing, f"no case in _test_distributions: {missing}"
    stale = sorted(set(NOT_IN_TEST_DISTRIBUTIONS) & ids)
    assert not stale, f"now in _test_distributions; drop from NOT_IN_TEST_DISTRIBUTIONS: {stale}"


def test_every_flow_is_in_testcases():
    from tests.test_flows import testcases

    flows = public_flows()
    used = {name for make in testcases.values() for name in make.__code__.co_names}
    assert not sorted(flows - used), f"flows with no case in testcases: {sorted(flows - used)}"


def flow_functions(make) -> set[str]:
    """The flow functions a case's constructor calls."""
    return set(make.__code__.co_names) & set(vars(flowjax.flows))


def samples_through_numerical_inverse(flow) -> bool:
    """Whether sampling inverts a NumericalInverse (an inverted flow containing one)."""
    is_numerical = lambda node: isinstance(node, NumericalInverse)  # noqa: E731
    return isinstance(flow.bijection, Invert) and any(
        is_numerical(node) for node in jax.tree.leaves(flow.bijection, is_leaf=is_numerical)
    )


def test_every_flow_sampling_through_a_numerical_inverse_has_a_sample_gradient_case():
    from tests.test_flows import sample_gradient_testcases, testcases

    flows = public_flows()
    numerical = {
        name
        for make in testcases.values()
        if samples_through_numerical_inverse(make(None))
        for name in flow_functions(make)
    }
    assert numerical, "no upstream flow case samples through a NumericalInverse"
    covered = set()
    for make in sample_gradient_testcases.values():
        flow = make()
        assert isinstance(flow.bijection, Invert)  # samples through the inverses
        covered |= flow_functions(make)
    missing = sorted(numerical - covered)
    assert not missing, f"sample through a NumericalInverse but have no sample gradient case: {missing}"
    unexplained = sorted(flows - covered - set(NO_SAMPLE_GRADIENT_CASE))
    assert not unexplained, f"no sample gradient case and no reason in NO_SAMPLE_GRADIENT_CASE: {unexplained}"
    stale = sorted(set(NO_SAMPLE_GRADIENT_CASE) & (covered | numerical))
    assert not stale, (
        f"covered, or sample through a NumericalInverse; drop from NO_SAMPLE_GRADIENT_CASE: {stale}"
    )


@pytest.mark.parametrize("name", KIT_SAMPLE_GRADIENT_CASES)
def test_flow_sample_gradient_beyond_upstream_cases(name, monkeypatch):
    # Upstream's test_flow_sample_gradient (its oracle: central differences at two step
    # sizes, parameters and condition) on the flows and directions its cases leave out,
    # so that a gradient FlowJAX drops there (as in #176) still fails here.
    import tests.test_flows

    cases = _flow_cases()
    assert sorted(cases) == sorted(KIT_SAMPLE_GRADIENT_CASES)
    monkeypatch.setitem(tests.test_flows.sample_gradient_testcases, name, cases[name])
    tests.test_flows.test_flow_sample_gradient(name)


def test_every_flow_has_sample_gradient_cases_in_both_directions():
    from tests.test_flows import sample_gradient_testcases

    flows = public_flows()
    checked = {
        (function, isinstance(make().bijection, Invert))
        for make in sample_gradient_testcases.values()
        for function in flow_functions(make)
    }
    checked |= {
        (
            name.split("-")[0].replace("BNAF", "block_neural_autoregressive_flow"),
            isinstance(make().bijection, Invert),
        )
        for name, make in _flow_cases().items()
    }
    missing = sorted((f, invert) for f in flows for invert in [True, False] if (f, invert) not in checked)
    assert not missing, f"(flow, invert) with no sample gradient case: {missing}"
