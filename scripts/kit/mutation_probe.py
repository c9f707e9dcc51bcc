"""Sample values of every case of the regression tests, for the mutation report's value check.

Run by `make mutation-report` with the kit environment's python, inside a (mutated) copy
of the checkout: ``python mutation_probe.py OUT.npz``. Not imported by the kit itself.
"""

from __future__ import annotations

import sys

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import test_reparameterization as t


def sample_values() -> dict[str, np.ndarray]:
    """``sample`` and both ``sample_and_log_prob`` outputs of every case, fixed keys."""
    key, values = jr.key(7), {}

    def record(name, dist, condition=None):
        # The cases hold numpy leaves; eager sampling (VmapMixture's filter_vmap)
        # wants JAX arrays, as the tests' compiled functions see them.
        dist = jax.tree.map(lambda leaf: jnp.asarray(leaf) if eqx.is_array(leaf) else leaf, dist)
        values[f"{name}/sample"] = np.asarray(dist.sample(key, (3,), condition=condition))
        x, log_prob = dist.sample_and_log_prob(key, (3,), condition=condition)
        values[f"{name}/sample_and_log_prob/x"] = np.asarray(x)
        values[f"{name}/sample_and_log_prob/log_prob"] = np.asarray(log_prob)

    with jax.enable_x64(True):
        for name, make in t._explicit_distributions.items():
            record(name, t.perturb(t.build_float64(make), seed=1))
        for name, (make, _) in t._expectation_cases.items():
            record(f"expectation/{name}", t.build_float64(make))
        for name in t._flows:
            record(name, t.flow(name), t.CONDITION)
        record("VmapMixture", t.build_float64(t._mixture))
    return values


if __name__ == "__main__":
    np.savez(sys.argv[1], **sample_values())
