

@contextmanager
def enable_x64():
    # jax.enable_x64 is not available in every supported JAX version
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", val=True)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", val=previous)


# BNAF samples through a numerical inverse, too coarse for finite differences here,
# the default planar flow cannot sample (its inverse needs a leaky relu), and to save
# time spline_coupling is left out: affine_coupling and triangular_spline_flow already
# sample through the coupling and spline inverses.
_not_checked = ["BNAF", "planar", "spline_coupling"]


@pytest.mark.parametrize("flowname", [n for n in testcases if n not in _not_checked])
def test_flow_sample_gradient(flowname):
    # Gradients of sample_and_log_prob wrt the parameters and condition, compared to
    # central differences in float64 along random directions.
    constructor, num_params = get_ravelled_pytree_constructor(
        (testcases[flowname](2), jnp.array([0.3, -0.5])),
        eqx.is_inexact_array,
        is_leaf=lambda leaf: isinstance(leaf, paramax.NonTrainable),
    )

    def sample_and_log_prob(params):
        flow, condition = constructor(params)
        return jnp.append(*flow.sample_and_log_prob(KEY, condition=condition))

    @jax.jit
    def derivatives(params):
        eps = 1e-6
        directions = jr.normal(KEY, (4, params.size), params.dtype)
        directions /= jnp.linalg.norm(directions, axis=1, keepdims=True)
        # The jvp at params +- eps * direction gives the central difference and, as the
        # mean of the two tangents, the derivative at params to O(eps**2).
        jvp = jax.vmap(lambda p, t: jax.jvp(sample_and_log_prob, (p,), (t,)))
        steps = jnp.concatenate([eps * directions, -eps * directions])
        values, grads = jvp(params + steps, jnp.concatenate([directions, directions]))
        plus, minus = jnp.split(values, 2)
        grads_plus, grads_minus = jnp.split(grads, 2)
        return (grads_plus + grads_minus) / 2, (plus - minus) / (2 * eps)

    with enable_x64():
        grad, expected = derivatives(jnp.zeros(num_params, jnp.float64))
        assert jnp.allclose(grad, expected, rtol=1e-6, atol=1e-8)
