

# BNAF samples through NumericalInverse's implicit JVP: a narrow base and atol=1e-6
# keep the bisection precise enough for finite differences.
sample_gradient_testcases = {
    "BNAF": lambda: block_neural_autoregressive_flow(
        **(KWARGS | {"base_dist": Normal(jnp.zeros(DIM), 0.1)}),
        cond_dim=2,
        invert=True,
        inverter=root_finder_to_inverter(
            partial(
                elementwise_autoregressive_bisection,
                lower=-jnp.ones(DIM),
                upper=jnp.ones(DIM),
                atol=1e-6,
            )
        ),
    ),
    "triangular_spline_flow": lambda: triangular_spline_flow(
        **KWARGS, cond_dim=2, invert=True
    ),
}


@pytest.mark.parametrize("flowname", sample_gradient_testcases.keys())
def test_flow_sample_gradient(flowname):
    # Derivatives of sample_and_log_prob with respect to the parameters and the
    # condition, against central differences.
    constructor, num_params = get_ravelled_pytree_constructor(
        sample_gradient_testcases[flowname](),
        eqx.is_inexact_array,
        is_leaf=lambda leaf: isinstance(leaf, paramax.NonTrainable),
    )
    condition = jnp.array([0.3, -0.5])

    @jax.jit
    def jvp_at(step, direction):
        def fn(params, condition):
            flow = constructor(params)
            return jnp.append(*flow.sample_and_log_prob(KEY, condition=condition))

        primals = (step * direction[0], condition + step * direction[1])
        return jax.jvp(fn, primals, direction)

    # A random direction of the parameters, then each direction of the condition
    params_direction = jr.normal(KEY, (num_params,))
    params_direction /= jnp.linalg.norm(params_direction)
    directions = [(params_direction, jnp.zeros_like(condition))]
    directions += [(jnp.zeros(num_params), unit) for unit in jnp.eye(condition.size)]
    eps = 3e-3
    for direction in directions:
        out, jvp = jvp_at(0.0, direction)
        differences = []
        for step in [eps, eps / 2]:
            plus, _ = jvp_at(step, direction)
            minus, _ = jvp_at(-step, direction)
            differences.append((plus - minus) / (2 * step))
        # The O(step**2) error at eps / 2 is about a third of the differences' gap;
        # allow the gap, plus float32 rounding and three times the bisection's atol.
        error = jnp.abs(differences[0] - differences[1])
        tolerance = error + 3e-6 * (1 + jnp.abs(out)) / eps
        assert jnp.all(jnp.abs(jvp - differences[1]) <= tolerance)
