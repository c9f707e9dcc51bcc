"""The catalogue of gradient-breaking mutations of FlowJAX used by `make mutation-report`.

Each mutation is one exact source edit that leaves every sample value unchanged and breaks
only a gradient: ``stop_gradient`` (silently zero, as in issues #176 and #216), or a
gradient that is wrong but not zero: ``2 * p - stop_gradient(p)`` (value p, gradient
doubled), ``(p + stop_gradient(p)) / 2`` (halved) and ``2 * stop_gradient(p) - p``
(flipped); inside ``NumericalInverse``'s JVP rule, also a tangent scaled by 0.9 (10% low).
Edits call ``_mut_jax``, which the runner imports at the end of the mutated file.
"""

from __future__ import annotations

from dataclasses import dataclass

SG = "_mut_jax.lax.stop_gradient"


@dataclass(frozen=True)
class Mutation:
    """A named edit of one FlowJAX source file.

    Attributes:
        name: Short identifier, used in the report.
        path: File in the checkout, e.g. ``flowjax/bijections/affine.py``.
        old: Text that must occur exactly once in ``path``.
        new: Its replacement.
        what: What the edit does to the gradient, for the report.
    """

    name: str
    path: str
    old: str
    new: str
    what: str


AFFINE, BNAF, UTILS = (
    "flowjax/bijections/affine.py",
    "flowjax/bijections/block_autoregressive_network.py",
    ("flowjax/bijections/utils.py"),
)
DISTS = "flowjax/distributions.py"

