"""Reparameterized (pathwise) gradients of sampling.

With the key fixed, ``dist.sample(key)`` is a differentiable function of the
distribution's parameters. These tests pin that down for every distribution and flow,
starting from the example in https://github.com/danielward27/flowjax/issues/181:

- explicit reparameterizations: per-sample gradients equal central finite differences,
  wrt every trainable parameter leaf (and the condition of conditional flows), through
  both ``sample`` and ``sample_and_log_prob``;
- every distribution, including the implicitly reparameterized Gamma, Beta and StudentT:
  the Monte Carlo pathwise estimate of d/dθ E[f(x)] agrees with quadrature of f·p_θ;
- known exceptions (Uniform, VmapMixture weights, planar_flow) are pinned as facts.

Finite differences need float64, which is enabled for this module only.
"""

import dataclasses
import inspect
from functools import partial

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import paramax
import pytest
from jax.flatten_util import ravel_pytree

import flowjax.distributions
import flowjax.flows
from flowjax.bijections import Affine, Chain, Exp
from flowjax.distributions import (
    AbstractDistribution,
    Beta,
    Cauchy,
    Exponential,
    Gamma,
    Gumbel,
    Laplace,
    Logistic,
    LogNormal,
    MultivariateNormal,
    Normal,
    StandardNormal,
    StudentT,
    Transformed,
    Uniform,
    VmapMixture,
)
from flowjax.flows import (
    block_neural_autoregressive_flow,
    coupling_flow,
    masked_autoregressive_flow,
    planar_flow,
    triangular_spline_flow,
)
from flowjax.root_finding import bisect_check_expand_search, root_finder_to_inverter


@pytest.fixture(autouse=True)
def _float64():
    # Scoped: other test modules keep JAX's default float32.
    with jax.enable_x64(new_val=True):
        yield


def f(x):
    """Smooth, bounded, nonlinear test function; rescaled gradients change its mean."""
    return jnp.sum(jnp.sin(x) * jnp.exp(-(x**2) / 32))


def is_trainable(tree):
    """Filter spec: inexact arrays, excluding everything under paramax.NonTrainable."""

    def is_non_trainable(leaf):
        return isinstance(leaf, paramax.NonTrainable)

    return jax.tree.map(
        lambda leaf: not is_non_trainable(leaf) and eqx.is_inexact_array(leaf),
        tree,
        is_leaf=is_non_trainable,
    )


def partition(dist):
    return eqx.partition(
        dist,
        is_trainable(dist),
        is_leaf=lambda leaf: isinstance(leaf, paramax.NonTrainable),
    )


def perturb(dist, key, scale=0.1):
    """Move every trainable leaf off its initialisation (e.g. zero-initialised layers).

    At zero-initialised weights, gradients wrt earlier layers are exactly zero, which
    would let a gradient that is wrongly zero pass unnoticed.
    """
    params, static = partition(dist)
    flat, unravel = ravel_pytree(params)
    return eqx.combine(unravel(flat + scale * jr.normal(key, flat.shape)), static)


def central_difference(fn, x, directions, eps=1e-6):
    """Central differences of ``fn`` at ``x`` along each row of ``directions``."""
    values = jax.vmap(fn)(jnp.concatenate([x + eps * directions, x - eps * directions]))
    plus, minus = jnp.split(values, 2)
    return (plus - minus) / (2 * eps)


def leaf_directions(params, key):
    """One random direction per trainable leaf, zero outside that leaf (flattened)."""
    sizes = [leaf.size for leaf in jax.tree.leaves(params)]
    flat = ravel_pytree(params)[0]
    starts = np.cumsum([0, *sizes])
    noise = jr.normal(key, (len(sizes), flat.size))
    mask = np.zeros((len(sizes), flat.size))
    for i, (lo, hi) in enumerate(zip(starts[:-1], starts[1:], strict=True)):
        mask[i, lo:hi] = 1
    return noise * mask


def sample_outputs(dist, key, condition=None):
    """Scalar summaries of everything sampling returns, as one vector.

    ``f(sample)``, ``f(x)`` and ``log_prob`` from ``sample_and_log_prob``, so each
    output's gradient is checked separately.
    """
    x = dist.sample(key, (2,), condition=condition)
    x2, log_prob = dist.sample_and_log_prob(key, (2,), condition=condition)
    return jnp.stack([f(x), f(x2), log_prob.sum()])


OUTPUTS = ["sample", "sample_and_log_prob[x]", "sample_and_log_prob[log_prob]"]


