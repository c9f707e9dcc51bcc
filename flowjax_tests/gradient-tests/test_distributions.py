

# Gamma, Beta and StudentT sample with implicit reparameterization (through
# jax.random.gamma), so their gradients are not finite differences at a fixed key.
# MultivariateNormal has no scalar shape, so it is not in _test_distributions.
_implicit = ["Gamma", "_StandardStudentT", "StudentT", "Beta"]
_sample_gradient_cases = [
    *(d for d in _test_distributions if d.id not in _implicit),
    pytest.param(
        lambda shape: MultivariateNormal(jnp.zeros(shape), jnp.eye(*shape)),
        id="MultivariateNormal",
    ),
]


@pytest.mark.parametrize("distribution", _sample_gradient_cases)
def test_sample_gradient(distribution):
    constructor, num_params = get_ravelled_pytree_constructor(
        distribution(shape=(2,)),
        eqx.is_inexact_array,
        is_leaf=lambda leaf: isinstance(leaf, paramax.NonTrainable),
    )
    if num_params == 0:
        pytest.skip("No trainable parameters")

    def sample(params):
        return constructor(params).sample(KEY, (3,))

    @jax.jit
    def derivatives(params):
        # The jvp at params +- eps * direction gives the central difference and, as the
        # mean of the two tangents, the derivative at params to O(eps**2).
        eps, directions = 1e-2, jnp.eye(params.size)
        jvp = jax.vmap(lambda p, t: jax.jvp(sample, (p,), (t,)))
        steps = jnp.concatenate([eps * directions, -eps * directions])
        values, grads = jvp(params + steps, jnp.concatenate([directions, directions]))
        plus, minus = jnp.split(values, 2)
        grads_plus, grads_minus = jnp.split(grads, 2)
        return (grads_plus + grads_minus) / 2, (plus - minus) / (2 * eps)

    grad, expected = derivatives(jnp.zeros(num_params))
    assert jnp.allclose(grad, expected, rtol=1e-2, atol=1e-3)


def test_gamma_sample_gradient():
    # Implicit reparameterization: dx/da = -(dF/da) / p(x), for F the cdf
    def sample(concentration):
        return Gamma(concentration, 3).sample(KEY, (5,))

    @jax.jit
    def gradients(concentration):
        x, grad = jax.jvp(sample, (concentration,), (jnp.ones_like(concentration),))
        cdf_grad = jax.vmap(jax.grad(gammainc), (None, 0))(concentration, x / 3)
        return grad, -cdf_grad / jnp.exp(Gamma(concentration, 3).log_prob(x))

    grad, expected = gradients(2.0)
    assert jnp.allclose(grad, expected, rtol=1e-4)


# Beta and StudentT sample via gamma variates, so their per-sample gradients are not
# given by their own cdf. Instead, the mean of the per-sample gradients of x**2 should
# match the gradient of the closed form E[x**2].
_second_moments = {
    "Beta": (
        Beta(2.0, 3.0),
        lambda d: d.alpha * (d.alpha + 1) / (d.alpha + d.beta) / (d.alpha + d.beta + 1),
    ),
    "StudentT": (
        StudentT(8.0, 1.0, 2.0),
        lambda d: d.loc**2 + d.scale**2 * d.df / (d.df - 2),
    ),
}


@pytest.mark.parametrize(
    ("dist", "second_moment"), _second_moments.values(), ids=_second_moments.keys()
)
def test_implicit_sample_gradient(dist, second_moment):
    @eqx.filter_jit
    def gradients(dist, keys):
        def squared_sample(dist, key):
            return dist.sample(key) ** 2

        per_sample = eqx.filter_vmap(
            eqx.filter_grad(squared_sample), in_axes=(None, 0)
        )(dist, keys)
        expected = eqx.filter_grad(lambda d: second_moment(paramax.unwrap(d)))(dist)
        return per_sample, expected

    # Each gradient is over 20 standard errors from zero here, so a zero, halved or
    # doubled gradient is outside the tolerance of 4 standard errors.
    per_sample, expected = gradients(dist, jr.split(KEY, 2**14))
    for grads, grad in zip(
        jax.tree.leaves(per_sample), jax.tree.leaves(expected), strict=True
    ):
        stderr = grads.std() / jnp.sqrt(grads.size)
        assert abs(grads.mean() - grad) < 4 * stderr
