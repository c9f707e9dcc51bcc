def test_normal_sample_gradient():
    # The example in docs/getting_started.rst, from #181.
    @eqx.filter_grad
    def sample_grad(dist, key):
        return dist.sample(key)

    key = jr.key(0)
    dist = Normal()
    grad = sample_grad(dist, key)
    assert grad.bijection.loc == 1
    # This pins the parameterization the docs describe: the scale is softplus(u), with
    # u = scale.args[0] unconstrained. A sample is loc + softplus(u) * z, so the
    # gradient at grad.bijection.scale.args[0] is sigmoid(u) * z.
    z = StandardNormal().sample(key)
    u = dist.bijection.scale.args[0]
    assert jnp.isclose(grad.bijection.scale.args[0], jax.nn.sigmoid(u) * z)