def pathwise_grad(dist, key, fn=f, n=1):
    """Per-sample pathwise gradients of ``fn(dist.sample(key_i))`` wrt trainable leaves.

    Returns:
        Array of shape ``(n, n_params)``: one flattened gradient per key.
    """
    params, static = partition(dist)
    flat, unravel = ravel_pytree(params)

    @jax.jit
    def grads(flat, keys):
        def one(flat, k):
            return fn(eqx.combine(unravel(flat), static).sample(k))

        return jax.vmap(jax.grad(one), in_axes=(None, 0))(flat, keys)

    return grads(flat, jr.split(key, n))


def quadrature_grad(dist, grid, weights, fn=f):
    """d/dθ of the quadrature of fn(x)·p_θ(x), from ``log_prob``, not ``sample``."""
    params, static = partition(dist)
    flat, unravel = ravel_pytree(params)

    def expectation(flat):
        d = eqx.combine(unravel(flat), static)
        density = jnp.exp(d.log_prob(grid))
        return jnp.sum(weights * density * jax.vmap(fn)(grid))

    return jax.jit(jax.grad(expectation))(flat)


def trapezoid(lo, hi, n=20001):
    grid = jnp.linspace(lo, hi, n)
    weights = jnp.full(n, (hi - lo) / (n - 1)).at[jnp.array([0, -1])].multiply(0.5)
    return grid, weights


def trapezoid_2d(lo, hi, n=201):
    grid, weights = trapezoid(lo, hi, n)
    x, y = jnp.meshgrid(grid, grid)
    return jnp.stack([x.ravel(), y.ravel()], -1), jnp.outer(weights, weights).ravel()


def tight_bnaf_inverter(dim):
    # With the default atol=1e-5 the inverse is too coarse for finite differences at
    # eps=1e-6 to mean anything; at 1e-12 they resolve the implicit-JVP gradient.
    return root_finder_to_inverter(
        partial(
            bisect_check_expand_search, midpoint=jnp.zeros(dim), width=5, atol=1e-12
        ),
    )


# name -> constructor of an explicitly reparameterized distribution.
_explicit_distributions = {
    "Normal": lambda: Normal(jnp.array([0.5, -1.0]), jnp.array([2.0, 0.7])),
    "LogNormal": lambda: LogNormal(jnp.array([0.2, -0.3]), jnp.array([0.5, 0.3])),
    "MultivariateNormal": lambda: MultivariateNormal(
        jnp.array([0.5, -1.0]),
        jnp.array([[2.0, 0.3], [0.3, 1.0]]),
    ),
    "Gumbel": lambda: Gumbel(jnp.array([0.5, -1.0]), jnp.array([1.5, 0.7])),
    "Cauchy": lambda: Cauchy(jnp.array([0.5, -1.0]), jnp.array([1.5, 0.7])),
    "Laplace": lambda: Laplace(jnp.array([0.5, -1.0]), jnp.array([1.5, 0.7])),
    "Logistic": lambda: Logistic(jnp.array([0.5, -1.0]), jnp.array([1.5, 0.7])),
    "Exponential": lambda: Exponential(jnp.array([0.7, 2.0])),
    "Transformed(StandardNormal)": lambda: Transformed(
        StandardNormal((2,)),
        Chain([Affine(jnp.array([0.1, 0.2]), jnp.array([0.5, 0.8])), Exp((2,))]),
    ),
}


def _flow(constructor, **kwargs):
    """Constructor of a 3-d flow, optionally conditional, on a trainable Normal base."""

    def make(cond_dim=None):
        base = Normal(jnp.array([0.1, -0.2, 0.3]), jnp.array([1.0, 0.8, 1.2]))
        extra = {k: v() if callable(v) else v for k, v in kwargs.items()}
        return constructor(jr.key(0), base_dist=base, cond_dim=cond_dim, **extra)

    make.constructor = constructor
    return make


# name -> flow constructor with a samplable configuration.
_flows = {
    "coupling_flow": _flow(coupling_flow),
    "masked_autoregressive_flow": _flow(masked_autoregressive_flow),
    "bnaf(invert=True)": _flow(
        block_neural_autoregressive_flow,
        inverter=lambda: tight_bnaf_inverter(3),
    ),
    "bnaf(invert=False)": _flow(block_neural_autoregressive_flow, invert=False),
    "planar_flow(invert=False)": _flow(
        planar_flow, invert=False, width_size=8, depth=1
    ),
    "planar_flow(negative_slope)": _flow(
        planar_flow, negative_slope=0.1, width_size=8, depth=1
    ),
    "triangular_spline_flow": _flow(triangular_spline_flow),
}

