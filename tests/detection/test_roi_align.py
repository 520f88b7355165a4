"""RoIAlign, level mapping and `MultiLevelRoIAlign` against torchvision.ops.roi_align."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras_test_helpers import relative_error

from hrnet_keras.detection.roi_align import (
    MultiLevelRoIAlign,
    level_of_boxes,
    multilevel_roi_align,
    roi_align,
)

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")


def _torch_roi_align(features, boxes, output_size, scale, sampling_ratio=0, aligned=True):
    """torchvision's roi_align on NHWC features and (B, R, 4) boxes, as (B, R, h, w, C)."""
    batch, rois = boxes.shape[:2]
    index = np.repeat(np.arange(batch, dtype="float32"), rois)[:, None]
    rois_t = torch.from_numpy(np.concatenate([index, boxes.reshape(-1, 4)], 1))
    x = torch.from_numpy(features).permute(0, 3, 1, 2).requires_grad_(True)
    out = torchvision.ops.roi_align(x, rois_t, output_size, scale, sampling_ratio, aligned)
    return x, out.reshape(batch, rois, features.shape[-1], *out.shape[-2:]).permute(0, 1, 3, 4, 2)


def _torch_values_and_grad(features, boxes, output_size, scale, cotangent, **kwargs):
    x, out = _torch_roi_align(features, boxes, output_size, scale, **kwargs)
    (out * torch.from_numpy(cotangent)).sum().backward()
    return out.detach().numpy(), x.grad.permute(0, 2, 3, 1).numpy()


def _ours_values_and_grad(fn, features, cotangent):
    x = tf.constant(features)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = fn(x)
        loss = tf.reduce_sum(out * cotangent)
    return out.numpy(), tape.gradient(loss, x).numpy()


def _random_boxes(rng, batch, count, image_h, image_w, max_size):
    corner = rng.uniform(-0.2, 1.1, (batch, count, 2)) * [image_w, image_h]
    size = rng.uniform(0.0, 1.0, (batch, count, 2)) ** 2 * max_size
    return np.concatenate([corner, corner + size], -1).astype("float32")


def _edge_boxes(image_h, image_w):
    """Tiny, zero-size, inverted, partly and fully outside, huge and elongated boxes."""
    h, w = image_h, image_w
    return np.array(
        [
            [0, 0, 0, 0],
            [3.2, 5.1, 3.2, 9.0],
            [5.0, 5.0, 5.3, 5.2],
            [9.0, 9.0, 4.0, 2.0],
            [-30, -20, 0.6 * w, 0.4 * h],
            [0.7 * w, 0.6 * h, 1.6 * w, 1.3 * h],
            [-50, -50, -10, -5],
            [w + 5, h + 5, w + 40, h + 30],
            [-0.5 * w, -0.5 * h, 1.5 * w, 1.5 * h],
            [0, 0.45 * h, w, 0.5 * h],
            [0.3 * w, 0, 0.33 * w, h],
            [w - 1.0, h - 1.0, w, h],
        ],
        "float32",
    )


@pytest.mark.parametrize(
    "scale, output_size, sampling_ratio, aligned",
    [
        (1.0, 7, 0, True),
        (0.25, 7, 0, True),
        (0.125, (3, 5), 0, True),
        (0.5, (4, 2), 0, False),
        (0.25, 7, 2, True),
    ],
)
def test_forward_and_gradient_match_torchvision(scale, output_size, sampling_ratio, aligned):
    rng = np.random.default_rng(0)
    map_h, map_w = 9, 13
    image_h, image_w = map_h / scale, map_w / scale
    features = rng.standard_normal((2, map_h, map_w, 3)).astype("float32")
    boxes = _random_boxes(rng, 2, 12, image_h, image_w, max_size=1.2 * image_w)
    boxes[0] = _edge_boxes(image_h, image_w)
    size = (output_size, output_size) if isinstance(output_size, int) else output_size
    cotangent = rng.standard_normal((2, 12, *size, 3)).astype("float32")
    kwargs = dict(sampling_ratio=sampling_ratio, aligned=aligned)

    values, grad = _ours_values_and_grad(
        lambda x: roi_align(x, boxes, output_size, scale, **kwargs), features, cotangent
    )
    theirs, their_grad = _torch_values_and_grad(features, boxes, size, scale, cotangent, **kwargs)
    np.testing.assert_allclose(values, theirs, rtol=0, atol=1e-5)
    assert relative_error(grad, their_grad) < 1e-5


