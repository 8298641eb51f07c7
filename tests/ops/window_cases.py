"""Shared cases for the sliding-window op tests (im2col, conv2d, max_pool2d): drawn window
geometries, seeded random arrays, the same values stored in other memory layouts, and
references for convolution and max-pooling written with plain loops over output pixels."""

import numpy as np
from hypothesis import strategies as st


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


def pool_by_loops(x, kernel, stride, pad):
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    out_h, out_w = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    y = np.empty((*x.shape[:2], out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            y[:, :, i, j] = x[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw].max(axis=(2, 3))
    return y


# ----- drawn geometries -----------------------------------------------------------------
@st.composite
def conv_geometry(draw, max_pad=2, pool=False):
    """(input shape, kernel, stride, pad) with at least one window; rectangular often."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    limits = (kernel[0] // 2, kernel[1] // 2) if pool else (max_pad, max_pad)
    pad = (draw(st.integers(0, limits[0])), draw(st.integers(0, limits[1])))
    h = draw(st.integers(max(1, kernel[0] - 2 * pad[0]), 5))
    w = draw(st.integers(max(1, kernel[1] - 2 * pad[1]), 5))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), h, w)
    return shape, kernel, stride, pad


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
