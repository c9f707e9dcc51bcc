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

Finite differences and quadrature need float64, which is enabled only in the tests
that use them (the ``float64`` fixture).
"""

import dataclasses
import inspect
import itertools
from functools import cache, partial

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

# Each compiled function here runs once, and compiling dominates this file's run time:
# without LLVM optimisation and XLA's fusion emitters it compiles about 3x as fast.
COMPILER_OPTIONS = {
    "xla_backend_optimization_level": 0,
    "xla_llvm_disable_expensive_passes": True,
    "xla_cpu_use_fusion_emitters": False,
    "xla_cpu_parallel_codegen_split_count": 1,
}
jit = partial(jax.jit, compiler_options=COMPILER_OPTIONS)


@pytest.fixture
def float64():
    # Scoped to one test: everything else keeps JAX's default float32.
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


def perturb(dist, seed, scale=0.1):
    """Move every trainable leaf off its initialisation (e.g. zero-initialised layers).

    At zero-initialised weights, gradients wrt earlier layers are exactly zero, which
    would let a gradient that is wrongly zero pass unnoticed.
    """
    params, static = partition(dist)
    rng = np.random.default_rng(seed)
    params = jax.tree.map(
        lambda p: np.asarray(p) + scale * rng.standard_normal(p.shape), params
    )
    return eqx.combine(params, static)


def build_float64(make):
    """``make()`` built in float32, as users build it, then cast to float64.

    Eager construction compiles many small kernels; in float32 they are shared with
    the rest of the suite.
    """
    with jax.enable_x64(new_val=False):
        built = make()
    return jax.tree.map(
        lambda leaf: (
            np.asarray(leaf, np.float64) if eqx.is_inexact_array(leaf) else leaf
        ),
        built,
    )


def central_difference(fn, x, directions, eps):
    """Central differences of ``fn`` at ``x`` along each row of ``directions``."""
    values = jax.vmap(fn)(jnp.concatenate([x + eps * directions, x - eps * directions]))
    plus, minus = jnp.split(values, 2)
    return (plus - minus) / (2 * eps)


def leaf_directions(params, seed):
    """One random unit direction per trainable leaf, zero outside it (flattened)."""
    sizes = [leaf.size for leaf in jax.tree.leaves(params)]
    rng = np.random.default_rng(seed)
    directions = np.zeros((len(sizes), sum(sizes)))
    for i, (lo, hi) in enumerate(itertools.pairwise(np.cumsum([0, *sizes]))):
        direction = rng.standard_normal(hi - lo)
        directions[i, lo:hi] = direction / np.linalg.norm(direction)
    return directions


def pathwise_grads(dist, keys, fn=f):
    """Per-sample pathwise gradients of ``fn(dist.sample(key))`` wrt trainable leaves.

    Returns:
        Array of shape ``(len(keys), n_params)``: one flattened gradient per key.
    """
    params, static = partition(dist)

    def one(params, key):
        return fn(eqx.combine(params, static).sample(key))

    grads = jax.vmap(jax.grad(one), in_axes=(None, 0))(params, keys)
    return jax.vmap(lambda grad: ravel_pytree(grad)[0])(grads)


def quadrature_grad(dist, grid, weights, fn=f):
    """d/dθ of the quadrature of fn(x)·p_θ(x), from ``log_prob``, not ``sample``."""
    params, static = partition(dist)

    def expectation(params):
        density = jnp.exp(eqx.combine(params, static).log_prob(grid))
        return jnp.sum(weights * density * jax.vmap(fn)(grid))

    return ravel_pytree(jax.grad(expectation)(params))[0]


def pathwise_and_quadrature_grads(dist, key, n, grid, weights):
    """``pathwise_grads`` over ``n`` keys and ``quadrature_grad``, compiled together.

    Returns:
        The per-sample gradients and the quadrature gradient, as numpy arrays.
    """
    params, static = partition(dist)

    @jit
    def grads(params, key):
        dist = eqx.combine(params, static)
        mc = pathwise_grads(dist, jr.split(key, n))
        return mc, quadrature_grad(dist, grid, weights)

    return jax.tree.map(np.asarray, grads(params, key))


def trapezoid(lo, hi, n=20001):
    grid = np.linspace(lo, hi, n)
    weights = np.full(n, (hi - lo) / (n - 1))
    weights[[0, -1]] /= 2
    return grid, weights


def trapezoid_2d(lo, hi, n=201):
    grid, weights = trapezoid(lo, hi, n)
    x, y = np.meshgrid(grid, grid)
    return np.stack([x.ravel(), y.ravel()], -1), np.outer(weights, weights).ravel()


def tight_bnaf_inverter(dim):
    # With the default atol=1e-5 the inverse is too coarse for finite differences at
    # eps=1e-6 to mean anything; at 1e-12 they resolve the implicit-JVP gradient.
    return root_finder_to_inverter(
        partial(
            bisect_check_expand_search, midpoint=np.zeros(dim), width=5, atol=1e-12
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
    """Constructor of a 3-d flow with a 2-d condition, on a trainable Normal base."""

    def make():
        base = Normal(jnp.array([0.1, -0.2, 0.3]), jnp.array([1.0, 0.8, 1.2]))
        extra = {k: v() if callable(v) else v for k, v in kwargs.items()}
        return constructor(
            jr.key(0), base_dist=base, cond_dim=2, flow_layers=2, **extra
        )

    make.constructor = constructor
    return make


# name -> flow constructor with a samplable configuration (sizes as in test_flows.py).
_flows = {
    "coupling_flow": _flow(coupling_flow),
    "masked_autoregressive_flow": _flow(masked_autoregressive_flow),
    "bnaf(invert=True)": _flow(
        block_neural_autoregressive_flow,
        inverter=lambda: tight_bnaf_inverter(3),
    ),
    "bnaf(invert=False)": _flow(block_neural_autoregressive_flow, invert=False),
    "planar_flow(invert=False)": _flow(
        planar_flow, invert=False, width_size=5, depth=1
    ),
    "planar_flow(negative_slope)": _flow(
        planar_flow, negative_slope=0.1, width_size=5, depth=1
    ),
    "triangular_spline_flow": _flow(triangular_spline_flow),
}

CONDITION = np.array([0.3, -0.5])


@cache
def flow(name):
    """The flow ``name`` in float64, off its initialisation; built once."""
    return perturb(build_float64(_flows[name]), seed=1)


# Central-difference step and tolerances (float64, unit directions). Explicit cases
# agree to ~1e-8 at eps=1e-6. BNAF(invert=True) inverts numerically to atol=1e-12;
# that residual, divided by 2 * eps, leaves ~1e-5 relative noise at eps=1e-5, so
# 1e-4 there: still far below any zeroed, flipped or rescaled gradient.
_fd_settings = {"bnaf(invert=True)": {"eps": 1e-5, "rtol": 1e-4, "atol": 1e-4}}


def assert_matches_finite_differences(name, outputs, params, directions, labels):
    """Reverse-mode directional derivatives of ``outputs`` equal central differences.

    Both are computed in one compiled function (compilation dominates the cost).

    Args:
        name: The case, for its finite-difference settings.
        outputs: Function of ``params`` returning a vector.
        params: Pytree of arrays.
        directions: Rows of directions in the space of ``params`` flattened.
        labels: A name for each output.
    """
    settings = {"eps": 1e-6, "rtol": 1e-6, "atol": 1e-7} | _fd_settings.get(name, {})

    @jit
    def derivatives(params, directions):
        x, unravel = ravel_pytree(params)

        def flat_outputs(x):
            return outputs(unravel(x))

        ad = directions @ jax.jacrev(flat_outputs)(x).T
        return ad, central_difference(flat_outputs, x, directions, settings["eps"])

    ad, fd = jax.tree.map(np.asarray, derivatives(params, directions))
    # Every direction moves some output, so a gradient wrongly zero cannot agree.
    assert np.all(np.abs(fd).max(axis=1) > 1e-4)
    for i, label in enumerate(labels):
        np.testing.assert_allclose(
            ad[:, i],
            fd[:, i],
            rtol=settings["rtol"],
            atol=settings["atol"],
            err_msg=label,
        )


def sample_and_log_prob_outputs(dist, key, condition=None):
    """``f(x)`` and the summed ``log_prob`` from ``sample_and_log_prob``."""
    x, log_prob = dist.sample_and_log_prob(key, (2,), condition=condition)
    return jnp.stack([f(x), log_prob.sum()])


def sample_outputs(dist, key):
    """``f(sample)``, then both ``sample_and_log_prob`` outputs, as one vector."""
    x = dist.sample(key, (2,))
    return jnp.concatenate([f(x)[None], sample_and_log_prob_outputs(dist, key)])


@pytest.mark.usefixtures("float64")
@pytest.mark.parametrize("name", _explicit_distributions)
def test_distribution_pathwise_gradient_matches_finite_differences(name):
    dist = perturb(build_float64(_explicit_distributions[name]), seed=1)
    params, static = partition(dist)

    def outputs(params):
        return sample_outputs(eqx.combine(params, static), jr.key(2))

    assert_matches_finite_differences(
        name,
        outputs,
        params,
        leaf_directions(params, seed=3),
        ["sample", "sample_and_log_prob[x]", "sample_and_log_prob[log_prob]"],
    )


def assert_flow_matches_finite_differences(name, *, wrt_condition):
    """Check every parameter leaf of flow ``name``, and its condition if asked.

    Bijections implement ``transform`` as ``transform_and_log_det(...)[0]``, so
    ``sample`` runs the same flow code as ``sample_and_log_prob``; the distribution
    cases above check both entry points of ``Transformed``.
    """
    params, static = partition(flow(name))

    def outputs(params_and_condition):
        params, condition = params_and_condition
        dist = eqx.combine(params, static)
        condition = condition if wrt_condition else CONDITION
        return sample_and_log_prob_outputs(dist, jr.key(2), condition)

    leaves = leaf_directions(params, seed=3)
    directions = np.zeros((len(leaves) + 2, leaves.shape[1] + 2))
    directions[: len(leaves), :-2] = leaves
    directions[len(leaves) :, -2:] = np.eye(2)
    if not wrt_condition:
        directions = directions[: len(leaves)]
    assert_matches_finite_differences(
        name,
        outputs,
        (params, CONDITION),
        directions,
        ["sample_and_log_prob[x]", "sample_and_log_prob[log_prob]"],
    )


# Known exception: NumericalInverse's implicit JVP passes the condition to
# eqx.filter_custom_jvp as a keyword argument, which cannot carry a tangent, so any
# gradient wrt the condition through BNAF(invert=True) sampling raises.
_condition_gradient_raises = ["bnaf(invert=True)"]


@pytest.mark.usefixtures("float64")
@pytest.mark.parametrize("name", _flows)
def test_flow_pathwise_gradient_matches_finite_differences(name):
    # Issues #176 and #216 were zero gradients wrt the condition through BNAF sampling.
    assert_flow_matches_finite_differences(
        name, wrt_condition=name not in _condition_gradient_raises
    )


@pytest.mark.usefixtures("float64")
@pytest.mark.xfail(
    raises=ValueError,
    strict=True,
    reason="implicit JVP of NumericalInverse takes condition as a keyword",
)
@pytest.mark.parametrize("name", _condition_gradient_raises)
def test_flow_condition_gradient_matches_finite_differences(name):
    assert_flow_matches_finite_differences(name, wrt_condition=True)


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


@pytest.mark.usefixtures("float64")
@pytest.mark.parametrize("name", _expectation_cases)
def test_pathwise_gradient_is_unbiased(name):
    make, (lo, hi) = _expectation_cases[name]
    dist = build_float64(make)
    n = _n_mc.get(name, N_MC)
    mc, reference = pathwise_and_quadrature_grads(
        dist, jr.key(4), n, *trapezoid(lo, hi)
    )
    assert_unbiased(mc, reference)


@pytest.mark.usefixtures("float64")
def test_multivariate_normal_gradient_is_unbiased():
    dist = build_float64(
        lambda: MultivariateNormal(
            jnp.array([0.5, -1.0]), jnp.array([[2.0, 0.3], [0.3, 1.0]])
        )
    )
    mc, reference = pathwise_and_quadrature_grads(
        dist, jr.key(4), N_MC, *trapezoid_2d(-15, 15)
    )
    # The upper triangle of the stored triangular matrix is masked out: no gradient.
    used = reference != 0
    assert_unbiased(mc[:, used], reference[used])


def test_uniform_bounds_get_zero_gradient():
    # Known exception: Uniform wraps its bounds in paramax.non_trainable, so pathwise
    # gradients wrt them are exactly zero, although E[f(x)] depends on the bounds.
    dist = Uniform(jnp.array(-1.0), jnp.array(2.0))
    grad = eqx.filter_jit(eqx.filter_grad(lambda d: f(d.sample(jr.key(0), (100,)))))
    leaves = jax.tree.leaves(grad(dist))
    assert len(leaves) == 2
    assert all(np.all(np.asarray(leaf) == 0) for leaf in leaves)

    # Leibniz rule: d/da of E[f] = ∫_a^b f(x) dx / (b - a) is (E[f] - f(a)) / (b - a).
    grid, weights = trapezoid(-1.0, 2.0)
    f_grid = np.sin(grid) * np.exp(-(grid**2) / 32)  # f on each grid point
    mean = np.sum(weights * f_grid) / 3.0
    assert abs((mean - f_grid[0]) / 3.0) > 0.1


def _mixture():
    normals = eqx.filter_vmap(Normal)(jnp.array([-1.0, 2.0]), jnp.array([0.8, 1.2]))
    return VmapMixture(normals, weights=jnp.array([0.3, 0.7]))


@pytest.mark.usefixtures("float64")
def test_vmap_mixture_weights_get_no_pathwise_gradient():
    # Known exception: the component is a discrete draw, so the weights receive no
    # pathwise gradient, while dE[f]/dweights is not zero. The components' parameters
    # do get unbiased pathwise gradients.
    dist = build_float64(_mixture)
    mc, reference = pathwise_and_quadrature_grads(
        dist, jr.key(4), N_MC, *trapezoid(-40, 40)
    )
    params = partition(dist)[0]
    mask = eqx.tree_at(
        lambda d: d.log_normalized_weights.args[0],
        jax.tree.map(lambda leaf: np.zeros(leaf.shape, bool), params),
        replace=np.ones(2, bool),
    )
    # Flattened in the order of pathwise_grads (ravel_pytree: leaves in tree order).
    is_weight = np.concatenate([leaf.ravel() for leaf in jax.tree.leaves(mask)])
    assert np.all(mc[:, is_weight] == 0)
    assert np.all(np.abs(reference[is_weight]) > 0.05)
    assert_unbiased(mc[:, ~is_weight], reference[~is_weight])


def test_planar_flow_default_cannot_sample():
    # Known exception: the default (invert=True, tanh) needs Planar's inverse, which
    # is only implemented for leaky relu; invert=False or negative_slope can sample.
    planar = planar_flow(
        jr.key(0),
        base_dist=StandardNormal((3,)),
        flow_layers=2,
        width_size=5,
        depth=1,
    )
    with pytest.raises(NotImplementedError, match="leaky relu"):
        planar.sample(jr.key(1))


def test_gradient_composes_with_filter_vmap():
    # x = loc + softplus(u) * z: df/dloc = f'(x) and df/du = f'(x) * z * sigmoid(u).
    loc, scale = jnp.array([0.5, -1.0, 2.0]), jnp.array([2.0, 0.7, 1.1])
    dists = eqx.filter_vmap(Normal)(loc, scale)
    key = jr.key(2)
    grad_fn = eqx.filter_grad(lambda d: f(d.sample(key)))
    grad = eqx.filter_jit(eqx.filter_vmap(grad_fn))(dists)

    @jit
    def expected(u):
        z = StandardNormal().sample(key)
        df = jax.vmap(jax.grad(f))(loc + jax.nn.softplus(u) * z)
        return df, df * z * jax.nn.sigmoid(u)

    d_loc, d_u = expected(dists.bijection.scale.args[0])
    np.testing.assert_allclose(grad.bijection.loc, d_loc, rtol=1e-6)
    np.testing.assert_allclose(grad.bijection.scale.args[0], d_u, rtol=1e-6)


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


def public_names(module, is_case):
    """Public names defined in ``module`` itself whose object satisfies ``is_case``."""
    return {
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and getattr(obj, "__module__", None) == module.__name__
        and is_case(obj)
    }


def is_concrete_distribution(obj):
    """A distribution class that can be instantiated (not an abstract base)."""
    return (
        inspect.isclass(obj)
        and issubclass(obj, AbstractDistribution)
        and not inspect.isabstract(obj)
        and not getattr(obj, "__abstractvars__", None)
    )


def test_every_distribution_and_flow_has_a_case():
    built = [make() for make in _explicit_distributions.values()]
    built += [make() for make, _ in _expectation_cases.values()]
    built += [_mixture(), Uniform(0, 1), *map(flow, _flows)]
    covered = set().union(*map(distributions_in, built))
    distributions = public_names(flowjax.distributions, is_concrete_distribution)
    missing = sorted(distributions - covered)
    assert not missing, f"distributions without a reparameterization case: {missing}"
    flows = {make.constructor.__name__ for make in _flows.values()}
    missing = sorted(public_names(flowjax.flows, inspect.isfunction) - flows)
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

    z = np.asarray(dist.base_dist.sample(key, case["sample_shape"]))
    u = np.asarray(dist.bijection.scale.args[0])
    sigmoid_u = 1 / (1 + np.exp(-u))
    assert grad.bijection.loc == pytest.approx(z.size)
    assert grad.bijection.scale.args[0] == pytest.approx(z.sum() * sigmoid_u)
