"""Activation recomputation: the same loss, gradients, moving statistics and weights as the
plain network; serialisable; modes checked."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from hrnet_keras import models
from hrnet_keras.layers import NormOptions
from hrnet_keras.models.backbone import hrnet_features
from hrnet_keras.models.recompute import RecomputedBlock
from hrnet_keras.models.spec import HRNetSpec
from hrnet_keras.segmentation import SegmentationLoss

SIZE = (32, 32, 3)
CLASSES = 3
# Every kind of block (stage-1 unit, 2-, 3- and 4-branch modules) with the fewest layers.
SPEC = HRNetSpec(
    "tiny", (4, 8, 16, 32), stage1_units=1, stage1_planes=4, modules=(1, 1, 1), units=1
)


def _build(recompute):
    keras.utils.set_random_seed(1)
    inputs = keras.Input(SIZE)
    branches = hrnet_features(
        inputs,
        SPEC,
        norm=NormOptions(momentum=0.9),
        upsample="bilinear",
        align_corners=False,
        recompute=recompute,
    )
    x = keras.layers.Concatenate()(
        [branches[0]] + [keras.layers.UpSampling2D(2**b)(x) for b, x in enumerate(branches) if b]
    )
    return keras.Model(inputs, keras.layers.Conv2D(CLASSES, 1, name="logits")(x))


def _copy_weights(source, target):
    by_path = {v.path: v for v in source.weights}
    # The layers keep their names, so their variables keep their paths.
    assert sorted(by_path) == sorted(v.path for v in target.weights)
    for variable in target.weights:
        variable.assign(by_path[variable.path])


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(2, *SIZE)).astype("float32")
    labels = rng.integers(0, CLASSES, size=(2, *SIZE[:2])).astype("int32")
    labels[:, :4] = 255
    return images, labels


def _step(model, images, labels, jit_compile=False):
    loss_fn = SegmentationLoss(CLASSES, ohem=True, ohem_min_kept=500)

    @tf.function(jit_compile=jit_compile)
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        return loss, tape.gradient(loss, model.trainable_variables)

    loss, grads = step(images, labels)
    grads = {v.path: np.asarray(g) for v, g in zip(model.trainable_variables, grads)}
    stats = {v.path: np.asarray(v) for v in model.non_trainable_variables}
    return float(loss), grads, stats


def _check_same_step(mode, batch, jit_compile=False):
    images, labels = batch
    plain, recomputed = _build("none"), _build(mode)
    _copy_weights(plain, recomputed)
    blocks = [layer for layer in recomputed.layers if isinstance(layer, RecomputedBlock)]
    # The stem, 1 stage-1 unit and 3 modules; or the stem with stage 1 and 3 stages.
    assert len(blocks) == (5 if mode == "modules" else 4)
    before = {v.path: np.asarray(v) for v in plain.non_trainable_variables}
    loss, grads, stats = _step(plain, images, labels, jit_compile)
    other_loss, other_grads, other_stats = _step(recomputed, images, labels, jit_compile)
    assert np.isfinite(loss) and all(np.abs(g).max() > 0 for g in grads.values())
    np.testing.assert_allclose(other_loss, loss, rtol=1e-6)
    assert sorted(other_grads) == sorted(grads)
    for path, grad in grads.items():
        scale = np.abs(grad).max()
        np.testing.assert_allclose(other_grads[path] / scale, grad / scale, atol=1e-5)
    # The moving statistics are updated once per step, not again by the recomputation.
    assert all(not np.allclose(stats[p], before[p]) for p in stats)
    for path, value in stats.items():
        np.testing.assert_allclose(other_stats[path], value, rtol=1e-6, atol=1e-7)


def test_recompute_modules_same_loss_gradients_and_statistics(batch):
    _check_same_step("modules", batch)


@pytest.mark.heavy
def test_recompute_stages_same_loss_gradients_and_statistics(batch):
    _check_same_step("stages", batch)


@pytest.mark.heavy
def test_recompute_same_step_under_jit_compile(batch):
    _check_same_step("modules", batch, jit_compile=True)


@pytest.mark.heavy
def test_recompute_trains_as_plain_under_train_on_batch(batch):
    images, labels = batch
    plain, recomputed = _build("none"), _build("modules")
    _copy_weights(plain, recomputed)
    initial = {v.path: np.asarray(v) for v in plain.weights}
    losses, weights = {}, {}
    for mode, model in (("none", plain), ("modules", recomputed)):
        model.compile(keras.optimizers.SGD(0.05, momentum=0.9), SegmentationLoss(CLASSES))
        losses[mode] = [float(model.train_on_batch(images, labels)) for _ in range(3)]
        weights[mode] = {v.path: np.asarray(v) for v in model.weights}
    np.testing.assert_allclose(losses["modules"], losses["none"], rtol=1e-5)
    assert any(not np.allclose(weights["none"][p], initial[p]) for p in initial)
    for path, value in weights["none"].items():
        np.testing.assert_allclose(weights["modules"][path], value, atol=1e-5)


def test_recompute_block_serialises():
    x = keras.Input((8, 8, 4), name="x")
    block = RecomputedBlock([x], [keras.layers.Conv2D(4, 3, padding="same", name="c")(x)])
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(block))
    assert isinstance(restored, RecomputedBlock)
    restored.set_weights(block.get_weights())
    inputs = [np.ones((1, 8, 8, 4), "float32")]
    np.testing.assert_allclose(restored(inputs)[0], block(inputs)[0], atol=1e-6)


@pytest.mark.heavy
def test_recompute_hrnetv2_saves_and_loads(batch, tmp_path):
    model = models.hrnetv2(
        "18-small-v1", num_classes=CLASSES, input_shape=SIZE, recompute="modules"
    )
    # The stem, 1 stage-1 unit, 3 modules and the head.
    assert sum(isinstance(layer, RecomputedBlock) for layer in model.layers) == 6
    path = str(tmp_path / "recomputed.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    assert sum(isinstance(layer, RecomputedBlock) for layer in restored.layers) == 6
    images, _ = batch
    np.testing.assert_allclose(restored(images), model(images), atol=1e-5)
    backbone = models.HRNetBackbone("18-small-v1", image_shape=SIZE, recompute="stages")
    assert models.HRNetBackbone.from_config(backbone.get_config()).recompute == "stages"


def test_recompute_rejects_unknown_modes():
    with pytest.raises(ValueError, match="Received: recompute='all'"):
        models.hrnetv2(8, input_shape=SIZE, recompute="all")