def test_padding_and_degenerate_boxes_give_finite_values_and_gradients():
    features = np.random.default_rng(1).standard_normal((1, 6, 7, 2)).astype("float32")
    nan, inf = float("nan"), float("inf")
    boxes = np.array(
        [[[0, 0, 0, 0], [nan, 1, 2, 3], [inf, -inf, inf, inf], [1e30, 1e30, -1e30, 1e30]]],
        "float32",
    )
    boxes = np.concatenate([boxes, [[[4, 4, 4, 4], [1, 1, 1e-7, 1e-7]]]], axis=1)
    cotangent = np.ones((1, 6, 7, 7, 2), "float32")
    for jit in (False, True):
        fn = tf.function(lambda x: roi_align(x, boxes, 7, 0.5), jit_compile=jit)
        values, grad = _ours_values_and_grad(fn, features, cotangent)
        assert np.isfinite(values).all() and np.isfinite(grad).all()
    # Zero-size boxes have no samples: zeros, as in torchvision.
    assert not values[0, 0].any() and not values[0, 4].any()


def test_under_xla_gives_the_same_numbers():
    rng = np.random.default_rng(2)
    features = rng.standard_normal((2, 10, 12, 4)).astype("float32")
    boxes = _random_boxes(rng, 2, 9, 40, 48, max_size=60)
    cotangent = rng.standard_normal((2, 9, 7, 7, 4)).astype("float32")

    def fn(x):
        return roi_align(x, boxes, 7, 0.25)

    eager = _ours_values_and_grad(fn, features, cotangent)
    compiled = _ours_values_and_grad(tf.function(fn, jit_compile=True), features, cotangent)
    for ours, xla in zip(eager, compiled):
        np.testing.assert_allclose(xla, ours, rtol=0, atol=1e-5)


@pytest.mark.parametrize("tall", [False, True])
def test_approximate_mode_exact_up_to_the_window_and_documented_beyond(tall):
    rng = np.random.default_rng(3)
    features = rng.standard_normal((1, 40, 40, 2)).astype("float32")
    short, long = 6, 12  # at most ceil(10 / 7) = 2 samples a bin
    # Extents of exactly (long - 2, short - 2) cells at fractional positions, then beyond.
    inside = [[3.3, 5.7, 3.3 + long - 2, 5.7 + short - 2], [0.5, 0.5, 10.5, 4.5]]
    # 14 cells: 2 samples a bin, as adaptive; the window (cells 1-12) ends in bin 5.
    longer = [[2.3, 2.0, 16.3, 6.0]]
    boxes = np.array([inside + longer], "float32")
    # 28 cells: 4 samples a bin adaptive, 2 here; the window ends in bin 2. Its short side
    # (8 cells, in a 10-cell window) needs 2 samples a bin, so it is torchvision's
    # sampling_ratio=2.
    much_longer = np.array([[[2.3, 2.0, 30.3, 10.0]]], "float32")
    if tall:
        boxes, much_longer = boxes[..., [1, 0, 3, 2]], much_longer[..., [1, 0, 3, 2]]
    approximate = dict(oversize="approximate")
    ours = roi_align(features, boxes, 7, 1.0, window=(short, long), **approximate).numpy()
    adaptive = _torch_roi_align(features, boxes, (7, 7), 1.0)[1].detach().numpy()
    np.testing.assert_allclose(ours[:, :2], adaptive[:, :2], rtol=0, atol=1e-5)
    ours_much = roi_align(features, much_longer, 7, 1.0, window=(10, long), **approximate)
    ours_much = ours_much.numpy()
    two = _torch_roi_align(features, much_longer, (7, 7), 1.0, sampling_ratio=2)[1]

    def along_long(a):
        return a.transpose(1, 0, 2) if tall else a

    for bins, expected, last_bin in [
        (ours[0, 2], adaptive[0, 2], 5),
        (ours_much[0, 0], two.detach().numpy()[0, 0], 2),
    ]:
        bins, expected = along_long(bins), along_long(expected)
        np.testing.assert_allclose(bins[:, :last_bin], expected[:, :last_bin], atol=1e-5)
        assert np.abs(bins[:, last_bin] - expected[:, last_bin]).max() > 1e-2
        assert not bins[:, last_bin + 1 :].any()
    large_window = roi_align(features, boxes, 7, 1.0, window=(short, 37), **approximate)
    np.testing.assert_allclose(large_window.numpy(), adaptive, rtol=0, atol=1e-5)
    # The default mode pools the RoIs past the window again, exactly.
    for rois, window in ((boxes, (short, long)), (much_longer, (10, long))):
        exact = roi_align(features, rois, 7, 1.0, window=window).numpy()
        theirs = _torch_roi_align(features, rois, (7, 7), 1.0)[1].detach().numpy()
        np.testing.assert_allclose(exact, theirs, rtol=0, atol=1e-5)


