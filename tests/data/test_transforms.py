import numpy as np
import pytest

from graphkit.data import Compose, DataLoader, Normalize, RandomRotation, RandomShift
from graphkit.data.transforms import rotate, shift, takes_rng


@pytest.fixture
def images():
    """A (B, C, H, W) batch of distinct random images."""
    return np.random.default_rng(0).random((4, 2, 6, 6))


LAYOUTS = {
    "(B, H*W)": lambda batch: batch[:, 0].reshape(len(batch), -1),
    "(B, H, W)": lambda batch: batch[:, 0],
    "(B, C, H, W)": lambda batch: batch,
}
TRANSFORMS = [
    RandomRotation(30),
    RandomShift(2),
    Normalize(0.5, 0.25),
    Compose([RandomShift(1), RandomRotation(10)]),
]


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=LAYOUTS.keys())
@pytest.mark.parametrize("transform", TRANSFORMS, ids=repr)
def test_shape_kept_and_input_untouched(images, layout, transform):
    batch = layout(images)
    original = batch.copy()
    out = Compose([transform])(batch, np.random.default_rng(1))
    assert out.shape == batch.shape and out.dtype == np.float64
    np.testing.assert_array_equal(batch, original)


@pytest.mark.parametrize("transform", TRANSFORMS, ids=repr)
def test_float32_stays_float32_and_integers_become_float64(images, transform):
    assert transform(images.astype(np.float32)).dtype == np.float32
    assert transform((images * 255).astype(np.uint8)).dtype == np.float64


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_zero_rotation_and_zero_shift_are_identities(images, layout):
    batch = layout(images)
    np.testing.assert_array_equal(rotate(batch, 0.0), batch)
    np.testing.assert_array_equal(RandomRotation(0)(batch), batch)
    np.testing.assert_array_equal(shift(batch, (0, 0)), batch)
    np.testing.assert_array_equal(RandomShift(0)(batch), batch)


@pytest.mark.parametrize("turns", [1, 2, 3, -1])
def test_rotation_by_right_angles_matches_rot90(images, turns):
    expected = np.rot90(images, turns, axes=(2, 3))
    np.testing.assert_allclose(rotate(images, 90.0 * turns), expected, atol=1e-12)
    exact = RandomRotation((90.0 * turns, 90.0 * turns))
    np.testing.assert_allclose(exact(images), expected, atol=1e-12)


def test_rotation_of_flat_batches_rotates_the_square_image(images):
    flat = images[:, 0].reshape(4, 36)
    rotated = rotate(flat, 90.0).reshape(4, 6, 6)
    np.testing.assert_allclose(rotated, np.rot90(images[:, 0], axes=(1, 2)), atol=1e-12)


def test_each_image_gets_its_own_angle(images):
    rotated = rotate(images, np.array([0.0, 90.0, 180.0, 0.0]))
    np.testing.assert_allclose(rotated[0], images[0])
    np.testing.assert_allclose(rotated[1], np.rot90(images[1], axes=(1, 2)), atol=1e-12)
    np.testing.assert_allclose(rotated[2], np.rot90(images[2], 2, axes=(1, 2)), atol=1e-12)


def test_rotation_interpolates_bilinearly_and_fills_with_zeros():
    image = np.ones((1, 7, 7))
    rotated = rotate(image, 45.0)[0]
    assert rotated[3, 3] == pytest.approx(1.0)
    assert rotated[0, 0] == 0.0
    # Pixel (0, 1) samples row 3 - 5/sqrt(2) = -0.54: 46% of row 0, the rest outside (zero).
    assert rotated[0, 1] == pytest.approx(4 - 5 / np.sqrt(2))


def test_random_rotation_angles_stay_in_range():
    point = np.zeros((200, 1, 9, 9))
    point[:, 0, 4, 8] = 1.0
    rotated = RandomRotation(20)(point, np.random.default_rng(0))
    rows = (rotated[:, 0].sum(axis=2) * np.arange(9)).sum(axis=1) / rotated[:, 0].sum(axis=(1, 2))
    # The point sits 4 pixels right of centre, so its row moves by at most 4 * sin(20 deg).
    assert np.all(np.abs(rows - 4) <= 4 * np.sin(np.deg2rad(20)) + 1e-9)
    assert np.ptp(rows) > 1.0


