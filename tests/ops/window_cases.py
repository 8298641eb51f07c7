"""Shared cases for the sliding-window op tests (im2col, conv2d, conv_transpose2d, the
pooling ops): seeded random arrays, the same values stored in other memory layouts,
references written with plain loops over pixels, and a check that forward mode does not
depend on how the primal and its tangent are stored. The drawn geometries are
``graphkit.testing.strategies.window_geometries`` and ``conv_transpose_geometries``."""

import numpy as np

import graphkit as gk
from graphkit.func import jvp


# ----- references written with loops over output pixels ---------------------------------
def conv_by_loops(x, W, b, stride, pad):
    (sh, sw), (ph, pw) = stride, pad
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    kh, kw = W.shape[2:]
    out_h, out_w = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    y = np.zeros((x.shape[0], W.shape[0], out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            window = x[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw]
            y[:, :, i, j] = np.einsum("bchw,ochw->bo", window, W) + b
    return y


def conv_transpose_by_loops(x, W, b, stride, pad):
    """Every input pixel adds W (C_in, C_out, KH, KW), scaled by its value, into its
    window of the output; then the padding is cropped away."""
    (sh, sw), (ph, pw) = stride, pad
    (B, _, H, Wd), (_, out_channels, kh, kw) = x.shape, W.shape
    full = np.zeros((B, out_channels, (H - 1) * sh + kh, (Wd - 1) * sw + kw))
    for i in range(H):
        for j in range(Wd):
            full[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw] += np.einsum(
                "bc,cokl->bokl", x[:, :, i, j], W
            )
    cropped = full[:, :, ph : full.shape[2] - ph, pw : full.shape[3] - pw]
    return cropped + np.reshape(b, (1, -1, 1, 1))


def pool_by_loops(x, kernel, stride, pad, reduce="max"):
    """Max-pooling (padding -inf) or, with reduce="mean", average pooling (padding zeros,
    counted in the mean)."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad
    fill = -np.inf if reduce == "max" else 0.0
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    out_h, out_w = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    y = np.empty((*x.shape[:2], out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            window = x[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw]
            y[:, :, i, j] = getattr(window, reduce)(axis=(2, 3))
    return y


def random_array(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ----- the same values in other memory layouts ------------------------------------------
def batch_last(x):
    """x (B, C, H, W) with the same values, stored (C, H, W, B) in memory: a view."""
    return np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)


def strided_copy(x):
    """x (B, C, H, W) with the same values, as a non-contiguous slice of a larger array."""
    B, C, H, W = x.shape
    big = np.full((B, 2 * C, 2 * H + 1, W + 2), np.nan)
    view = big[:, 1::2, 1::2, 2:]
    view[...] = x
    return view


def is_batch_last(y):
    """Whether y (B, C, H, W) is stored (C, H, W, B) in memory, by its strides."""
    return y.transpose(1, 2, 3, 0).flags.c_contiguous


LAYOUTS = {"batch first": np.ascontiguousarray, "batch last": batch_last, "strided": strided_copy}


def assert_jvp_ignores_layouts(fn, x, seed=0):
    """gk.func.jvp of fn at x (B, C, H, W) gives the same output and tangent, to rounding,
    whichever layout of LAYOUTS the primal and the tangent are each stored in."""
    tangent = random_array(x.shape, seed)
    expected = jvp(fn, (gk.Tensor(np.ascontiguousarray(x)),), (tangent,))
    for primal_layout in LAYOUTS.values():
        for tangent_layout in LAYOUTS.values():
            out, dout = jvp(fn, (gk.Tensor(primal_layout(x)),), (tangent_layout(tangent),))
            np.testing.assert_allclose(out.data, expected[0].data, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(dout.data, expected[1].data, rtol=1e-12, atol=1e-12)