def _past_window_boxes(rng, image_h, image_w):
    """1000 x 8 and 8 x 1000 pixel boxes (250 x 2 cells at stride 4), boxes of the image's size
    and larger, partly outside, at fractional positions; then boxes that fit and padding."""
    x, y = rng.uniform(0, 100, 2)
    return np.array(
        [
            [x, y + 3.3, x + 1000, y + 11.3],
            [y + 0.7, x, y + 8.7, x + 1000],
            [x + 1.5, 200.25, x + 1001.5, 207.75],
            [0, 0, image_w, image_h],
            [-0.3 * image_w, 0.1 * image_h, 1.2 * image_w, 0.9 * image_h],
            [10.5, 0.6 * image_h, 200.0, 0.7 * image_h],
            [20, 30, 60, 90],
            [0, 0, 0, 0],
        ],
        "float32",
    )


@pytest.mark.parametrize(
    "sampling_ratio, aligned, compiled",
    [(0, True, False), (0, True, True), (2, True, True), (0, False, True)],
)
def test_rois_past_the_window_match_torchvision(sampling_ratio, aligned, compiled):
    """Long thin and huge RoIs: forward and feature gradient of torchvision, eagerly and in a
    graph; with `oversize="approximate"` they differ."""
    rng = np.random.default_rng(10)
    image_h, image_w, scale = 1040, 1200, 0.25
    features = rng.standard_normal((2, 260, 300, 3)).astype("float32")
    boxes = np.stack([_past_window_boxes(rng, image_h, image_w) for _ in range(2)])
    cotangent = rng.standard_normal((2, len(boxes[0]), 7, 7, 3)).astype("float32")
    kwargs = dict(sampling_ratio=sampling_ratio, aligned=aligned)

    def pool(x):
        return roi_align(x, boxes, 7, scale, **kwargs)

    fn = tf.function(pool) if compiled else pool
    values, grad = _ours_values_and_grad(fn, features, cotangent)
    theirs, their_grad = _torch_values_and_grad(features, boxes, (7, 7), scale, cotangent, **kwargs)
    # Sample positions of ~300 cells carry float32 errors of ~2e-5 cells: with 2 samples a
    # bin, torchvision's own float32 values differ from its float64 ones by 3.5e-5.
    atol = 1e-4 if sampling_ratio else 1e-5
    np.testing.assert_allclose(values, theirs, rtol=0, atol=atol)
    assert relative_error(grad, their_grad) < atol
    approximate = roi_align(features, boxes, 7, scale, oversize="approximate", **kwargs)
    past = np.abs(approximate.numpy() - theirs).max(axis=(2, 3, 4)) > 1e-2
    assert past[:, :5].all() and not past[:, 5:].any()


