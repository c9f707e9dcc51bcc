"""Kit-side sentinels: run against the checkout by the kit; no patch carries them upstream.

They pin what the docs PR claims and what the gradient tests leave out, so that the kit
notices when upstream changes it (`make test`, `make matrix`, `make envs`, `make bump`):

- the limitations the docs name: Uniform's bounds and VmapMixture's weights get no
  pathwise gradient, although the expectation depends on them;
- the implicitly reparameterized distributions the docs name do get gradients;
- the default planar flow cannot sample;
- every public distribution and flow has a case in upstream's dicts, or a stated reason
  why not;
- every flow that samples through a NumericalInverse has a case in the sample gradient
  test of test_flows.py, and the flows without one are listed with the reason.

Run from the checkout's root with its pytest config (`--rootdir`, `-c`), so that
`tests.test_distributions` and `tests.test_flows` import from the checkout.
"""

import inspect

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import pytest

import flowjax.distributions
import flowjax.flows
from flowjax.bijections import Invert, NumericalInverse
from flowjax.distributions import (
    AbstractDistribution,
    Beta,
    Gamma,
    Normal,
    StandardNormal,
    StudentT,
    Uniform,
    VmapMixture,
)
from flowjax.flows import planar_flow

KEY = jr.key(0)

# Public distributions with no case in upstream's _test_distributions, and why.
NOT_IN_TEST_DISTRIBUTIONS = {
    "MultivariateNormal": "has no scalar shape",
    "Transformed": "every case of _test_distributions and of testcases is one",
}
# Flows with no case in test_flow_sample_gradient, and why.
NO_SAMPLE_GRADIENT_CASE = {
    "coupling_flow": "no FlowJAX derivative rule on its sampling path",
    "masked_autoregressive_flow": "no FlowJAX derivative rule on its sampling path",
    "planar_flow": "no FlowJAX derivative rule on its sampling path",
}


def test_uniform_bounds_get_no_gradient():
    # The docs: "the bounds of Uniform, which are not trainable".
    dist = Uniform(jnp.array(-1.0), jnp.array(2.0))
    grad = eqx.filter_grad(lambda d: d.sample(KEY, (100,)).sum())(dist)
    assert all(jnp.all(leaf == 0) for leaf in jax.tree.leaves(grad))
    # ... while the samples depend on them: a limitation, not a parameter without effect.
    assert jnp.all(Uniform(-0.5, 2.0).sample(KEY, (100,)) > dist.sample(KEY, (100,)))


def test_vmap_mixture_weights_get_no_gradient():
    # The docs: "the weights of a VmapMixture, as the component is a discrete draw".
    normals = eqx.filter_vmap(Normal)(jnp.array([-1.0, 2.0]))
    mixture = VmapMixture(normals, weights=jnp.array([0.3, 0.7]))
    grad = eqx.filter_grad(lambda d: d.sample(KEY, (100,)).sum())(mixture)
    assert jnp.all(grad.log_normalized_weights.args[0] == 0)
    assert jnp.any(grad.dist.bijection.loc != 0)  # the components' parameters do get one
    # ... while the samples depend on the weights.
    mostly_first = VmapMixture(normals, weights=jnp.array([0.9, 0.1]))
    assert mostly_first.sample(KEY, (100,)).mean() < mixture.sample(KEY, (100,)).mean() - 1


@pytest.mark.parametrize("dist", [Gamma(2.0, 3.0), Beta(2.0, 3.0), StudentT(8.0)], ids=["Gamma", "Beta", "StudentT"])
def test_implicitly_reparameterized_distributions_get_gradients(dist):
    # The docs: "Gamma, Beta and StudentT are differentiated implicitly".
    grad = eqx.filter_grad(lambda d: d.sample(KEY, (100,)).sum())(dist)
    leaves = jax.tree.leaves(grad)
    assert leaves
    assert all(jnp.all(jnp.isfinite(leaf)) and jnp.any(leaf != 0) for leaf in leaves)


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


def test_every_distribution_is_in_test_distributions():
    from tests.test_distributions import _test_distributions

    ids = {param.id for param in _test_distributions}
    missing = sorted(public_distributions() - ids - set(NOT_IN_TEST_DISTRIBUTIONS))
    assert not missing, f"no case in _test_distributions: {missing}"
    stale = sorted(set(NOT_IN_TEST_DISTRIBUTIONS) & ids)
    assert not stale, f"now in _test_distributions; drop from NOT_IN_TEST_DISTRIBUTIONS: {stale}"


def test_every_flow_is_in_testcases():
    from tests.test_flows import testcases

    flows = {
        name
        for name, obj in vars(flowjax.flows).items()
        if inspect.isfunction(obj) and obj.__module__ == "flowjax.flows" and not name.startswith("_")
    }
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
    from tests.test_flows import _sample_gradient_testcases, testcases

    flows = {
        name
        for name, obj in vars(flowjax.flows).items()
        if inspect.isfunction(obj) and obj.__module__ == "flowjax.flows" and not name.startswith("_")
    }
    numerical = {
        name
        for make in testcases.values()
        if samples_through_numerical_inverse(make(None))
        for name in flow_functions(make)
    }
    assert numerical, "no upstream flow case samples through a NumericalInverse"
    covered = set()
    for make in _sample_gradient_testcases.values():
        flow = make()
        assert isinstance(flow.bijection, Invert)  # samples through the inverses
        covered |= flow_functions(make)
    missing = sorted(numerical - covered)
    assert not missing, f"sample through a NumericalInverse but have no sample gradient case: {missing}"
    unexplained = sorted(flows - covered - set(NO_SAMPLE_GRADIENT_CASE))
    assert not unexplained, f"no sample gradient case and no reason in NO_SAMPLE_GRADIENT_CASE: {unexplained}"
    stale = sorted(set(NO_SAMPLE_GRADIENT_CASE) & (covered | numerical))
    assert not stale, f"covered, or sample through a NumericalInverse; drop from NO_SAMPLE_GRADIENT_CASE: {stale}"
