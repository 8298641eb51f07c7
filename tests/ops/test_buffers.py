"""The buffers kept across steps (graphkit.ops.buffers): handed out again only once
nothing refers to them, kept by shape and dtype, a few per shape; ``empty_images`` and
``kept_like`` store an array in the memory order asked; and ReLU, which takes its output
from the cache, returns what it returns without it."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import graphkit as gk
from graphkit.ops import buffers
from graphkit.ops.buffers import empty_images, kept_like, memory_axes, reusable_empty

KEPT = (64, 1024)  # 256 KiB of float32: large enough to keep


@pytest.fixture
def no_kept_buffers():
    buffers.release_buffers()
    yield
    buffers.release_buffers()


def address(a):
    return a.__array_interface__["data"][0]


@pytest.mark.usefixtures("no_kept_buffers")
def test_a_buffer_comes_back_once_nothing_refers_to_it():
    a = reusable_empty(KEPT, np.float32)
    first = address(a)
    del a
    b = reusable_empty(KEPT, np.float32)
    assert address(b) == first and b.shape == KEPT and b.dtype == np.float32
    assert b.flags.c_contiguous and b.flags.owndata


@pytest.mark.usefixtures("no_kept_buffers")
@pytest.mark.parametrize("holder", [
    lambda a: a[1:],  # a view
    lambda a: a.reshape(-1),
    lambda a: gk.Tensor(a),
    lambda a: memoryview(a),
    lambda a: [a],
])
def test_a_buffer_anything_refers_to_is_not_handed_out(holder):
    a = reusable_empty(KEPT, np.float32)
    a.fill(1)
    kept = holder(a)
    first = address(a)
    del a
    b = reusable_empty(KEPT, np.float32)
    assert address(b) != first
    b.fill(2)
    del kept
    assert address(reusable_empty(KEPT, np.float32)) == first


@pytest.mark.usefixtures("no_kept_buffers")
def test_buffers_are_kept_by_shape_and_dtype_and_small_arrays_not_at_all():
    a = reusable_empty(KEPT, np.float32)
    first = address(a)
    del a
    for shape, dtype in [(KEPT, np.float64), ((1024, 64), np.float32), ((64, 1025), np.float32)]:
        assert address(reusable_empty(shape, dtype)) != first
    small = reusable_empty((4, 5), np.float64)
    assert small.shape == (4, 5) and not any(
        buffer.shape == (4, 5) for buffers in buffers._kept.values() for buffer in buffers)


@pytest.mark.usefixtures("no_kept_buffers")
def test_the_cache_keeps_a_few_buffers_per_shape_and_drops_the_oldest_shapes():
    busy = [reusable_empty(KEPT, np.float32) for _ in range(buffers._KEPT_PER_KEY + 2)]
    assert len(buffers._kept[(KEPT, np.dtype(np.float32))]) == buffers._KEPT_PER_KEY
    del busy
    for rows in range(buffers._KEPT_KEYS + 1):
        reusable_empty((100 + rows, 1024), np.float32)
    assert len(buffers._kept) == buffers._KEPT_KEYS
    assert (KEPT, np.dtype(np.float32)) not in buffers._kept


@given(st.permutations(range(4)).map(tuple), st.sampled_from([None, 0.0, -np.inf]))
def test_empty_images_are_stored_in_the_order_asked(axes, fill):
    images = empty_images((2, 3, 4, 5), axes, np.float32, fill)
    assert images.shape == (2, 3, 4, 5) and images.dtype == np.float32
    assert memory_axes(images) == axes
    if fill is not None:
        assert (images == fill).all()


@pytest.mark.usefixtures("no_kept_buffers")
@given(st.permutations(range(4)).map(tuple), st.sampled_from([np.float32, np.float64, np.int16]))
def test_kept_like_keeps_the_memory_order_shape_and_dtype(axes, dtype):
    x = np.empty([(64, 16, 16, 16)[a] for a in axes], dtype).transpose(np.argsort(axes))
    out = kept_like(x)
    assert out.shape == x.shape and out.dtype == dtype
    assert memory_axes(out) == memory_axes(x)


def test_kept_like_leaves_small_arrays_scalars_and_booleans_to_numpy():
    assert kept_like(np.empty((2, 3, 4, 5))) is None
    assert kept_like(3.0) is None
    assert kept_like(np.empty(KEPT, bool)) is None


@pytest.mark.usefixtures("no_kept_buffers")
def test_kept_like_hands_a_large_buffer_out_again_once_it_is_free():
    x = np.empty((16, 28, 28, 64), np.float32).transpose(3, 0, 1, 2)  # batch last
    a = kept_like(x)
    first = address(a)
    assert address(kept_like(x)) != first  # a is still alive
    del a
    assert address(kept_like(x)) == first


@pytest.mark.usefixtures("no_kept_buffers")
@pytest.mark.parametrize("store", [lambda a: a, lambda a: np.ascontiguousarray(
    a.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)], ids=["batch first", "batch last"])
def test_relu_in_a_training_loop_reuses_its_output_buffer_and_stays_exact(store):
    """Step after step ReLU's output lands in the same memory, stored as its input is,
    and its values and gradient are those of the plain NumPy formulas."""
    rng = np.random.default_rng(0)
    x_array = store(rng.standard_normal((64, 16, 28, 28)).astype(np.float32))
    x = gk.Tensor(x_array, requires_grad=True)
    seen = []
    for _ in range(3):
        x.grad = None
        y = gk.F.relu(x)
        y.backward(np.full(y.shape, 2.0, np.float32))
        np.testing.assert_array_equal(y.data, np.maximum(x_array, 0))
        np.testing.assert_array_equal(x.grad.data, 2.0 * (x_array > 0))
        assert memory_axes(y.data) == memory_axes(x_array)
        seen.append(address(y.data))
        del y
    assert seen[0] == seen[1] == seen[2]


@pytest.mark.usefixtures("no_kept_buffers")
def test_a_buffer_let_go_read_only_is_not_handed_out_again():
    x = gk.Tensor(np.ones((64, 16, 8, 8), np.float32))
    y = gk.F.relu(x)
    y.data.setflags(write=False)
    first = address(y.data)
    del y
    again = gk.F.relu(x)  # would fail writing into the read-only buffer
    assert address(again.data) != first
    np.testing.assert_array_equal(again.data, 1)
