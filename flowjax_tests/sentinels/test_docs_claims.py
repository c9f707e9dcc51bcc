"""Kit-side sentinels of the docs PR's claims; no patch carries them upstream.

They pin what the docs PR says (in getting_started.rst and the docstrings of Uniform,
VmapMixture, Gamma, Beta and StudentT), so that the kit notices when upstream or JAX
changes it (`make test`, `make matrix`, `make envs`, `make bump`):

- Uniform's bounds are non-trainable, so their gradients are zero, although the samples
  depend on them;
- VmapMixture's weights are not reparameterized: the pathwise gradient is zero although
  the samples depend on them, while log_prob does give them a gradient, and ElboLoss's
  gradients for them are zero in expectation;
- Gamma's concentration gradient is the implicit reparameterization gradient (exact, for
  every draw); Beta's and StudentT's gradients through their gamma draws are unbiased.

Run from the checkout's root with its pytest config (`--rootdir`, `-c`).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import pytest
from flowjax.distributions import Beta, Gamma, Normal, StudentT, Uniform, VmapMixture
from flowjax.train.losses import ElboLoss
from jax.scipy.special import gammainc
from jax.scipy.stats import gamma

KEY = jr.key(0)


def test_uniform_bounds_get_no_gradient():
    # The docstring: the bounds are not trainable, so their gradients are zero.
    dist = Uniform(jnp.array(-1.0), jnp.array(2.0))
    grad = eqx.filter_grad(lambda d: d.sample(KEY, (100,)).sum())(dist)
    assert all(jnp.all(leaf == 0) for leaf in jax.tree.leaves(grad))
    # ... while the samples depend on them: a limitation, not a parameter without effect.
    assert jnp.all(Uniform(-0.5, 2.0).sample(KEY, (100,)) > dist.sample(KEY, (100,)))


def test_vmap_mixture_weights_are_not_reparameterized():
    # The docs: the weights' pathwise gradient is zero; use a log_prob objective.
    normals = eqx.filter_vmap(Normal)(jnp.array([-1.0, 2.0]))
    mixture = VmapMixture(normals, weights=jnp.array([0.3, 0.7]))
    grad = eqx.filter_grad(lambda d: d.sample(KEY, (100,)).sum())(mixture)
    assert jnp.all(grad.log_normalized_weights.args[0] == 0)
    assert jnp.any(grad.dist.bijection.loc != 0)  # the components' parameters do get one
    # ... while the samples depend on the weights, so zero is not the gradient of E[x].
    mostly_first = VmapMixture(normals, weights=jnp.array([0.9, 0.1]))
    assert mostly_first.sample(KEY, (100,)).mean() < mixture.sample(KEY, (100,)).mean() - 1
    # log_prob does give the weights a gradient.
    grad = eqx.filter_grad(lambda d: d.log_prob(jnp.array([0.0, 1.0])).sum())(mixture)
    assert jnp.all(grad.log_normalized_weights.args[0] != 0)


def test_elbo_gives_vmap_mixture_weights_gradients_zero_in_expectation():
    # VmapMixture's docstring: with ElboLoss the weights' gradients (only the score
    # term, as the pathwise one is zero) are zero in expectation, so they are not learned.
    # Checked to within 4 standard errors (false failure rate 6e-5 per weight).
    normals = eqx.filter_vmap(Normal)(jnp.array([-1.0, 2.0]))
    params, static = eqx.partition(VmapMixture(normals, weights=jnp.array([0.3, 0.7])), eqx.is_inexact_array)
    loss = ElboLoss(Normal(2.0).log_prob, num_samples=1)
    grads = jax.vmap(lambda key: eqx.filter_grad(loss)(params, static, key).log_normalized_weights)(
        jr.split(KEY, 10_000)
    ).args[0]
    for grad in grads.T:
        mean, standard_error = _mean_and_standard_error(grad)
        assert standard_error > 0  # the per-sample gradients are not zero
        assert abs(mean) < 4 * standard_error


@pytest.mark.parametrize(
    "dist", [Gamma(2.0, 3.0), Beta(2.0, 3.0), StudentT(8.0)], ids=["Gamma", "Beta", "StudentT"]
)
def test_implicitly_reparameterized_distributions_get_gradients(dist):
    # The docstrings: "Sampling is reparameterized": every parameter gets a gradient.
    grad = eqx.filter_grad(lambda d: d.sample(KEY, (100,)).sum())(dist)
    leaves = jax.tree.leaves(grad)
    assert leaves
    assert all(jnp.all(jnp.isfinite(leaf)) and jnp.any(leaf != 0) for leaf in leaves)


def test_gamma_concentration_gradient_is_implicit():
    # Gamma's docstring: implicit reparameterization gradients for the concentration,
    # dx/da = -(dF/da)(x) / p(x) with F the cdf, which holds exactly for every draw.
    concentration, scale = 2.0, 3.0
    keys = jr.split(KEY, 200)
    sample = jax.value_and_grad(lambda a, key: Gamma(a, scale).sample(key))
    x, dx_da = jax.vmap(sample, in_axes=(None, 0))(concentration, keys)
    dF_da = jax.vmap(jax.grad(gammainc), in_axes=(None, 0))(concentration, x / scale)
    expected = -scale * dF_da / gamma.pdf(x / scale, concentration)
    assert jnp.allclose(dx_da, expected, rtol=1e-4)


def _mean_and_standard_error(values):
    return values.mean(), values.std() / jnp.sqrt(values.size)


@pytest.mark.parametrize(
    ("make_dist", "moment", "params", "expected"),
    [
        # E[x] = a / (a + b), so dE/da = b / (a + b)**2 and dE/db = -a / (a + b)**2.
        (Beta, lambda x: x, (2.0, 3.0), (3 / 25, -2 / 25)),
        # E[x**2] = df / (df - 2), so dE/ddf = -2 / (df - 2)**2.
        (StudentT, lambda x: x**2, (8.0,), (-2 / 36,)),
    ],
    ids=["Beta", "StudentT"],
)
def test_gradients_through_gamma_draws_are_unbiased(make_dist, moment, params, expected):
    # The docstrings: Beta and StudentT get implicit gradients through gamma draws, so
    # the mean of the sample gradients is the gradient of the expectation. Each is
    # checked to within 4 standard errors (false failure rate 6e-5 per parameter).
    keys = jr.split(KEY, 10_000)
    grads = jax.vmap(
        jax.grad(lambda params, key: moment(make_dist(*params).sample(key))),
        in_axes=(None, 0),
    )(params, keys)
    for grad, want in zip(grads, expected, strict=True):
        mean, standard_error = _mean_and_standard_error(grad)
        assert abs(mean - want) < 4 * standard_error
