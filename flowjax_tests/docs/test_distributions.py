def test_normal_sample_gradient():
    @eqx.filter_grad
    def sample_grad(dist, key):
        return dist.sample(key)

    key = jr.key(0)
    dist = Normal()
    grad = sample_grad(dist, key)
    assert grad.bijection.loc == 1
    # A sample is loc + softplus(u) * z, so its gradient wrt u is sigmoid(u) * z
    z = StandardNormal().sample(key)
    u = dist.bijection.scale.args[0]
    assert jnp.isclose(grad.bijection.scale.args[0], z / (1 + jnp.exp(-u)))


