"""FIXED (benchmarks/fixed_cost.py): its ops-on-arrays step is graphkit's step, and it
reports the fixed cost at every batch size it times."""

import numpy as np
import pytest

from benchmarks.conv_steps import TINYNET_PADS, graphkit_cnn_step_fn, tinynet_setup
from benchmarks.fixed_cost import BATCHES, ArrayOpsStep, fixed_cost


def test_the_ops_on_arrays_step_follows_graphkits_step_step_by_step():
    x, t, arrays = tinynet_setup(4)
    gk_step, gk_params = graphkit_cnn_step_fn(x, t, arrays, TINYNET_PADS)
    array_params = [a.copy() for a in arrays]
    array_step = ArrayOpsStep(x, t, array_params).step
    for _ in range(3):
        assert array_step() == gk_step()
    for ours, theirs in zip(array_params, gk_params):
        np.testing.assert_array_equal(ours, theirs.data)
    assert not np.array_equal(array_params[0], arrays[0])  # the steps did update


def test_fixed_cost_reports_each_batch_and_the_split_at_batch_1():
    result = fixed_cost(1)
    extra = result.extra
    for batch in BATCHES:
        full = extra[f"graphkit step us @batch {batch}"]
        tuned = extra[f"tuned step us @batch {batch}"]
        assert full > 0 and tuned > 0
        assert extra[f"graphkit - tuned us @batch {batch}"] == pytest.approx(full - tuned)
    on_arrays = extra["graphkit's ops on arrays us @batch 1"]
    engine = extra["engine's share us @batch 1"]
    assert engine + on_arrays == pytest.approx(result.times["graphkit"])
    assert result.times["numpy"] == extra["tuned step us @batch 1"]
