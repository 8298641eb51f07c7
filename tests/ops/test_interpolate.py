"""interpolate (graphkit.ops.interpolate): values against a loop over output pixels that
follows PyTorch's formulas (nearest: floor(o / scale) in float32, with its copy and
halving cases; bilinear with align_corners=False) and against known results, output
sizes floor(H * scale) for whole and fractional factors, InterpolateAdjoint as the
adjoint, gradients, forward mode and second order on drawn cases, float32 kept, memory
layouts, and the error messages."""

import math

import numpy as np
import pytest
from derivatives import assert_forward_mode, assert_second_order
from hypothesis import given, settings
from hypothesis import strategies as st
from window_cases import LAYOUTS, assert_jvp_ignores_layouts, random_array

import graphkit as gk
from graphkit import functional as F
from graphkit.func import hessian, jacrev
from graphkit.ops.interpolate import InterpolateAdjoint
from graphkit.testing import gradcheck
from graphkit.testing import strategies as gst


# ----- PyTorch's formulas, one output position at a time --------------------------------
def nearest_source(o, in_size, out_size, scale):
    if out_size == in_size:
        return o
    if out_size == 2 * in_size:
        return o >> 1
    ratio = np.float32(1.0 / scale)
    return min(math.floor(np.float32(o) * ratio), in_size - 1)


def linear_sources(o, in_size, out_size, scale, real):
    """((index0, weight0), (index1, weight1)) of output position o, in floats of ``real``."""
    if out_size == in_size:
        return (o, 1.0), (o, 0.0)
    ratio = real(1.0 / scale)
    source = max(ratio * (real(o) + real(0.5)) - real(0.5), real(0))
    index = min(math.floor(source), in_size - 1)
    upper = min(max(source - real(index), real(0)), real(1))
    return (index, 1 - upper), (index + (index < in_size - 1), upper)


def interpolate_by_loops(x, scale, mode):
    scales = (scale, scale) if np.ndim(scale) == 0 else scale
    (B, C, H, W), real = x.shape, np.float32 if x.dtype == np.float32 else np.float64
    sizes = [math.floor(n * s) for n, s in zip((H, W), scales)]
    y = np.zeros((B, C, *sizes), x.dtype)
    for i in range(sizes[0]):
        for j in range(sizes[1]):
            if mode == "nearest":
                rows = [(nearest_source(i, H, sizes[0], scales[0]), 1.0)]
                cols = [(nearest_source(j, W, sizes[1], scales[1]), 1.0)]
            else:
                rows = linear_sources(i, H, sizes[0], scales[0], real)
                cols = linear_sources(j, W, sizes[1], scales[1], real)
            for r, wr in rows:
                for c, wc in cols:
                    y[:, :, i, j] += wr * wc * x[:, :, r, c]
    return y


