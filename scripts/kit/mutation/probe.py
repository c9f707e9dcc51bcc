"""Sample values of every case the stack's gradient tests use, for the mutation report.

Run by `make mutation-report` with the kit environment's python, inside a (mutated) copy
of the checkout (``PYTHONPATH`` = the copy): ``python probe.py OUT.npz``. Not
imported by the kit itself. Cases are built in float32, as the tests build them, and
sampled in float64 so that a value-preserving mutation compares equal to 1e-12.
"""

from __future__ import annotations

import sys

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from flowjax.distributions import Beta, Gamma, Normal, StudentT
from flowjax.flows import block_neural_autoregressive_flow, planar_flow

from tests import test_distributions, test_flows


def cases() -> dict[str, tuple]:
    """Name -> (distribution, condition), built in float32."""
    out = {}
    for param in test_distributions._test_distributions:
        out[param.id] = (param.values[0](shape=(2,)), None)
    out["Gamma(2, 3)"] = (Gamma(2.0, 3.0), None)
    out["Beta(2, 3)"] = (Beta(2.0, 3.0), None)
    out["StudentT(8, 1, 2)"] = (StudentT(8.0, 1.0, 2.0), None)
    out["Normal()"] = (Normal(), None)
    for name, make in test_flows.testcases.items():
        if name != "planar":  # cannot sample
            out[name] = (make(2), jnp.array([0.3, -0.5]))
    for invert, slope in [(False, None), (True, 0.1)]:  # the sentinels' planar cases
        kwargs = {"cond_dim": 2, "invert": invert, "negative_slope": slope, "width_size": 5, "depth": 1}
        planar = planar_flow(**test_flows.KWARGS, **kwargs)
        out[f"planar(invert={invert})"] = (planar, jnp.array([0.3, -0.5]))
    bnaf = block_neural_autoregressive_flow(jr.key(0), base_dist=Normal(jnp.zeros(1)), cond_dim=1)
    out["bnaf(invert=True), cond_dim=1"] = (bnaf, jnp.array([1.0]))
    return out


def sample_values() -> dict[str, np.ndarray]:
    """``sample`` and both ``sample_and_log_prob`` outputs of every case, fixed keys."""
    key, values = jr.key(7), {}
    built = cases()
    jax.config.update("jax_enable_x64", True)  # noqa: FBT003 (a process of its own)
    # Built in float64: the BNAF case's inverter holds float32 bounds a float64 flow rejects.
    for name, make in test_flows.sample_gradient_testcases.items():
        built[f"{name}(invert=True)"] = (make(), jnp.array([0.3, -0.5]))
    for name, (dist, condition) in built.items():
        dist = jax.tree.map(
            lambda leaf: jnp.asarray(leaf, jnp.float64) if eqx.is_inexact_array(leaf) else leaf, dist
        )
        values[f"{name}/sample"] = np.asarray(dist.sample(key, (3,), condition=condition))
        x, log_prob = dist.sample_and_log_prob(key, (3,), condition=condition)
        values[f"{name}/sample_and_log_prob/x"] = np.asarray(x)
        values[f"{name}/sample_and_log_prob/log_prob"] = np.asarray(log_prob)
    return values


if __name__ == "__main__":
    np.savez(sys.argv[1], **sample_values())
