"""`nms` and `batched_nms` against torchvision.ops, padded and empty inputs, XLA."""

import numpy as np
import pytest
import tensorflow as tf

from hrnet_keras.detection.nms import batched_nms, nms

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")


def _random_case(rng, count, ties):
    corner = rng.uniform(0, 200, (count, 2))
    size = rng.uniform(0, 80, (count, 2))
    boxes = np.concatenate([corner, corner + size], -1).astype("float32")
    scores = rng.uniform(0, 1, count).astype("float32")
    if ties:
        scores = np.round(scores, 1)  # many equal scores: the lower index goes first
    return boxes, scores


def _kept(indices, valid):
    indices, valid = np.asarray(indices), np.asarray(valid)
    assert not indices[~valid].any(), "padding rows must index 0"
    assert valid[: valid.sum()].all(), "valid rows must come first"
    return indices[valid]


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("iou_threshold", [0.3, 0.5, 0.7])
def test_nms_matches_torchvision(iou_threshold, ties):
    rng = np.random.default_rng(int(iou_threshold * 10) + ties)
    for count in (1, 7, 60, 250):
        boxes, scores = _random_case(rng, count, ties)
        theirs = torchvision.ops.nms(
            torch.from_numpy(boxes), torch.from_numpy(scores), iou_threshold
        ).numpy()
        ours = _kept(*nms(boxes, scores, iou_threshold, max_output_size=count + 3))
        np.testing.assert_array_equal(ours, theirs)
        # A smaller output keeps the first rows.
        ours = _kept(*nms(boxes, scores, iou_threshold, max_output_size=5))
        np.testing.assert_array_equal(ours, theirs[:5])


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("num_groups", [1, 3, 80])
def test_batched_nms_matches_torchvision(num_groups, ties):
    rng = np.random.default_rng(num_groups + 100 * ties)
    batch, count = 3, 150
    cases = [_random_case(rng, count, ties) for _ in range(batch)]
    boxes = np.stack([c[0] for c in cases])
    scores = np.stack([c[1] for c in cases])
    groups = rng.integers(0, num_groups, (batch, count)).astype("int32")
    for iou_threshold in (0.4, 0.6):
        indices, valid = batched_nms(boxes, scores, groups, iou_threshold, max_output_size=count)
        assert indices.shape == (batch, count) and indices.dtype == tf.int32
        for b in range(batch):
            theirs = torchvision.ops.batched_nms(
                torch.from_numpy(boxes[b]),
                torch.from_numpy(scores[b]),
                torch.from_numpy(groups[b]).long(),
                iou_threshold,
            ).numpy()
            np.testing.assert_array_equal(_kept(indices[b], valid[b]), theirs)


