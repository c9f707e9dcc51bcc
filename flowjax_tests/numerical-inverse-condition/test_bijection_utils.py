

@pytest.mark.parametrize("diff_fn", test_cases)
def test_NumericalInverse_condition_implicit_jvp(diff_fn):
    bijection = NumericalInverse(
        AdditiveCondition(lambda condition: condition**2, shape=(), cond_shape=()),
        root_finder_to_inverter(
            partial(bisection_search, lower=-1, upper=1, atol=1e-7),
        ),
    )
    # x = y - condition**2
    derivative = diff_fn(lambda c: bijection.inverse(jnp.array(1.0), c))(jnp.array(0.5))
    assert jnp.allclose(derivative, -1, atol=1e-5)


def test_NumericalInverse_condition_and_parameter_gradients():
    # As when the condition is computed by a trainable embedding
    linear = eqx.nn.Linear("scalar", "scalar", key=jr.key(0))
    bijection = NumericalInverse(
        AdditiveCondition(linear, shape=(), cond_shape=()),
        root_finder_to_inverter(
            partial(bisection_search, lower=-5, upper=5, atol=1e-7),
        ),
    )

    def inverse(params):
        bijection, embedding = params
        return bijection.inverse(jnp.array(1.0), 2 * embedding)

    # x = y - (weight * 2 * embedding + bias)
    grad, embedding_grad = eqx.filter_grad(inverse)((bijection, jnp.array(0.5)))
    assert jnp.allclose(grad.bijection.module.weight, -1, atol=1e-5)
    assert jnp.allclose(grad.bijection.module.bias, -1, atol=1e-5)
    assert jnp.allclose(embedding_grad, -2 * linear.weight, atol=1e-5)