def test_multilevel_rois_past_the_window_match_torchvision():
    """Thin boxes on every level, image-sized and larger boxes on P5: each level's values and
    gradient."""
    rng = np.random.default_rng(11)
    strides = (4, 8, 16, 32)
    image_h, image_w = 320, 1280
    features = [
        rng.standard_normal((2, image_h // s, image_w // s, 2)).astype("float32") for s in strides
    ]
    boxes = []
    for k in range(4):
        length, width = 1000.0 * 2**k, 8.0 * 2**k  # sqrt(wh) = 89 * 2**k: level k
        boxes += [[5.5, 2.25, 5.5 + length, 2.25 + width], [7.0, 3.5, 7.0 + width, 3.5 + length]]
    boxes += [[0, 0, image_w, image_h], [-200, -50, 1500, 400], [30, 40, 90, 100]]
    boxes = np.tile(np.array(boxes, "float32")[None], (2, 1, 1))
    boxes[1] += rng.uniform(0, 3, boxes[1].shape).astype("float32")
    levels = level_of_boxes(boxes).numpy()
    assert levels[0].tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 3, 3, 0]
    cotangent = rng.standard_normal((2, boxes.shape[1], 7, 7, 2)).astype("float32")

    maps = [tf.constant(f) for f in features]
    with tf.GradientTape() as tape:
        tape.watch(maps)
        ours = tf.function(lambda m: multilevel_roi_align(m, boxes, 7))(maps)
        loss = tf.reduce_sum(ours * cotangent)
    grads = [g.numpy() for g in tape.gradient(loss, maps)]

    their_grads = [np.zeros_like(f) for f in features]
    for b in range(2):
        for r, level in enumerate(levels[b]):
            cot = cotangent[b : b + 1, r : r + 1]
            theirs, grad = _torch_values_and_grad(
                features[level][b : b + 1],
                boxes[b : b + 1, r : r + 1],
                (7, 7),
                1 / strides[level],
                cot,
            )
            np.testing.assert_allclose(ours[b, r].numpy(), theirs[0, 0], atol=1e-5)
            their_grads[level][b] += grad[0]
    for grad, theirs in zip(grads, their_grads):
        assert relative_error(grad, theirs) < 1e-5


def test_under_xla_rois_past_the_window_are_pooled_approximately():
    """`"auto"` under `jit_compile=True` is the static window's result; `"exact"` raises."""
    rng = np.random.default_rng(12)
    features = rng.standard_normal((1, 20, 30, 2)).astype("float32")
    boxes = np.array([[[2.5, 3.0, 110.0, 9.0], [4.0, 4.0, 24.0, 24.0]]], "float32")
    window = dict(window=(8, 16))
    exact = roi_align(features, boxes, 7, 0.25, **window).numpy()
    approximate = roi_align(features, boxes, 7, 0.25, oversize="approximate", **window).numpy()
    theirs = _torch_roi_align(features, boxes, (7, 7), 0.25)[1].detach().numpy()
    np.testing.assert_allclose(exact, theirs, atol=1e-5)
    assert np.abs(approximate[0, 0] - theirs[0, 0]).max() > 1e-2
    np.testing.assert_allclose(approximate[0, 1], theirs[0, 1], atol=1e-5)

    xla = tf.function(lambda x: roi_align(x, boxes, 7, 0.25, **window), jit_compile=True)
    np.testing.assert_allclose(xla(features).numpy(), approximate, atol=1e-5)
    strict = tf.function(
        lambda x: roi_align(x, boxes, 7, 0.25, oversize="exact", **window), jit_compile=True
    )
    with pytest.raises(ValueError, match="Received: oversize='exact'"):
        strict(features)
    graph = tf.function(lambda x: roi_align(x, boxes, 7, 0.25, oversize="exact", **window))
    np.testing.assert_allclose(graph(features).numpy(), exact, atol=1e-5)


@pytest.mark.slow
def test_rois_past_the_window_export_exactly_to_saved_model_and_tflite(tmp_path):
    """A SavedModel and LiteRT with builtin ops only (no Flex) run the exact pass too."""
    interpreter_module = pytest.importorskip("ai_edge_litert.interpreter")
    inputs = [
        keras.Input((16, 24, 4), batch_size=1, name="p2"),
        keras.Input((8, 12, 4), batch_size=1, name="p3"),
        keras.Input((5, 4), batch_size=1, name="boxes"),
    ]
    layer = MultiLevelRoIAlign(5, strides=(4, 8), window=(2, 4))
    model = keras.Model(inputs, layer(inputs[:2], inputs[2]))

    @tf.function
    def serve(p2, p3, boxes):
        return model([p2, p3, boxes])

    concrete = serve.get_concrete_function(*[tf.TensorSpec(t.shape, t.dtype) for t in model.inputs])
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], model)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    interpreter = interpreter_module.Interpreter(model_content=converter.convert())
    interpreter.allocate_tensors()
    model.export(tmp_path / "saved", format="tf_saved_model", verbose=False)
    saved = tf.saved_model.load(str(tmp_path / "saved"))

    rng = np.random.default_rng(13)
    features = [
        rng.standard_normal((1, 16, 24, 4)).astype("float32"),
        rng.standard_normal((1, 8, 12, 4)).astype("float32"),
    ]
    # Levels 0, 0, 1, 1 and padding; all but the padding past the (2, 4) window.
    boxes = np.array(
        [[[1, 2, 90, 12], [3.5, 3, 20, 50], [0, 0, 130, 100], [-40, -20, 120, 90], [0, 0, 0, 0]]],
        "float32",
    )
    lite = interpreter.get_signature_runner()(p2=features[0], p3=features[1], boxes=boxes)
    exported = saved.serve([*features, boxes]).numpy()
    levels = level_of_boxes(boxes, num_levels=2).numpy()[0]
    assert levels.tolist() == [0, 0, 1, 1, 0]
    for r, level in enumerate(levels):
        theirs = _torch_roi_align(features[level], boxes[:, r : r + 1], (5, 5), 1 / 4 / 2**level)
        theirs = theirs[1].detach().numpy()[0, 0]
        np.testing.assert_allclose(next(iter(lite.values()))[0, r], theirs, atol=1e-5)
        np.testing.assert_allclose(exported[0, r], theirs, atol=1e-5)


