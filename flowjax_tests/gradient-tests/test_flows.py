

# Gradients through sampling. With invert=True, a flow samples through the inverses of
# its layers, and with invert=False through their transforms. BNAF inverts by bisection:
# one layer and a narrow base keep the inverse well conditioned, and a tolerance of 1e-6
# makes it precise enough for finite differences. The planar flow needs a leaky relu to
# have an inverse. spline_coupling combines the coupling of affine_coupling with the
# spline of triangular_spline_flow, so it is left out to save time.
_sample_gradient_testcases = {
    "BNAF": lambda invert: block_neural_autoregressive_flow(
        **(KWARGS | {"base_dist": Normal(jnp.zeros(DIM), 0.1), "flow_layers": 1}),
        cond_dim=2,
        invert=invert,
        inverter=root_finder_to_inverter(
            partial(
                elementwise_autoregressive_bisection,
                lower=-jnp.ones(DIM),
                upper=jnp.ones(DIM),
                atol=1e-6,
            )
        ),
    ),
    "triangular_spline_flow": lambda invert: triangular_spline_flow(
        **KWARGS, cond_dim=2, invert=invert
    ),
    "affine_coupling": lambda invert: coupling_flow(
        transformer=Affine(), **KWARGS, cond_dim=2, invert=invert
    ),
    "affine_masked_autoregessive": lambda invert: masked_autoregressive_flow(
        transformer=Affine(), **KWARGS, cond_dim=2, invert=invert
    ),
    "planar": lambda invert: planar_flow(
        **KWARGS, cond_dim=2, invert=invert, width_size=5, depth=1, negative_slope=0.1
    ),
}


@pytest.mark.parametrize("invert", [True, False], ids=["invert", "no_invert"])
@pytest.mark.parametrize("flowname", _sample_gradient_testcases.keys())
def test_flow_sample_gradient(flowname, invert):
    # Derivatives of sample_and_log_prob with respect to the parameters and the
    # condition, against central differences.
    constructor, num_params = get_ravelled_pytree_constructor(
        (_sample_gradient_testcases[flowname](invert), jnp.array([0.3, -0.5])),
        eqx.is_inexact_array,
        is_leaf=lambda leaf: isinstance(leaf, paramax.NonTrainable),
    )

    @jax.jit
    def sample_and_log_prob(params, direction):
        def fn(params):
            flow, condition = constructor(params)
            return jnp.append(*flow.sample_and_log_prob(KEY, condition=condition))

        return jax.jvp(fn, (params,), (direction,))

    # A random direction of the parameters, and the two of the condition (ravelled last)
    direction = jr.normal(KEY, (num_params,)).at[-2:].set(0)
    directions = [direction / jnp.linalg.norm(direction), *jnp.eye(num_params)[-2:]]
    eps = 3e-3
    for direction in directions:
        plus, grad_plus = sample_and_log_prob(eps * direction, direction)
        minus, grad_minus = sample_and_log_prob(-eps * direction, direction)
        _, grad = sample_and_log_prob(0 * direction, direction)
        difference = (plus - minus) / (2 * eps)
        # The difference is the mean derivative between the two points: it is within the
        # derivatives at the ends and the middle, give or take their range (the kinks of
        # a relu), and float32 rounding of about 1e-5 * (1 + |x|) / eps.
        lower = jnp.minimum(jnp.minimum(grad_minus, grad), grad_plus)
        upper = jnp.maximum(jnp.maximum(grad_minus, grad), grad_plus)
        tolerance = upper - lower + 1e-5 * (1 + jnp.abs(plus)) / eps
        assert jnp.all(lower - tolerance <= difference)
        assert jnp.all(difference <= upper + tolerance)
