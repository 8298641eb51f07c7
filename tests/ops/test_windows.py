"""The window helpers (graphkit.ops.windows): the geometry against brute force, the
per-offset views against the windows view, add_at_offsets as their adjoint (assigning
when the windows tile the input, adding otherwise, the same result either way), the
memory-layout helpers, and that the ops built on windows use these helpers rather than copies
of their own."""

from importlib import import_module

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from window_cases import LAYOUTS, random_array

from graphkit.ops import buffers, windows
from graphkit.ops.buffers import memory_axes
from graphkit.ops.im2col import im2col_array
from graphkit.ops.windows import (
    BATCH_LAST,
    add_at_offsets,
    check_pool_pad,
    kernel_offsets,
    offset_views,
    output_size,
    padded,
    pair,
    stored_as,
    tiles,
    transposed_output_size,
)
from graphkit.testing import strategies as gst

layouts = st.sampled_from(sorted(LAYOUTS))
orders = st.permutations(range(4)).map(tuple)


# ----- geometry -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"), [(3, (3, 3)), ((2, 5), (2, 5)), ([1, 4], (1, 4)), (np.int64(2), (2, 2))]
)
def test_pair_takes_an_int_or_an_h_w_pair(value, expected):
    assert pair(value, "kernel_size") == expected


@pytest.mark.parametrize("bad", [0, -1, (1, 2, 3), (2,), 1.5, (2, 0)])
def test_pair_names_what_it_checks(bad):
    with pytest.raises(ValueError, match=r"^conv2d: stride must be an int or an \(h, w\) pair"):
        pair(bad, "conv2d: stride")


def test_pair_minimum_allows_zero_padding():
    assert pair(0, "pad", minimum=0) == (0, 0)
    with pytest.raises(ValueError, match=">= 0"):
        pair(-1, "pad", minimum=0)


@given(gst.window_geometries(max_side=7, max_kernel=4, max_stride=3))
def test_output_size_counts_the_windows_that_fit(geometry):
    shape, kernel, stride, pad = geometry
    for axis in range(2):
        padded_side = shape[2 + axis] + 2 * pad[axis]
        starts = [s for s in range(0, padded_side, stride[axis]) if s + kernel[axis] <= padded_side]
        assert output_size(shape, kernel, stride, pad)[axis] == len(starts)


@given(gst.conv_transpose_geometries(max_side=5))
def test_transposed_output_size_is_the_smallest_image_with_that_many_windows(geometry):
    x_shape, W_shape, stride, pad = geometry
    kernel = W_shape[2:]
    size = transposed_output_size(x_shape, kernel, stride, pad)
    image = (x_shape[0], W_shape[1], *size)
    assert output_size(image, kernel, stride, pad) == x_shape[2:]
    for axis in range(2):
        smaller = list(image)
        smaller[2 + axis] -= 1
        if smaller[2 + axis] + 2 * pad[axis] >= kernel[axis]:
            assert output_size(tuple(smaller), kernel, stride, pad)[axis] < x_shape[2 + axis]


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: output_size((1, 1, 4, 4), (7, 3), (1, 1), (1, 1)), ["kernel (7, 3)", "(6, 6)"]),
        (lambda: output_size((4, 4), (2, 2), (1, 1), (0, 0)), ["(B, C, H, W)", "(4, 4)"]),
        (lambda: transposed_output_size((1, 1, 1, 3), (1, 1), (1, 1), (1, 0)),
         ["pad (1, 0)", "(-1, 3)"]),
        (lambda: check_pool_pad((3, 2), (1, 2)), ["pad (1, 2)", "half the kernel (3, 2)"]),
    ],
)
def test_geometry_errors_say_what_does_not_fit(call, words):
    with pytest.raises(ValueError) as info:
        call()
    for word in words:
        assert word in str(info.value)


