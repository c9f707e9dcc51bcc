"""Reparameterized (pathwise) gradients of sampling.

With the key fixed, ``dist.sample(key)`` is a differentiable function of the
distribution's parameters. These tests pin that down, starting from the example in
https://github.com/danielward27/flowjax/issues/181.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import pytest

from flowjax.distributions import Normal


def test_normal_sample_gradient_issue_181():
    grad = eqx.filter_grad(lambda d, key: d.sample(key))(Normal(), key=jr.key(0))
    assert grad.bijection.loc == 1


# sample_shape -> how sampling is called
_normal_sample_cases = {
    "single": {"sample_shape": (), "jit": False},
    "batch": {"sample_shape": (5,), "jit": False},
    "jit": {"sample_shape": (), "jit": True},
    "batch-jit": {"sample_shape": (3, 2), "jit": True},
}


@pytest.mark.parametrize(
    "case",
    _normal_sample_cases.values(),
    ids=_normal_sample_cases.keys(),
)
def test_normal_scale_gradient_is_wrt_unconstrained(case):
    # Normal(loc, scale) samples loc + softplus(u) * z with z ~ N(0, 1), so for the
    # unconstrained scale u, d/du sum(x) = sum(z) * sigmoid(u).
    dist = Normal(jnp.array(0.5), jnp.array(2.0))
    key = jr.key(1)

    def total(d):
        return d.sample(key, case["sample_shape"]).sum()

    grad_fn = eqx.filter_grad(total)
    if case["jit"]:
        grad_fn = eqx.filter_jit(grad_fn)
    grad = grad_fn(dist)

    z = dist.base_dist.sample(key, case["sample_shape"])
    u = dist.bijection.scale.args[0]
    assert grad.bijection.loc == pytest.approx(z.size)
    assert grad.bijection.scale.args[0] == pytest.approx(z.sum() * jax.nn.sigmoid(u))
