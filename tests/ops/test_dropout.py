"""dropout (graphkit.ops.dropout): inverted scaling of the survivors, the gradient and the
forward-mode tangent routed through the same mask (to second order), the identity in eval
mode and at p=0, masks repeatable under a seed or a generator, float32 kept, and a
probability outside [0, 1] rejected."""

import numpy as np
import pytest
from derivatives import assert_forward_mode, assert_second_order
from hypothesis import given, settings
from hypothesis import strategies as st
from window_cases import random_array

import graphkit as gk
from graphkit import functional as F
from graphkit.func import jvp
from graphkit.testing import strategies as gst


def test_dropout_scales_survivors_and_routes_the_gradient():
    x = gk.Tensor(np.ones((200, 100)), requires_grad=True)
    y = F.dropout(x, p=0.3)
    kept = y.data != 0
    assert 0.65 < kept.mean() < 0.75
    np.testing.assert_allclose(y.data[kept], 1 / 0.7)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, y.data)


def test_dropout_is_the_identity_in_eval_mode_and_at_p0():
    x = gk.Tensor(random_array((3, 4)), requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0).data, np.zeros((3, 4)))


def test_dropout_masks_repeat_under_a_seed():
    x = np.ones((10, 10))
    np.random.seed(7)
    first = F.dropout(x, 0.5).data
    np.random.seed(7)
    np.testing.assert_array_equal(F.dropout(x, 0.5).data, first)
    masks = [F.dropout(x, 0.5, generator=np.random.default_rng(3)).data for _ in range(2)]
    np.testing.assert_array_equal(*masks)


def test_dropout_keeps_float32_and_rejects_bad_p():
    assert F.dropout(np.ones(5, np.float32), 0.5).dtype == np.float32
    with pytest.raises(ValueError, match=r"1\.5"):
        F.dropout(np.ones(3), 1.5)


@settings(max_examples=20)
@given(gst.tensors(shape=gst.shapes(1, 3)), st.sampled_from([0.2, 0.5, 0.9]),
       st.integers(0, 2**16))
def test_dropout_forward_mode_and_second_order(x, p, seed):
    def dropped(t):  # the same mask at every evaluation
        return F.dropout(t, p, generator=np.random.default_rng(seed))

    assert_forward_mode(dropped, [x])
    assert_second_order(lambda t: dropped(t).tanh(), [x])


def test_dropout_tangent_goes_through_the_forward_mask():
    x = random_array((50, 40))
    v = random_array((50, 40), 1)
    y, dy = jvp(lambda t: F.dropout(t, 0.4, generator=np.random.default_rng(5)), (x,), (v,))
    kept = y.data != 0
    assert 0.5 < kept.mean() < 0.7
    np.testing.assert_allclose(dy.data[kept], v[kept] / 0.6)
    np.testing.assert_array_equal(dy.data[~kept], 0)
