"""Kit-side sentinels of the docs PR's claims; no patch carries them upstream.

Each test pins one sentence of the docs PR (getting_started.rst, the docstrings of
Uniform and VmapMixture), so that the kit notices when upstream or JAX changes what it
says (`make test`, `make matrix`, `make envs`, `make bump`):

- getting_started.rst: "The exceptions are the bounds of Uniform, which are not
  trainable, and the weights of VmapMixture, which get no gradient through sampling";
  Uniform's docstring: "gradients with respect to them are zero";
- VmapMixture's docstring: "the gradient of a sample with respect to them is zero, and
  reparameterization-based losses such as ElboLoss give no useful gradient for them";
- getting_started.rst: "Gradients with respect to the parameters can be taken through
  sampling ... for flows as for the other distributions": the distributions whose
  samples come from JAX's implicitly differentiated gamma draws (Gamma, Beta, StudentT)
  are checked here; every other distribution's and every flow's sampling gradient is
  checked in test_sampling_gradients.py.

The rest of the docs PR is checked by its own test (test_normal_sample_gradient: where
the loc and scale gradients are, and the softplus parameterization) and by its doctests
(`grad.scale` raises TypeError).

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
from paramax.wrappers import NonTrainable

KEY = jr.key(0)


def test_uniform_bounds_get_no_gradient():
    # "They are not trainable (see paramax.wrappers.NonTrainable)" ...
    dist = Uniform(jnp.array(-1.0), jnp.array(2.0))
    assert isinstance(dist.bijection.loc, NonTrainable)
    assert isinstance(dist.bijection.scale.args[0], NonTrainable)
    # ... "so gradients with respect to them are zero" ...
    grad = eqx.filter_grad(lambda d: d.sample(KEY, (100,)).sum())(dist)
    leaves = jax.tree.leaves(grad)
    assert leaves
    assert all(jnp.all(leaf == 0) for leaf in leaves)
    # ... although the samples depend on them.
    assert jnp.all(Uniform(-0.5, 2.0).sample(KEY, (100,)) > dist.sample(KEY, (100,)))


def _mixture(weights=(0.3, 0.7)):
    normals = eqx.filter_vmap(Normal)(jnp.array([-1.0, 2.0]))
    return VmapMixture(normals, weights=jnp.array(weights))


def test_vmap_mixture_sample_gradient_for_the_weights_is_zero():
    # "the gradient of a sample with respect to them is zero" ...
    mixture = _mixture()
    grad = eqx.filter_grad(lambda d: d.sample(KEY, (100,)).sum())(mixture)
    assert jnp.all(grad.log_normalized_weights.args[0] == 0)
    assert jnp.any(grad.dist.bijection.loc != 0)  # the components' parameters get one
    # ... although the samples depend on the weights.
    mostly_first = _mixture((0.9, 0.1))
    assert mostly_first.sample(KEY, (100,)).mean() < mixture.sample(KEY, (100,)).mean() - 1


def _negative_elbo(params, static, target):
    # -ELBO = E_q[log q(x) - target(x)] by the trapezoid rule: the mixture's density is
    # below 1e-20 outside the grid, so this is exact to float32 rounding.
    x = jnp.linspace(-15.0, 18.0, 20_001)
    log_q = jax.vmap(eqx.combine(params, static).log_prob)(x)
    return jnp.trapezoid(jnp.exp(log_q) * (log_q - jax.vmap(target)(x)), x)


@pytest.mark.parametrize("stick_the_landing", [False, True])
def test_elbo_loss_gives_vmap_mixture_weights_no_useful_gradient(stick_the_landing):
    # "reparameterization-based losses such as ElboLoss give no useful gradient for
    # them": the gradient of the expected loss, by quadrature, is far from zero, while
    # ElboLoss's gradients for the weights are the score term alone, mean zero (checked
    # to within 4 standard errors: false failure rate 6e-5 per weight), or exactly zero
    # with stick_the_landing=True.
    target = Normal(2.0).log_prob
    params, static = eqx.partition(_mixture(), eqx.is_inexact_array)
    true_grad = eqx.filter_grad(_negative_elbo)(params, static, target)
    true_grad = true_grad.log_normalized_weights.args[0]
    loss = ElboLoss(target, num_samples=1, stick_the_landing=stick_the_landing)
    grads = jax.vmap(lambda key: eqx.filter_grad(loss)(params, static, key))(jr.split(KEY, 10_000))
    assert jnp.all(grads.dist.bijection.loc.mean(axis=0) != 0)  # the components' get one
    grads = grads.log_normalized_weights.args[0]
    if stick_the_landing:
        assert jnp.all(grads == 0)
    for grad, want in zip(grads.T, true_grad, strict=True):
        mean, standard_error = _mean_and_standard_error(grad)
        assert abs(want) > 0.1
        assert abs(mean) <= 4 * standard_error
        if not stick_the_landing:
            assert 0 < standard_error < abs(want) / 10  # noise, and it would resolve want


@pytest.mark.parametrize(
    "dist", [Gamma(2.0, 3.0), Beta(2.0, 3.0), StudentT(8.0)], ids=["Gamma", "Beta", "StudentT"]
)
def test_implicitly_reparameterized_distributions_get_gradients(dist):
    # "Gradients with respect to the parameters can be taken through sampling": every
    # parameter gets a finite, nonzero one; the next two tests check their values.
    grad = eqx.filter_grad(lambda d: d.sample(KEY, (100,)).sum())(dist)
    leaves = jax.tree.leaves(grad)
    assert leaves
    assert all(jnp.all(jnp.isfinite(leaf)) and jnp.any(leaf != 0) for leaf in leaves)


def test_gamma_concentration_gradient_is_implicit():
    # The implicit reparameterization gradient dx/da = -(dF/da)(x) / p(x), with F the
    # cdf, holds exactly for every draw.
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
    # Beta and StudentT sample through gamma draws: the mean of the sample gradients is
    # the gradient of the expectation, each checked to within 4 standard errors (false
    # failure rate 6e-5 per parameter).
    keys = jr.split(KEY, 10_000)
    grads = jax.vmap(
        jax.grad(lambda params, key: moment(make_dist(*params).sample(key))),
        in_axes=(None, 0),
    )(params, keys)
    for grad, want in zip(grads, expected, strict=True):
        mean, standard_error = _mean_and_standard_error(grad)
        assert abs(mean - want) < 4 * standard_error