def test_default_window_covers_boxes_of_every_level():
    """Boxes at the top of levels 0-2 with aspect ratio 4, and image-sized boxes on level 3."""
    rng = np.random.default_rng(4)
    strides = (4, 8, 16, 32)
    image = (800, 1216)
    features = [
        rng.standard_normal((1, image[0] // s, image[1] // s, 2)).astype("float32") for s in strides
    ]
    boxes = []
    for k in range(3):
        side = 111.0 * 2**k
        boxes += [[10, 20, 10 + 2 * side, 20 + side / 2], [7, 3, 7 + side / 2, 3 + 2 * side]]
    boxes += [[0, 0, image[1], image[0]], [3.5, 1.5, 640.5, 799.0]]
    boxes = np.array(boxes, "float32")[None]
    ours = multilevel_roi_align(features, boxes, 7).numpy()
    levels = level_of_boxes(boxes).numpy()[0]
    assert levels.tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    for r, level in enumerate(levels):
        _, theirs = _torch_roi_align(
            features[level], boxes[:, r : r + 1], (7, 7), 1 / strides[level]
        )
        np.testing.assert_allclose(ours[:, r : r + 1], theirs.detach().numpy(), atol=1e-5)


def _mmdet_levels(boxes, num_levels=4, finest_scale=56):
    """mmdetection v2's `map_roi_levels`, transcribed to NumPy float32."""
    boxes = boxes.astype("float32")
    scale = np.sqrt((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
    levels = np.floor(np.log2(scale / np.float32(finest_scale) + np.float32(1e-6)))
    return np.clip(levels, 0, num_levels - 1).astype("int32")


def test_level_of_boxes_matches_mmdet_on_boundaries():
    sides = [0.0, 1.0, 55.9, 56.0]
    for k in range(5):
        edge = np.float32(56 * 2**k)
        sides += [
            np.nextafter(edge, 0, dtype="float32"),
            edge,
            np.nextafter(edge, 1e9, dtype="float32"),
        ]
    sides += [111.99995, 112.00005, 5000.0]
    sides = np.array(sides, "float32")
    square = np.stack([np.zeros_like(sides), np.zeros_like(sides), sides, sides], 1)
    # Elongated boxes of the same area and boxes away from the origin.
    oblong = np.stack([10 + 0 * sides, 20 + 0 * sides, 10 + 2 * sides, 20 + sides / 2], 1)
    boxes = np.concatenate([square, oblong])
    np.testing.assert_array_equal(level_of_boxes(boxes).numpy(), _mmdet_levels(boxes))
    assert level_of_boxes(boxes[None], num_levels=2).shape == (1, len(boxes))


def test_multilevel_matches_torchvision_per_level_and_is_jit_compatible():
    rng = np.random.default_rng(5)
    strides = (4, 8, 16, 32)
    features = {
        f"P{k + 2}": rng.standard_normal((2, 256 // s, 192 // s, 3)).astype("float32")
        for k, s in enumerate(strides)
    }
    boxes = _random_boxes(rng, 2, 16, 256, 192, max_size=240)  # within the window
    # One box of each level (sqrt(wh) = 0, 70, 222, 350, 600) besides the random ones.
    boxes[0, :4] = [[0, 0, 0, 0], [10, 10, 80, 80], [0, 0, 192, 256], [-99, -99, 251, 251]]
    boxes[0, 4] = [-300, -300, 300, 300]
    cotangent = rng.standard_normal((2, 16, 7, 7, 3)).astype("float32")
    levels = _mmdet_levels(boxes.reshape(-1, 4)).reshape(2, 16)
    assert len(set(levels.ravel().tolist())) == 4

    x = tf.constant(features["P2"])
    others = [tf.constant(features[f"P{k}"]) for k in (3, 4, 5)]
    for jit in (False, True):
        fn = tf.function(lambda x: multilevel_roi_align([x, *others], boxes, 7), jit_compile=jit)
        with tf.GradientTape() as tape:
            tape.watch(x)
            ours = fn(x)
            loss = tf.reduce_sum(ours * cotangent)
        grad = tape.gradient(loss, x).numpy()
        # A dict (with an extra coarser level, ignored) gives the same result.
        extra = {**features, "P6": np.zeros((2, 4, 3, 3), "float32")}
        np.testing.assert_allclose(
            multilevel_roi_align(extra, boxes, 7).numpy(), ours.numpy(), atol=1e-6
        )

        their_grad = np.zeros_like(features["P2"])
        for b in range(2):
            for r in range(16):
                level = levels[b, r]
                feature = features[f"P{level + 2}"][b : b + 1]
                t_x, theirs = _torch_roi_align(
                    feature, boxes[b : b + 1, r : r + 1], (7, 7), 1 / strides[level]
                )
                np.testing.assert_allclose(
                    ours[b, r].numpy(), theirs.detach().numpy()[0, 0], atol=1e-5
                )
                if level == 0:
                    (theirs * torch.from_numpy(cotangent[b : b + 1, r : r + 1])).sum().backward()
                    their_grad[b] += t_x.grad.permute(0, 2, 3, 1).numpy()[0]
        assert relative_error(grad, their_grad) < 1e-5


def test_layer_config_round_trip_and_saving(tmp_path):
    layer = MultiLevelRoIAlign(
        output_size=(7, 5),
        strides=(4, 8),
        finest_scale=40,
        sampling_ratio=2,
        window=(16, 48),
        oversize="approximate",
        name="pool",
    )
    clone = MultiLevelRoIAlign.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(restored, MultiLevelRoIAlign) and restored.window == (16, 48)
    assert restored.oversize == "approximate"

    p2, p3 = keras.Input((16, 16, 4)), keras.Input((8, 8, 4))
    boxes = keras.Input((6, 4))
    model = keras.Model([p2, p3, boxes], MultiLevelRoIAlign(7, strides=(4, 8))([p2, p3], boxes))
    rng = np.random.default_rng(6)
    inputs = [
        rng.standard_normal((2, 16, 16, 4)).astype("float32"),
        rng.standard_normal((2, 8, 8, 4)).astype("float32"),
        _random_boxes(rng, 2, 6, 64, 64, max_size=90),
    ]
    assert model.output.shape == (None, 6, 7, 7, 4)
    model.save(tmp_path / "pool.keras")
    loaded = keras.saving.load_model(tmp_path / "pool.keras")
    np.testing.assert_allclose(loaded.predict(inputs, verbose=0), model.predict(inputs, verbose=0))


def test_arguments_are_validated():
    features = np.zeros((1, 4, 4, 1), "float32")
    with pytest.raises(ValueError, match="Received: window="):
        roi_align(features, np.zeros((1, 1, 4), "float32"), 2, 1.0, window=(8, 4))
    with pytest.raises(ValueError, match="Received: output_size="):
        roi_align(features, np.zeros((1, 1, 4), "float32"), (2, 0), 1.0)
    with pytest.raises(ValueError, match="Received: oversize='never'"):
        roi_align(features, np.zeros((1, 1, 4), "float32"), 2, 1.0, oversize="never")
    with pytest.raises(ValueError, match="Received: oversize=True"):
        MultiLevelRoIAlign(7, oversize=True)
    with pytest.raises(ValueError, match="Received: 1 feature maps"):
        multilevel_roi_align([features], np.zeros((1, 1, 4), "float32"), 2, strides=(4, 8))
