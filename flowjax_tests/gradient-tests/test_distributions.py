

# Gradients through sampling. The standard distributions and Uniform (whose bounds are
# not trainable) have no parameters to differentiate, and Gamma, Beta and StudentT
# sample with JAX's implicit reparameterization (see test_implicit_sample_gradient).
_not_finite_differenced = [
    "StandardNormal",
    "_StandardUniform",
    "Uniform",
    "_StandardGumbel",
    "_StandardCauchy",
    "_StandardLaplace",
    "_StandardLogistic",
    "Gamma",
    "_StandardStudentT",
    "StudentT",
    "Beta",
    "VmapMixture",
]
_sample_gradient_cases = [
    *(d for d in _test_distributions if d.id not in _not_finite_differenced),
    # MultivariateNormal has no scalar shape, so it is not in _test_distributions.
    pytest.param(
        lambda shape: MultivariateNormal(jnp.zeros(shape), jnp.eye(*shape)),
        id="MultivariateNormal",
    ),
    # A mixture draws its component: the weights get no pathwise gradient, and a
    # finite difference in them would cross the draw, so they are not trainable here.
    pytest.param(
        lambda shape: eqx.tree_at(
            lambda mixture: mixture.log_normalized_weights,
            VmapMixture(
                eqx.filter_vmap(Normal)(
                    jnp.arange(3.0 * prod(shape)).reshape(3, *shape)
                ),
                weights=jnp.arange(3) + 1,
            ),
            replace_fn=paramax.non_trainable,
        ),
        id="VmapMixture",
    ),
]


@pytest.mark.parametrize("distribution", _sample_gradient_cases)
def test_sample_gradient(distribution):
    constructor, num_params = get_ravelled_pytree_constructor(
        distribution(shape=(2,)),
        eqx.is_inexact_array,
        is_leaf=lambda leaf: isinstance(leaf, paramax.NonTrainable),
    )

    def sample(params):
        return constructor(params).sample(KEY, (3,))

    @jax.jit
    def derivatives(params, eps):
        steps = eps * jnp.eye(num_params)
        differences = (jax.vmap(sample)(steps) - jax.vmap(sample)(-steps)) / (2 * eps)
        jacobian = jnp.moveaxis(jax.jacfwd(sample)(params), -1, 0)
        return sample(params), jacobian, differences

    x, jacobian, differences = derivatives(jnp.zeros(num_params), 1e-2)
    # In float32, a difference of samples x is exact to about 1e-7 * |x| / eps
    tolerance = 1e-2 * jnp.abs(differences) + 1e-3 * (1 + jnp.abs(x))
    assert jnp.all(jnp.abs(jacobian - differences) <= tolerance)


# Gamma, Beta and StudentT sample with JAX's implicitly reparameterized samplers, so
# their gradients should be those of the same draw in JAX.
_implicit_sample_cases = {
    "Gamma": (Gamma, lambda key, a, s: s * jr.gamma(key, a), [0.5, 4.0], [1.0, 3.0]),
    "Beta": (Beta, jr.beta, [0.5, 4.0], [2.0, 0.8]),
    "StudentT": (
        StudentT,
        lambda key, df, loc, scale: loc + scale * jr.t(key, df),
        [1.5, 8.0],
        [-1.0, 2.0],
        [0.5, 3.0],
    ),
}


@pytest.mark.parametrize(
    "case", _implicit_sample_cases.values(), ids=_implicit_sample_cases.keys()
)
def test_implicit_sample_gradient(case):
    distribution, jax_sample, *args = case
    args = [jnp.array(arg) for arg in args]
    argnums = tuple(range(len(args)))

    def sample(*args):
        return paramax.unwrap(distribution(*args))._sample(KEY)

    grads = jax.jacfwd(sample, argnums)(*args)
    expected = jax.jacfwd(lambda *a: jax_sample(KEY, *a), argnums)(*args)
    assert jnp.allclose(jnp.stack(grads), jnp.stack(expected), rtol=1e-4, atol=1e-6)