def test_tiles_only_when_every_pixel_lies_in_exactly_one_window():
    assert tiles((1, 1, 6, 4), (3, 2), (2, 2), (2, 2), (0, 0))
    assert not tiles((1, 1, 7, 4), (3, 2), (2, 2), (2, 2), (0, 0))  # a row left over
    assert tiles((1, 1, 6, 4), (6, 4), (1, 1), (1, 1), (0, 0))  # 1x1 windows tile too
    assert not tiles((1, 1, 6, 4), (5, 3), (2, 2), (1, 1), (0, 0))  # overlapping
    assert not tiles((1, 1, 6, 4), (4, 3), (2, 2), (2, 2), (1, 1))  # padded


# ----- reading windows offset by offset, and the adjoint --------------------------------
@settings(max_examples=25)
@given(gst.window_geometries(), st.integers(0, 2**16), layouts)
def test_offset_views_are_the_windows_view_one_offset_at_a_time(geometry, seed, layout):
    shape, kernel, stride, pad = geometry
    x = LAYOUTS[layout](random_array(shape, seed))
    source = padded(x, pad, memory_axes(x))
    everything = windows.windows(source, kernel, stride)
    views = offset_views(source, kernel, stride, output_size(shape, kernel, stride, pad))
    assert len(views) == kernel[0] * kernel[1]
    for (i, j), view in zip(kernel_offsets(kernel), views):
        assert np.shares_memory(view, source)
        np.testing.assert_array_equal(view, everything[..., i, j])


@settings(max_examples=25)
@given(gst.window_geometries(), st.integers(0, 2**16), orders)
def test_add_at_offsets_is_the_adjoint_of_offset_views(geometry, seed, axes):
    shape, kernel, stride, pad = geometry
    out_size = output_size(shape, kernel, stride, pad)
    x = random_array(shape, seed)
    views = offset_views(padded(x, pad, memory_axes(x)), kernel, stride, out_size)
    shares = [random_array(views[0].shape, seed + 1 + k) for k in range(len(views))]
    back = add_at_offsets(shares, shape, out_size, kernel, stride, pad, axes, np.float64)
    assert back.shape == shape
    np.testing.assert_allclose(
        sum(np.sum(v * s) for v, s in zip(views, shares)), np.sum(x * back),
        rtol=1e-12, atol=1e-12,
    )