# Central-difference step and relative tolerance (float64). Explicit cases agree to
# ~1e-8 at eps=1e-6. BNAF(invert=True) inverts numerically to atol=1e-12, which puts
# ~1e-11 of noise on each output, ~1e-6 on a difference at eps=1e-5 (truncation is
# ~1e-6 relative there): atol=1e-5 still fails any gradient zeroed or rescaled.
_fd_settings = {"bnaf(invert=True)": {"eps": 1e-5, "rtol": 1e-5, "atol": 1e-5}}


def assert_matches_finite_differences(name, outputs, x, directions):
    """Reverse-mode directional derivatives of ``outputs`` equal central differences."""
    settings = {"eps": 1e-6, "rtol": 1e-6, "atol": 1e-7} | _fd_settings.get(name, {})
    ad = directions @ jax.jit(jax.jacrev(outputs))(x).T
    fd = jax.jit(central_difference, static_argnums=(0, 3))(
        outputs, x, directions, settings["eps"]
    )
    # Every direction moves some output, so a gradient wrongly zero cannot agree.
    assert np.all(np.abs(fd).max(axis=1) > 1e-4)
    for i, output in enumerate(OUTPUTS):
        np.testing.assert_allclose(
            ad[:, i],
            fd[:, i],
            rtol=settings["rtol"],
            atol=settings["atol"],
            err_msg=output,
        )


@pytest.mark.parametrize(
    "name",
    [*_explicit_distributions, *_flows],
)
def test_pathwise_gradient_matches_finite_differences(name):
    make = _explicit_distributions.get(name) or _flows[name]
    dist = perturb(make(), jr.key(1))
    params, static = partition(dist)
    flat, unravel = ravel_pytree(params)

    def outputs(flat):
        return sample_outputs(eqx.combine(unravel(flat), static), jr.key(2))

    assert_matches_finite_differences(
        name, outputs, flat, leaf_directions(params, jr.key(3))
    )


# Known exception: NumericalInverse's implicit JVP passes the condition to
# eqx.filter_custom_jvp as a keyword argument, which cannot carry a tangent, so any
# gradient wrt the condition through BNAF(invert=True) sampling raises.
_condition_cases = [
    pytest.param(
        name,
        marks=pytest.mark.xfail(
            raises=ValueError,
            strict=True,
            reason="implicit JVP of NumericalInverse takes condition as a keyword",
        ),
    )
    if name == "bnaf(invert=True)"
    else name
    for name in _flows
]


@pytest.mark.parametrize("name", _condition_cases)
def test_condition_gradient_matches_finite_differences(name):
    # Issues #176 and #216: gradients wrt the condition through BNAF sampling were zero.
    dist = perturb(_flows[name](cond_dim=2), jr.key(1))
    condition = jnp.array([0.3, -0.5])

    def outputs(condition):
        return sample_outputs(dist, jr.key(2), condition)

    assert_matches_finite_differences(name, outputs, condition, jnp.eye(2))


# name -> scalar distribution and the interval its quadrature covers (f vanishes
# beyond |x| ~ 30, so [-40, 40] covers every unbounded support).
_expectation_cases = {
    "Normal": (lambda: Normal(jnp.array(0.5), jnp.array(1.5)), (-40, 40)),
    "LogNormal": (lambda: LogNormal(jnp.array(0.2), jnp.array(0.5)), (1e-9, 40)),
    "Gumbel": (lambda: Gumbel(jnp.array(0.5), jnp.array(1.5)), (-40, 40)),
    "Cauchy": (lambda: Cauchy(jnp.array(0.5), jnp.array(1.5)), (-40, 40)),
    "Laplace": (lambda: Laplace(jnp.array(0.5), jnp.array(1.5)), (-40, 40)),
    "Logistic": (lambda: Logistic(jnp.array(0.5), jnp.array(1.5)), (-40, 40)),
    "Exponential": (lambda: Exponential(jnp.array(0.7)), (0, 40)),
    "Transformed(StandardNormal)": (
        lambda: Transformed(StandardNormal(), Chain([Affine(0.1, 0.5), Exp()])),
        (1e-9, 40),
    ),
    # Implicitly reparameterized (JAX's samplers): per-sample finite differences are
    # the wrong oracle for these, the expectation is the right one.
    "Gamma": (lambda: Gamma(jnp.array(2.0), jnp.array(1.5)), (1e-9, 40)),
    "Beta": (lambda: Beta(jnp.array(2.0), jnp.array(3.0)), (1e-9, 1 - 1e-9)),
    "StudentT": (
        lambda: StudentT(jnp.array(3.0), jnp.array(0.5), jnp.array(1.5)),
        (-40, 40),
    ),
}