CATALOGUE = (
    Mutation(
        "affine-scale-grad-doubled",
        AFFINE,
        "return x * self.scale + self.loc,",
        f"return x * (2 * self.scale - {SG}(self.scale)) + self.loc,",
        "Affine.transform: scale gradient doubled (loc-scale distributions, flow bases)",
    ),
    Mutation(
        "affine-loc-stop-gradient",
        AFFINE,
        "return x * self.scale + self.loc,",
        f"return x * self.scale + {SG}(self.loc),",
        "Affine.transform: loc gradient zero",
    ),
    Mutation(
        "scale-grad-flipped",
        AFFINE,
        "return x * self.scale, jnp.log",
        f"return x * (2 * {SG}(self.scale) - self.scale), jnp.log",
        "Scale.transform: gradient sign flipped (Exponential, Gamma)",
    ),
    Mutation(
        "triangular-affine-grad-doubled",
        AFFINE,
        "y = self.triangular @ x + self.loc",
        f"y = (2 * self.triangular - {SG}(self.triangular)) @ x + self.loc",
        "TriangularAffine.transform: matrix gradient doubled (MultivariateNormal sampling)",
    ),
    Mutation(
        "coupling-inverse-condition-stop-gradient",
        "flowjax/bijections/coupling.py",
        "else jnp.concatenate((x_cond, condition))",
        f"else jnp.concatenate((x_cond, {SG}(condition)))",
        "Coupling.inverse: no gradient to the condition (coupling_flow sampling)",
    ),
    Mutation(
        "maf-inverse-stop-gradient",
        "flowjax/bijections/masked_autoregressive.py",
        "x = y.at[rank].set(x[rank])",
        f"x = y.at[rank].set({SG}(x[rank]))",
        "MaskedAutoregressive.inverse (autoregressive loop): output gradient zero",
    ),
    Mutation(
        "maf-inverse-condition-stop-gradient",
        "flowjax/bijections/masked_autoregressive.py",
        "nn_input = y if condition is None else jnp.hstack((y, condition))",
        f"nn_input = y if condition is None else jnp.hstack((y, {SG}(condition)))",
        "MaskedAutoregressive.inverse: no gradient to the condition",
    ),
    Mutation(
        "bnaf-layer-grad-flipped",
        BNAF,
        "            x = linear(x)\n            if i == 0",
        f"            x = 2 * {SG}(linear(x)) - linear(x)\n            if i == 0",
        "BlockAutoregressiveNetwork.transform: hidden layers' Jacobian sign flipped",
    ),
    Mutation(
        "bnaf-condition-stop-gradient",
        BNAF,
        "x += self.cond_linear(condition)",
        f"x += self.cond_linear({SG}(condition))",
        "BlockAutoregressiveNetwork.transform: no gradient to the condition",
    ),
    Mutation(
        "numerical-inverse-no-implicit-jvp",
        UTILS,
        "x = self.inverter(self.bijection, y, condition=condition)",
        f"x = {SG}(self.inverter(self.bijection, y, condition=condition))",
        "NumericalInverse.inverse: gradient zero, as BNAF(invert=True) behaved in #176/#216",
    ),
    Mutation(
        "numerical-inverse-jvp-sign-flipped",
        UTILS,
        "return x_star, x_star_tangent",
        "return x_star, -x_star_tangent",
        "NumericalInverse: implicit custom JVP with the wrong sign",
    ),
    Mutation(
        "numerical-inverse-condition-tangent-dropped",
        UTILS,
        "eqx.filter_jvp(residual, primals, tangents)",
        "eqx.filter_jvp(residual, primals, (*tangents[:2], None))",
        "NumericalInverse: implicit JVP ignores the condition's tangent",
    ),
    Mutation(
        "numerical-inverse-condition-tangent-doubled",
        UTILS,
        "eqx.filter_jvp(residual, primals, tangents)",
        "eqx.filter_jvp(residual, primals, (*tangents[:2], _mut_jax.tree.map(lambda t: 2 * t, tangents[2])))",
        "NumericalInverse: implicit JVP doubles the condition's tangent",
    ),
    Mutation(
        "affine-loc-grad-halved",
        AFFINE,
        "return x * self.scale + self.loc,",
        f"return x * self.scale + (self.loc + {SG}(self.loc)) / 2,",
        "Affine.transform: loc gradient halved",
    ),
    Mutation(
        "gamma-concentration-grad-halved",
        DISTS,
        "return jr.gamma(key, self.concentration)",
        f"return jr.gamma(key, (self.concentration + {SG}(self.concentration)) / 2)",
        "Gamma: implicit gradient wrt concentration halved",
    ),
    Mutation(
        "beta-beta-grad-flipped",
        DISTS,
        "return jr.beta(key, self.alpha, self.beta)",
        f"return jr.beta(key, self.alpha, 2 * {SG}(self.beta) - self.beta)",
        "Beta: implicit gradient wrt beta sign flipped",
    ),
    Mutation(
        "student-t-df-grad-doubled",
        DISTS,
        "return jr.t(key, df=self.df, shape=self.shape)",
        f"return jr.t(key, df=2 * self.df - {SG}(self.df), shape=self.shape)",
        "StudentT: implicit gradient wrt df doubled",
    ),
    Mutation(
        "spline-inverse-knots-grad-halved",
        "flowjax/bijections/rational_quadratic_spline.py",
        "x_pos, y_pos, derivatives = self.x_pos, self.y_pos, self.derivatives\n"
        "        in_bounds = jnp.logical_and(\n            y >=",
        f"x_pos, y_pos, derivatives = self.x_pos, (self.y_pos + {SG}(self.y_pos)) / 2, self.derivatives\n"
        "        in_bounds = jnp.logical_and(\n            y >=",
        "RationalQuadraticSpline.inverse: knot-height gradient halved",
    ),
    Mutation(
        "planar-weight-stop-gradient",
        "flowjax/bijections/planar.py",
        "w, u, bias = params[:dim], params[dim : 2 * dim], params[-1]",
        f"w, u, bias = {SG}(params[:dim]), params[dim : 2 * dim], params[-1]",
        "Planar: no gradient to the weight vector w (or, conditional, the conditioner)",
    ),
    Mutation(
        "spline-inverse-knots-stop-gradient",
        "flowjax/bijections/rational_quadratic_spline.py",
        "x_pos, y_pos, derivatives = self.x_pos, self.y_pos, self.derivatives\n"
        "        in_bounds = jnp.logical_and(\n            y >=",
        f"x_pos, y_pos, derivatives = self.x_pos, {SG}(self.y_pos), self.derivatives\n"
        "        in_bounds = jnp.logical_and(\n            y >=",
        "RationalQuadraticSpline.inverse: no gradient to the knot heights",
    ),
    Mutation(
        "transformed-sample-and-log-prob-x-stop-gradient",
        DISTS,
        "return sample, log_prob_base - forward_log_dets",
        f"return {SG}(sample), log_prob_base - forward_log_dets",
        "Transformed.sample_and_log_prob: the sample output loses its gradient",
    ),
    Mutation(
        "transformed-sample-and-log-prob-lp-stop-gradient",
        DISTS,
        "return sample, log_prob_base - forward_log_dets",
        f"return sample, {SG}(log_prob_base - forward_log_dets)",
        "Transformed.sample_and_log_prob: the log_prob output loses its gradient",
    ),
    Mutation(
        "transformed-sample-grad-doubled",
        DISTS,
        "return self.bijection.transform(base_sample, condition)",
        f"return 2 * self.bijection.transform(base_sample, condition) - {SG}("
        "self.bijection.transform(base_sample, condition))",
        "Transformed.sample: every gradient doubled (sample only, not sample_and_log_prob)",
    ),
    Mutation(
        "gamma-concentration-stop-gradient",
        DISTS,
        "return jr.gamma(key, self.concentration)",
        f"return jr.gamma(key, {SG}(self.concentration))",
        "Gamma: implicit reparameterization of concentration disabled",
    ),
    Mutation(
        "beta-alpha-stop-gradient",
        DISTS,
        "return jr.beta(key, self.alpha, self.beta)",
        f"return jr.beta(key, {SG}(self.alpha), self.beta)",
        "Beta: implicit reparameterization of alpha disabled",
    ),
    Mutation(
        "student-t-df-stop-gradient",
        DISTS,
        "return jr.t(key, df=self.df, shape=self.shape)",
        f"return jr.t(key, df={SG}(self.df), shape=self.shape)",
        "StudentT: implicit reparameterization of df disabled",
    ),
    Mutation(
        "mixture-component-stop-gradient",
        DISTS,
        "return component_dist._sample(key2, condition)",
        f"return {SG}(component_dist._sample(key2, condition))",
        "VmapMixture: the drawn component's sample loses its gradient",
    ),
    Mutation(
        "numerical-inverse-parameter-tangent-dropped",
        UTILS,
        "eqx.filter_jvp(residual, primals, tangents)",
        "eqx.filter_jvp(residual, primals, (None, *tangents[1:]))",
        "NumericalInverse: implicit JVP ignores the bijection's parameters (BNAF(invert=True) sampling)",
    ),
    Mutation(
        "numerical-inverse-parameter-tangent-halved",
        UTILS,
        "eqx.filter_jvp(residual, primals, tangents)",
        "eqx.filter_jvp(residual, primals, (_mut_jax.tree.map(lambda t: t / 2, tangents[0]), *tangents[1:]))",
        "NumericalInverse: implicit JVP halves the parameters' tangent",
    ),
    Mutation(
        "numerical-inverse-parameter-tangent-10pc-low",
        UTILS,
        "eqx.filter_jvp(residual, primals, tangents)",
        "eqx.filter_jvp(residual, primals, (_mut_jax.tree.map(lambda t: 0.9 * t, tangents[0]), *tangents[1:]))",
        "NumericalInverse: implicit JVP scales the parameters' tangent by 0.9",
    ),
    Mutation(
        "numerical-inverse-condition-tangent-10pc-low",
        UTILS,
        "eqx.filter_jvp(residual, primals, tangents)",
        "eqx.filter_jvp(residual, primals, (*tangents[:2], _mut_jax.tree.map(lambda t: 0.9 * t, tangents[2])))",
        "NumericalInverse: implicit JVP scales the condition's tangent by 0.9",
    ),
)