def test_shift_moves_content_and_fills_zeros(images):
    moved = shift(images, (1, -2))
    np.testing.assert_array_equal(moved[:, :, 1:, :-2], images[:, :, :-1, 2:])
    assert not moved[:, :, 0, :].any() and not moved[:, :, :, -2:].any()


def test_random_shift_offsets_are_whole_pixels_within_bound():
    point = np.zeros((300, 1, 11, 11))
    point[:, 0, 5, 5] = 1.0
    moved = RandomShift(2)(point, np.random.default_rng(0))
    assert np.array_equal(moved.sum(axis=(1, 2, 3)), np.ones(300))
    rows, cols = np.nonzero(moved[:, 0])[1:]
    assert set(rows) == set(cols) == {3, 4, 5, 6, 7}


def test_same_generator_seed_gives_the_same_result(images):
    augment = Compose([RandomRotation(15), RandomShift(1)])
    first = augment(images, np.random.default_rng(7))
    np.testing.assert_array_equal(augment(images, np.random.default_rng(7)), first)
    assert not np.array_equal(augment(images, np.random.default_rng(8)), first)


def test_without_a_generator_the_global_rng_decides(images):
    np.random.seed(4)
    first = RandomRotation(30)(images)
    np.random.seed(4)
    np.testing.assert_array_equal(RandomRotation(30)(images), first)


def test_compose_applies_in_order(images):
    composed = Compose([Normalize(1.0, 2.0), Normalize(0.0, 0.5)])
    np.testing.assert_allclose(composed(images), (images - 1.0) / 2.0 / 0.5)


def test_normalize_per_channel_and_per_feature(images):
    per_channel = Normalize([0.1, 0.2], [1.0, 2.0])(images)
    np.testing.assert_allclose(per_channel[:, 1], (images[:, 1] - 0.2) / 2.0)
    flat = images[:, 0].reshape(4, 36)
    mean, std = flat.mean(axis=0), flat.std(axis=0)
    np.testing.assert_allclose(Normalize(mean, std)(flat), (flat - mean) / std)


def test_normalize_errors_name_the_shapes(images):
    with pytest.raises(ValueError, match=r"\(3,\).*2 channels"):
        Normalize([0.0, 0.0, 0.0], 1.0)(images)
    with pytest.raises(ValueError, match=r"\(5,\).*\(4, 36\)"):
        Normalize(np.zeros(5), 1.0)(images[:, 0].reshape(4, 36))
    with pytest.raises(ValueError, match="nonzero"):
        Normalize(0.0, [1.0, 0.0])


def test_non_square_flat_images_are_rejected():
    with pytest.raises(ValueError, match=r"\(2, 10\)"):
        RandomRotation(10)(np.zeros((2, 10)))


@pytest.mark.parametrize("bad", [lambda: RandomRotation(-1), lambda: RandomRotation((5, -5))])
def test_bad_rotation_ranges(bad):
    with pytest.raises(ValueError, match="degrees"):
        bad()


def test_random_shift_rejects_negative_bound():
    with pytest.raises(ValueError, match="max_pixels"):
        RandomShift(-1)


def test_transforms_run_inside_a_data_loader(images):
    flat = images[:, 0].reshape(4, 36)
    loader = DataLoader(flat, np.arange(4), 3, transform=RandomShift(1), seed=0)
    shapes = [x_batch.shape for x_batch, _ in loader]
    assert shapes == [(3, 36), (1, 36)]


def test_the_transforms_here_say_which_kind_they_are():
    assert takes_rng(RandomRotation(10)) and takes_rng(RandomShift(1))
    assert takes_rng(Compose([Normalize(0.0, 1.0)]))
    assert not takes_rng(Normalize(0.0, 1.0))


def test_compose_mixes_one_argument_and_random_transforms(images):
    augment = Compose([lambda x: x * 2, RandomShift(1), Normalize(1.0, 0.5)])
    expected = (RandomShift(1)(images * 2, np.random.default_rng(3)) - 1.0) / 0.5
    np.testing.assert_array_equal(augment(images, np.random.default_rng(3)), expected)


def test_compose_of_one_argument_transforms_leaves_the_global_rng_alone(images):
    np.random.seed(0)
    Compose([Normalize(0.0, 2.0), np.negative])(images)
    assert np.random.randint(1000) == np.random.RandomState(0).randint(1000)


def test_compose_rejects_a_transform_of_neither_kind():
    with pytest.raises(TypeError, match=r"transform .*fits neither transform\(x_batch\)"):
        Compose([RandomShift(1), lambda x, rng, scale: x])
