

INVERTER = root_finder_to_inverter(
    partial(bisection_search, lower=-1, upper=1, atol=1e-7),
)
CONDITION_SQUARED = AdditiveCondition(lambda c: c**2, (), ())


@pytest.mark.parametrize("diff_fn", test_cases)
def test_NumericalInverse_condition_implicit_jvp(diff_fn):
    bijection = NumericalInverse(CONDITION_SQUARED, INVERTER)
    # x = y - condition**2
    derivative = diff_fn(lambda c: bijection.inverse(jnp.array(1.0), c))(jnp.array(0.5))
    assert jnp.allclose(derivative, -1, atol=1e-5)


def test_NumericalInverse_condition_hessian():
    bijection = NumericalInverse(CONDITION_SQUARED, INVERTER)
    # x = y - condition**2
    hessian = jax.hessian(lambda c: bijection.inverse(jnp.array(1.0), c))
    assert jnp.allclose(hessian(jnp.array(0.5)), -2, atol=1e-5)


def test_NumericalInverse_parameter_and_condition_gradients():
    bijection = NumericalInverse(
        Chain([Affine(1, 2), CONDITION_SQUARED]),
        INVERTER,
    )

    def inverse(bijection_and_condition):
        bijection, condition = bijection_and_condition
        return bijection.inverse(jnp.array(1.0), condition)

    # x = (y - loc - condition**2) / scale
    grad, condition_grad = eqx.filter_grad(inverse)((bijection, jnp.array(1.0)))
    assert jnp.allclose(grad.bijection[0].loc, -0.5, atol=1e-5)
    assert jnp.allclose(condition_grad, -1, atol=1e-5)


@pytest.mark.parametrize("diff_fn", test_cases)
def test_NumericalInverse_unconditional_in_conditional_chain(diff_fn):
    numerical_inverse = NumericalInverse(Affine(0.5, 2), INVERTER)
    bijection = Chain([Invert(numerical_inverse), CONDITION_SQUARED])
    # y = (x - 0.5) / 2 + condition**2
    x = jnp.array(1.0)
    derivative = diff_fn(lambda c: bijection.transform(x, c))(jnp.array(0.5))
    assert jnp.allclose(derivative, 1, atol=1e-5)


def test_NumericalInverse_inverter_calls():
    y, condition = jnp.array(1.0), jnp.array(0.5)
    bijection = NumericalInverse(CONDITION_SQUARED, INVERTER)
    derivative = jax.grad(
        lambda c: bijection.inverter(bijection.bijection, y, condition=c)
    )(condition)
    assert jnp.allclose(derivative, -1, atol=1e-5)

    bijection = NumericalInverse(Affine(0.5, 2), INVERTER)
    assert jnp.allclose(bijection.inverter(bijection.bijection, y), 0.25)

    # Without implicit differentiation, the inverter is called with condition=
    bijection = NumericalInverse(
        CONDITION_SQUARED,
        lambda bijection, y, *, condition: INVERTER(bijection, y, condition),
        use_implicit_differentation=False,
    )
    assert jnp.allclose(bijection.inverse(y, condition), 0.75)