# Monte Carlo samples, from the variance: per-sample gradients here have standard
# deviation <~0.6, so 2**14 samples give standard errors <~0.005 against gradients
# >~0.05. StudentT's df gradient is weaker (~0.005, sd ~0.14) and needs 2**16.
N_MC = 2**14
_n_mc = {"StudentT": 2**16}
# Tolerance in standard errors. The keys are fixed, so the test is deterministic; under
# an unbiased estimator each of the ~30 comparisons fails with probability 6e-5.
N_SIGMA = 4


def assert_unbiased(mc, reference):
    """The mean of per-sample gradients ``mc`` is within N_SIGMA of ``reference``."""
    mean, se = mc.mean(0), mc.std(0) / np.sqrt(len(mc))
    # Power: zeroing, halving, doubling or flipping any gradient moves it > N_SIGMA.
    assert np.all(np.abs(reference) > 2 * N_SIGMA * se), (reference, se)
    np.testing.assert_array_less(np.abs(mean - reference), N_SIGMA * se)


@pytest.mark.parametrize("name", _expectation_cases)
def test_pathwise_gradient_is_unbiased(name):
    make, (lo, hi) = _expectation_cases[name]
    dist = make()
    mc = pathwise_grad(dist, jr.key(4), n=_n_mc.get(name, N_MC))
    assert_unbiased(mc, quadrature_grad(dist, *trapezoid(lo, hi)))


def test_multivariate_normal_gradient_is_unbiased():
    dist = MultivariateNormal(
        jnp.array([0.5, -1.0]), jnp.array([[2.0, 0.3], [0.3, 1.0]])
    )
    mc = pathwise_grad(dist, jr.key(4), n=N_MC)
    reference = quadrature_grad(dist, *trapezoid_2d(-15, 15))
    # The upper triangle of the stored triangular matrix is masked out: no gradient.
    used = reference != 0
    assert_unbiased(mc[:, used], reference[used])


def test_uniform_bounds_get_zero_gradient():
    # Known exception: Uniform wraps its bounds in paramax.non_trainable, so pathwise
    # gradients wrt them are exactly zero, although E[f(x)] depends on the bounds.
    dist = Uniform(jnp.array(-1.0), jnp.array(2.0))
    grad = eqx.filter_grad(lambda d: f(d.sample(jr.key(0), (100,))))(dist)
    leaves = jax.tree.leaves(grad)
    assert len(leaves) == 2
    assert all(jnp.all(leaf == 0) for leaf in leaves)

    def expectation(minval):
        grid, weights = trapezoid(minval, 2.0)
        return jnp.sum(weights * jax.vmap(f)(grid)) / (2.0 - minval)

    assert abs(jax.grad(expectation)(-1.0)) > 0.1


def _mixture():
    normals = eqx.filter_vmap(Normal)(jnp.array([-1.0, 2.0]), jnp.array([0.8, 1.2]))
    return VmapMixture(normals, weights=jnp.array([0.3, 0.7]))


def test_vmap_mixture_weights_get_no_pathwise_gradient():
    # Known exception: the component is a discrete draw, so the weights receive no
    # pathwise gradient, while dE[f]/dweights is not zero. The components' parameters
    # do get unbiased pathwise gradients.
    dist = _mixture()
    mc = pathwise_grad(dist, jr.key(4), n=N_MC)
    reference = quadrature_grad(dist, *trapezoid(-40, 40))
    params = partition(dist)[0]
    mask = eqx.tree_at(
        lambda d: d.log_normalized_weights.args[0],
        jax.tree.map(lambda leaf: jnp.zeros(leaf.shape, bool), params),
        replace=jnp.ones(2, bool),
    )
    is_weight = np.asarray(ravel_pytree(mask)[0])
    assert np.all(mc[:, is_weight] == 0)
    assert np.all(np.abs(reference[is_weight]) > 0.05)
    assert_unbiased(mc[:, ~is_weight], reference[~is_weight])


def test_planar_flow_default_cannot_sample():
    # Known exception: the default (invert=True, tanh) needs Planar's inverse, which
    # is only implemented for leaky relu; invert=False or negative_slope can sample.
    flow = planar_flow(jr.key(0), base_dist=Normal(jnp.zeros(3)))
    with pytest.raises(NotImplementedError, match="leaky relu"):
        flow.sample(jr.key(1))


