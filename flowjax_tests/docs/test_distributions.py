def test_normal_sample_gradient():
    key = jr.key(0)
    grad = eqx.filter_grad(lambda dist, key: dist.sample(key))(Normal(), key=key)
    assert grad.bijection.loc == 1
    # A sample is loc + softplus(u) * z, so its gradient wrt u is z * sigmoid(u)
    z = StandardNormal().sample(key)
    u = Normal().bijection.scale.args[0]
    assert jnp.isclose(grad.bijection.scale.args[0], z / (1 + jnp.exp(-u)))