@settings(max_examples=60)
@given(gst.interpolate_cases(max_side=6), st.integers(0, 2**16))
def test_interpolate_matches_pytorchs_formulas(case, seed):
    shape, scale, mode = case
    x = random_array(shape, seed)
    y = F.interpolate(x, scale, mode)
    scales = (scale, scale) if np.ndim(scale) == 0 else scale
    assert y.shape == (*shape[:2], *(math.floor(n * s) for n, s in zip(shape[2:], scales)))
    np.testing.assert_allclose(y.data, interpolate_by_loops(x, scale, mode), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize(
    ("size", "scale", "expected"),
    [
        (4, 1.5, [0, 0, 1, 2, 2, 3]),  # floor(o / 1.5)
        (5, 1.1, [0, 1, 2, 3, 4]),  # the size is kept: a copy, not floor(o / 1.1)
        (3, 2.3, [0, 0, 1, 1, 2, 2]),  # doubled: o // 2, not floor(o / 2.3)
        (6, 0.5, [0, 2, 4]),
        (3, 3, [0, 0, 0, 1, 1, 1, 2, 2, 2]),  # float32(1/3) * 3 rounds to 1, as PyTorch's
    ],
)
def test_nearest_picks_the_source_pixels_pytorch_does(size, scale, expected):
    x = np.arange(float(size)).reshape(1, 1, 1, size)
    np.testing.assert_array_equal(F.interpolate(x, (1, scale)).data[0, 0, 0], expected)


def test_nearest_doubling_repeats_every_pixel():
    x = random_array((2, 3, 4, 5))
    expected = x.repeat(2, axis=2).repeat(2, axis=3)
    np.testing.assert_array_equal(F.interpolate(x, 2).data, expected)


def test_bilinear_known_values():
    ramp = np.arange(3.0).reshape(1, 1, 1, 3)
    np.testing.assert_allclose(F.interpolate(ramp, (1, 2), "bilinear").data[0, 0, 0],
                               [0, 0.25, 0.75, 1.25, 1.75, 2])
    image = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    np.testing.assert_allclose(F.interpolate(image, 2, "bilinear").data[0, 0],
                               [[1.0, 1.25, 1.75, 2.0], [1.5, 1.75, 2.25, 2.5],
                                [2.5, 2.75, 3.25, 3.5], [3.0, 3.25, 3.75, 4.0]])
    constant = np.full((1, 2, 3, 4), 7.0)
    np.testing.assert_allclose(F.interpolate(constant, (1.7, 0.6), "bilinear").data, 7.0)


# ----- derivatives ----------------------------------------------------------------------
@given(gst.interpolate_cases(), st.integers(0, 2**16))
def test_interpolate_gradcheck_and_adjoint(case, seed):
    shape, scale, mode = case
    x = gk.Tensor(random_array(shape, seed), requires_grad=True)
    assert gradcheck(lambda t: F.interpolate(t, scale, mode), [x])
    y = F.interpolate(x, scale, mode)
    g = random_array(y.shape, seed + 1)
    op = y.grad_fn
    back = InterpolateAdjoint.apply(g, resampling=op.resampling, mode=op.mode,
                                    scale_factor=op.scale_factor)
    assert back.shape == shape
    np.testing.assert_allclose(np.sum(y.data * g), np.sum(x.data * back), rtol=1e-10,
                               atol=1e-10)


@settings(max_examples=20)
@given(gst.interpolate_cases(max_side=3), st.integers(0, 2**16))
def test_interpolate_forward_mode_and_second_order(case, seed):
    shape, scale, mode = case
    x = gk.Tensor(random_array(shape, seed), requires_grad=True)
    assert_forward_mode(lambda t: F.interpolate(t, scale, mode), [x])
    assert_second_order(lambda t: F.interpolate(t, scale, mode).tanh(), [x])


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_interpolate_hessian_in_forward_over_reverse(mode):
    x = random_array((1, 2, 3, 2))

    def f(t):
        return F.interpolate(t, (1.5, 2), mode).tanh().sum()

    np.testing.assert_allclose(hessian(f)(x).data, jacrev(jacrev(f))(x).data, rtol=1e-10,
                               atol=1e-12)


@settings(max_examples=15)
@given(gst.interpolate_cases(), st.integers(0, 2**16))
def test_interpolate_does_not_depend_on_memory_layouts(case, seed):
    shape, scale, mode = case
    x = random_array(shape, seed)
    assert_jvp_ignores_layouts(lambda t: F.interpolate(t, scale, mode), x, seed + 1)
    expected = F.interpolate(x, scale, mode).data
    for store in LAYOUTS.values():
        np.testing.assert_allclose(F.interpolate(store(x), scale, mode).data, expected,
                                   rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_interpolate_keeps_float32(mode):
    x = gk.Tensor(random_array((2, 3, 4, 5)).astype(np.float32), requires_grad=True)
    y = F.interpolate(x, 1.7, mode)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.data, interpolate_by_loops(x.data, 1.7, mode), rtol=1e-6,
                               atol=1e-6)
    y.sum().backward()
    assert x.grad.dtype == np.float32
    assert isinstance(gk.ops.interpolate(x.data, 2, mode), np.ndarray)


def test_interpolate_of_integers_copies_them_or_interpolates_in_float64():
    x = np.arange(12).reshape(1, 1, 3, 4)
    nearest = gk.ops.interpolate(x, 2)
    assert nearest.dtype == x.dtype
    np.testing.assert_array_equal(nearest, x.repeat(2, axis=2).repeat(2, axis=3))
    bilinear = gk.ops.interpolate(x, 2, "bilinear")
    assert bilinear.dtype == np.float64
    np.testing.assert_allclose(bilinear, F.interpolate(x.astype(float), 2, "bilinear").data)


@pytest.mark.parametrize(
    ("shape", "kwargs", "words"),
    [
        ((1, 1, 4, 4), {"scale_factor": 2, "mode": "bicubic"}, ["interpolate", "'bicubic'"]),
        ((1, 4, 4), {"scale_factor": 2}, ["interpolate", "(B, C, H, W)", "(1, 4, 4)"]),
        ((1, 1, 4, 4), {"scale_factor": 0}, ["interpolate", "positive", "0"]),
        ((1, 1, 4, 4), {"scale_factor": (2, 2, 2)}, ["interpolate", "(2, 2, 2)"]),
        ((1, 1, 4, 4), {"scale_factor": float("nan")}, ["interpolate", "nan"]),
        ((1, 1, 4, 4), {"scale_factor": 0.2}, ["interpolate", "(0, 0)", "no pixel"]),
    ],
)
def test_interpolate_rejects_bad_arguments(shape, kwargs, words):
    with pytest.raises(ValueError) as info:
        F.interpolate(np.zeros(shape), **kwargs)
    for word in words:
        assert word in str(info.value)