@pytest.mark.parametrize("name", ["Normal", "coupling_flow"])
def test_gradient_composes_with_jit(name):
    make = _explicit_distributions.get(name) or _flows[name]
    dist = perturb(make(), jr.key(1))

    def loss(d):
        return f(d.sample(jr.key(2), (3,)))

    eager = eqx.filter_grad(loss)(dist)
    jitted = eqx.filter_jit(eqx.filter_grad(loss))(dist)
    for a, b in zip(jax.tree.leaves(eager), jax.tree.leaves(jitted), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_gradient_composes_with_filter_vmap():
    locs, scales = jnp.array([0.5, -1.0, 2.0]), jnp.array([2.0, 0.7, 1.1])
    dists = eqx.filter_vmap(Normal)(locs, scales)

    def grad_one(d):
        return eqx.filter_grad(lambda d: f(d.sample(jr.key(2))))(d)

    batched = eqx.filter_vmap(grad_one)(dists)
    for i in range(3):
        single = grad_one(Normal(locs[i], scales[i]))
        assert batched.bijection.loc[i] == pytest.approx(single.bijection.loc)
        assert batched.bijection.scale.args[0][i] == pytest.approx(
            single.bijection.scale.args[0]
        )


def distributions_in(tree):
    """Class names of every distribution nested in ``tree`` (e.g. a flow's base)."""
    found = set()
    if isinstance(tree, AbstractDistribution):
        found.add(type(tree).__name__)
    if isinstance(tree, eqx.Module):
        for field in dataclasses.fields(tree):
            found |= distributions_in(getattr(tree, field.name, None))
    elif isinstance(tree, list | tuple):
        for item in tree:
            found |= distributions_in(item)
    return found


def public_concrete_distributions():
    """Public, concrete distribution classes defined in flowjax.distributions."""
    module = flowjax.distributions
    return {
        name
        for name, cls in vars(module).items()
        if inspect.isclass(cls)
        and issubclass(cls, AbstractDistribution)
        and cls.__module__ == module.__name__
        and not name.startswith("_")
        and not inspect.isabstract(cls)
        and not getattr(cls, "__abstractvars__", None)
    }


def flow_constructors():
    """Public functions defined in flowjax.flows."""
    module = flowjax.flows
    return {
        name
        for name, fn in vars(module).items()
        if inspect.isfunction(fn)
        and fn.__module__ == module.__name__
        and not name.startswith("_")
    }


def test_every_distribution_and_flow_has_a_case():
    built = [make() for make in _explicit_distributions.values()]
    built += [make() for make, _ in _expectation_cases.values()]
    built += [_mixture(), Uniform(0, 1), *(make() for make in _flows.values())]
    covered = set().union(*map(distributions_in, built))
    missing = sorted(public_concrete_distributions() - covered)
    assert not missing, f"distributions without a reparameterization case: {missing}"
    flows = {make.constructor.__name__ for make in _flows.values()}
    missing = sorted(flow_constructors() - flows)
    assert not missing, f"flows without a reparameterization case: {missing}"


def test_normal_sample_gradient_issue_181():
    grad = eqx.filter_grad(lambda d, key: d.sample(key))(Normal(), key=jr.key(0))
    assert grad.bijection.loc == 1


# name -> how sampling is called
_normal_sample_cases = {
    "single": {"sample_shape": (), "jit": False},
    "batch": {"sample_shape": (5,), "jit": False},
    "jit": {"sample_shape": (), "jit": True},
    "batch-jit": {"sample_shape": (3, 2), "jit": True},
}


@pytest.mark.parametrize(
    "case",
    _normal_sample_cases.values(),
    ids=_normal_sample_cases.keys(),
)
def test_normal_scale_gradient_is_wrt_unconstrained(case):
    # Normal(loc, scale) samples loc + softplus(u) * z with z ~ N(0, 1), so for the
    # unconstrained scale u, d/du sum(x) = sum(z) * sigmoid(u).
    dist = Normal(jnp.array(0.5), jnp.array(2.0))
    key = jr.key(1)

    def total(d):
        return d.sample(key, case["sample_shape"]).sum()

    grad_fn = eqx.filter_grad(total)
    if case["jit"]:
        grad_fn = eqx.filter_jit(grad_fn)
    grad = grad_fn(dist)

    z = dist.base_dist.sample(key, case["sample_shape"])
    u = dist.bijection.scale.args[0]
    assert grad.bijection.loc == pytest.approx(z.size)
    assert grad.bijection.scale.args[0] == pytest.approx(z.sum() * jax.nn.sigmoid(u))