def test_padding_rows_are_never_kept_and_do_not_change_the_result():
    rng = np.random.default_rng(7)
    boxes, scores = _random_case(rng, 40, ties=False)
    groups = rng.integers(0, 4, 40).astype("int32")
    expected = torchvision.ops.batched_nms(
        torch.from_numpy(boxes), torch.from_numpy(scores), torch.from_numpy(groups).long(), 0.5
    ).numpy()
    # Interleave padding rows (score -inf) with huge or NaN boxes and stray groups.
    padded_boxes = np.zeros((80, 4), "float32")
    padded_scores = np.full(80, -np.inf, "float32")
    padded_groups = np.full(80, 99, "int32")
    padded_boxes[::2], padded_scores[::2], padded_groups[::2] = boxes, scores, groups
    padded_boxes[1::4] = 1e6
    padded_boxes[3::4] = np.nan
    indices, valid = batched_nms(
        padded_boxes[None], padded_scores[None], padded_groups[None], 0.5, max_output_size=80
    )
    np.testing.assert_array_equal(_kept(indices[0], valid[0]) // 2, expected)
    # NaN scores count as padding too.
    nan_scores = np.where(padded_scores == -np.inf, np.nan, padded_scores)
    indices, valid = nms(padded_boxes, nan_scores, 0.5, max_output_size=80)
    assert (_kept(indices, valid) % 2 == 0).all()


def test_empty_and_all_padding_inputs():
    for count in (0, 3):
        boxes = np.zeros((2, count, 4), "float32")
        scores = np.full((2, count), -np.inf, "float32")
        groups = np.zeros((2, count), "int32")
        for jit in (False, True):
            fn = tf.function(
                lambda b, s, g: batched_nms(b, s, g, 0.5, max_output_size=4), jit_compile=jit
            )
            indices, valid = fn(boxes, scores, groups)
            assert indices.shape == (2, 4) and not np.asarray(valid).any()
            assert not np.asarray(indices).any()
            single = tf.function(lambda b, s: nms(b, s, 0.5, max_output_size=4), jit_compile=jit)
            indices, valid = single(boxes[0], scores[0])
            assert indices.shape == (4,) and not np.asarray(valid).any()


def test_under_xla_with_static_and_unknown_batch_gives_the_same_indices():
    rng = np.random.default_rng(8)
    cases = [_random_case(rng, 90, ties=True) for _ in range(2)]
    boxes = np.stack([c[0] for c in cases])
    scores = np.stack([c[1] for c in cases])
    scores[:, 70:] = -np.inf
    groups = rng.integers(0, 5, (2, 90)).astype("int32")
    eager = [np.asarray(t) for t in batched_nms(boxes, scores, groups, 0.5, 30)]

    def fn(b, s, g):
        return batched_nms(b, s, g, 0.5, max_output_size=30)

    unknown = [
        tf.TensorSpec((None, 90, 4), tf.float32),
        tf.TensorSpec((None, 90), tf.float32),
        tf.TensorSpec((None, 90), tf.int32),
    ]
    for compiled in (
        tf.function(fn, jit_compile=True),
        tf.function(fn, jit_compile=True, input_signature=unknown),
    ):
        for ours, xla in zip(eager, compiled(boxes, scores, groups)):
            np.testing.assert_array_equal(np.asarray(xla), ours)


def test_arguments_are_validated():
    boxes, scores = np.zeros((2, 4), "float32"), np.zeros(2, "float32")
    with pytest.raises(ValueError, match="Received: max_output_size=0"):
        nms(boxes, scores, 0.5, max_output_size=0)
    with pytest.raises(ValueError, match=r"Received: iou_threshold=1\.5"):
        nms(boxes, scores, 1.5, max_output_size=2)


def test_pooling_and_nms_convert_to_tflite_builtins_and_run_the_same():
    """A tiny model with `MultiLevelRoIAlign` and `batched_nms`: TFLITE_BUILTINS only."""
    import keras

    from hrnet_keras.detection.roi_align import MultiLevelRoIAlign

    interpreter_module = pytest.importorskip("ai_edge_litert.interpreter")

    class GroupNMS(keras.layers.Layer):
        def call(self, boxes, scores, groups):
            return batched_nms(boxes, scores, groups, 0.5, max_output_size=8)

    count = 12
    inputs = [
        keras.Input((16, 16, 4), batch_size=1),
        keras.Input((8, 8, 4), batch_size=1),
        keras.Input((count, 4), batch_size=1),
        keras.Input((count,), batch_size=1),
        keras.Input((count,), batch_size=1, dtype="int32"),
    ]
    pooled = MultiLevelRoIAlign(5, strides=(4, 8))(inputs[:2], inputs[2])
    indices, valid = GroupNMS()(*inputs[2:])
    model = keras.Model(inputs, {"pooled": pooled, "indices": indices, "valid": valid})

    @tf.function
    def serve(p2, p3, boxes, scores, groups):
        return model([p2, p3, boxes, scores, groups])

    concrete = serve.get_concrete_function(*[tf.TensorSpec(t.shape, t.dtype) for t in model.inputs])
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], model)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    interpreter = interpreter_module.Interpreter(model_content=converter.convert())
    interpreter.allocate_tensors()

    rng = np.random.default_rng(9)
    boxes, scores = _random_case(rng, count, ties=True)
    boxes = boxes * 0.4  # inside the 64-pixel image, on both levels
    scores[-2:] = -np.inf
    values = [
        rng.standard_normal((1, 16, 16, 4)).astype("float32"),
        rng.standard_normal((1, 8, 8, 4)).astype("float32"),
        boxes[None],
        scores[None],
        rng.integers(0, 3, (1, count)).astype("int32"),
    ]
    expected = model(values)
    runner = interpreter.get_signature_runner()
    got = runner(**dict(zip(["p2", "p3", "boxes", "scores", "groups"], values)))
    np.testing.assert_allclose(got["pooled"], expected["pooled"], atol=1e-5)
    np.testing.assert_array_equal(got["indices"], expected["indices"])
    np.testing.assert_array_equal(got["valid"], expected["valid"])
