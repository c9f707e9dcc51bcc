def test_normal_sample_gradient():
    @eqx.filter_grad
    def sample_grad(dist, key):
        return dist.sample(key)

    key = jr.key(0)
    grad = sample_grad(Normal(), key)
    assert grad.bijection.loc == 1
    # A sample is loc + softplus(u) * z, so its gradient wrt u is sigmoid(u) * z
    z = StandardNormal().sample(key)
    u = Normal().bijection.scale.args[0]
    assert jnp.isclose(grad.bijection.scale.args[0], z / (1 + jnp.exp(-u)))