@pytest.mark.parametrize("kernel", [(2, 2), (3, 1), (1, 1)])
@pytest.mark.parametrize("axes", [(0, 1, 2, 3), BATCH_LAST])
def test_add_at_offsets_assigns_when_the_windows_tile_and_adds_otherwise_alike(kernel, axes):
    """With one more input row, which no window covers, the same shares take the adding
    path; the covered rows come out the same, the extra one zero."""
    B, C, H, W = 2, 3, 6, 3
    out_size = (H // kernel[0], W // kernel[1])
    shares = [random_array((B, C, *out_size), k) for k in range(kernel[0] * kernel[1])]
    fast = add_at_offsets(shares, (B, C, H, W), out_size, kernel, kernel, (0, 0), axes, float)
    general = add_at_offsets(shares, (B, C, H + 1, W), out_size, kernel, kernel, (0, 0), axes,
                             float)
    np.testing.assert_array_equal(fast, general[:, :, :H])
    np.testing.assert_array_equal(general[:, :, H], 0)
    assert memory_axes(fast) == memory_axes(general) == axes


# ----- memory layout --------------------------------------------------------------------
def test_padded_and_stored_as_copy_only_when_they_must():
    x = random_array((2, 3, 4, 5))
    assert padded(x, (0, 0), (0, 1, 2, 3)) is x
    assert stored_as(x, (0, 1, 2, 3)) is x
    last = stored_as(x, BATCH_LAST)
    assert memory_axes(last) == BATCH_LAST and not np.shares_memory(last, x)
    np.testing.assert_array_equal(last, x)
    framed = padded(x, (1, 2), BATCH_LAST, fill=-np.inf)
    assert framed.shape == (2, 3, 6, 9) and memory_axes(framed) == BATCH_LAST
    np.testing.assert_array_equal(framed[:, :, 1:-1, 2:-2], x)
    assert np.isneginf(framed[:, :, 0]).all() and np.isneginf(framed[:, :, :, -1]).all()


@pytest.mark.parametrize("fill", [0.0, -np.inf])
def test_a_padded_copy_comes_back_with_its_frame_and_a_new_interior(fill):
    """The frame is filled once and kept: the second call, handed the same buffer, must
    show the new x inside the old frame, never the first x."""
    buffers.release_buffers()
    first = padded(random_array((2, 3, 4, 5), 1), (1, 2), BATCH_LAST, fill)
    where = first.__array_interface__["data"][0]
    del first
    x = random_array((2, 3, 4, 5), 2)
    again = padded(x, (1, 2), BATCH_LAST, fill)
    assert again.__array_interface__["data"][0] == where
    np.testing.assert_array_equal(again[:, :, 1:-1, 2:-2], x)
    frame = np.ones(again.shape, bool)
    frame[:, :, 1:-1, 2:-2] = False
    assert (again[frame] == fill).all()
    held = padded(x, (1, 2), BATCH_LAST, fill)  # while `again` lives: another buffer
    assert not np.shares_memory(held, again)


def test_im2col_of_a_padded_input_never_hands_out_the_padded_copy():
    """1x1 windows of an unpadded x are x's own memory, but a padded copy's are not to be
    given away: whoever wrote into them would write into a kept frame."""
    x = random_array((2, 3, 4, 5))
    cols = im2col_array(x, (1, 1), (1, 1), (1, 1), "columns")
    cols[...] = 7.0
    again = padded(x, (1, 1), BATCH_LAST)
    assert (again[:, :, 0] == 0).all() and (again[:, :, :, -1] == 0).all()


@settings(max_examples=40)
@given(gst.window_geometries(), st.integers(0, 2**16), layouts,
       st.sampled_from(["whole", "offset view", "reversed", "read-only"]))
def test_the_windows_view_is_the_windows_of_any_array(geometry, seed, layout, kind):
    """Built straight on the memory x looks into when x is all of it in another order,
    through as_strided otherwise: the same windows either way, and read-only."""
    shape, kernel, _, _ = geometry
    assume(kernel[0] <= shape[2] and kernel[1] <= shape[3])
    x = LAYOUTS[layout](random_array(shape, seed))
    if kind == "offset view":
        x = np.pad(x, ((0, 0), (0, 0), (1, 0), (0, 1)))[:, :, 1:, :-1]
    elif kind == "reversed":
        x = x[:, :, ::-1, ::-1]
    elif kind == "read-only":
        x.setflags(write=False)
    view = windows.windows(x, kernel, (1, 1))
    expected = np.lib.stride_tricks.sliding_window_view(x, kernel, axis=(2, 3))
    np.testing.assert_array_equal(view, expected)
    assert not view.flags.writeable and np.shares_memory(view, x)


# ----- one set of helpers ---------------------------------------------------------------
HELPERS = ["BATCH_LAST", "Pair", "add_at_offsets", "check_pool_pad", "cropped",
           "kernel_offsets", "offset_slice", "offset_targets",
           "offset_views", "output_size", "padded", "pair", "stored_as",
           "tiles", "transposed_output_size", "windows"]
BUFFER_HELPERS = ["empty_images", "framed_images", "kept_like", "inverse", "memory_axes",
                  "release_buffers", "reusable_empty"]


@pytest.mark.parametrize("name", ["im2col", "conv", "pooling", "interpolate"])
def test_the_window_ops_share_the_helpers_of_windows(name):
    """Every helper a window op module holds is the one from graphkit.ops.windows (or,
    for buffers and memory order, graphkit.ops.buffers); no module defines a function
    or constant of the same name of its own."""
    module = import_module(f"graphkit.ops.{name}")
    for home, names in ((windows, HELPERS), (buffers, BUFFER_HELPERS)):
        for helper in names:
            assert hasattr(home, helper), helper
            if hasattr(module, helper):
                assert getattr(module, helper) is getattr(home, helper), (module.__name__, helper)
            assert not hasattr(module, f"_{helper}"), (module.__name__, helper)
