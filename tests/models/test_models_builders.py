"""Output shapes of every builder (tiny widths, 64 px) and their argument checks."""

import keras
import numpy as np
import pytest

from hrnet_keras import models

SIZE = (64, 64, 3)


@pytest.mark.parametrize(
    "build, shape",
    [
        (lambda: models.hrnetv2(width=4, input_shape=SIZE), (16, 16, 60)),
        (lambda: models.hrnetv2(width=4, num_classes=7, input_shape=SIZE), (16, 16, 7)),
        (lambda: models.hrnetv1(width=4, input_shape=SIZE), (16, 16, 4)),
        (lambda: models.hrnetv1(width=4, num_classes=3, input_shape=SIZE), (16, 16, 3)),
        (lambda: models.hrnetv1h(width=4, input_shape=SIZE), (16, 16, 60)),
        (lambda: models.hrnetv1h(width=4, channels=32, input_shape=SIZE), (16, 16, 32)),
        (lambda: models.hrnet_classifier(width=4, num_classes=10, input_shape=SIZE), (10,)),
        (lambda: models.hrnet_classifier(4, 10, head="Ci", input_shape=SIZE), (10,)),
        (lambda: models.hrnet_classifier(4, 10, head="Cii", input_shape=SIZE), (10,)),
        (lambda: models.hrnet_classifier(4, include_top=False, input_shape=SIZE), (2, 2, 2048)),
        (
            lambda: models.hrnet_classifier(4, include_top=False, pooling="max", input_shape=SIZE),
            (2048,),
        ),
        (lambda: models.hrnetv2(width="18-small-v1", input_shape=SIZE), (16, 16, 240)),
        (lambda: models.hrnetv2(width="18-small-v2", input_shape=SIZE), (16, 16, 270)),
    ],
)
def test_output_shapes(build, shape):
    model = build()
    assert tuple(model.output.shape)[1:] == shape
    x = np.random.default_rng(0).random((2, *SIZE), dtype="float32")
    # An eager call: compiling `predict` for a 1,100-layer graph costs ~10 s a model.
    assert np.asarray(model(x, training=False)).shape == (2, *shape)


def test_backbone_pyramid_and_feature_info():
    backbone = models.hrnet_backbone(width=4, input_shape=SIZE)
    shapes = {k: tuple(v.shape)[1:] for k, v in backbone.pyramid_outputs.items()}
    assert shapes == {"P2": (16, 16, 4), "P3": (8, 8, 8), "P4": (4, 4, 16), "P5": (2, 2, 32)}
    assert [(f["channels"], f["reduction"]) for f in backbone.feature_info] == [
        (4, 4),
        (8, 8),
        (16, 16),
        (32, 32),
    ]


def test_hrnetv2p_levels():
    model = models.hrnetv2p(width=4, channels=16, levels=4, pooling="max", input_shape=SIZE)
    assert {k: tuple(v.shape)[1:] for k, v in model.output.items()} == {
        "P2": (16, 16, 16),
        "P3": (8, 8, 16),
        "P4": (4, 4, 16),
        "P5": (2, 2, 16),
    }


@pytest.mark.parametrize("upsample", ["nearest", "bilinear"])
def test_any_size_divisible_by_32(upsample):
    model = models.hrnetv2(width=4, num_classes=2, upsample=upsample)
    x = np.zeros((1, 96, 160, 3), "float32")
    assert np.asarray(model(x, training=False)).shape == (1, 24, 40, 2)


def test_layer_names_are_stable():
    names = {layer.name for layer in models.hrnetv2(width=4, num_classes=2).layers}
    for expected in (
        "stem_conv1",
        "stem_bn2",
        "stage1_unit0_downsample_conv",
        "transition1_branch0_conv",
        "transition3_branch3_conv",
        "stage3_module3_branch2_unit3_conv2",
        "stage4_module2_fuse_3_to_0_conv",
        "stage4_module2_fuse_0_to_3_conv2",
        "head_conv1",
        "head_logits",
    ):
        assert expected in names


@pytest.mark.parametrize(
    "build, argument",
    [
        (lambda: models.hrnetv2(width=0), "width=0"),
        (lambda: models.hrnetv2(width=True), "width=True"),
        (lambda: models.hrnetv2(width="18-small-v3"), "width='18-small-v3'"),
        (lambda: models.hrnetv2(width=4, num_classes=0), "num_classes=0"),
        (lambda: models.hrnetv2(width=4, upsample="cubic"), "upsample='cubic'"),
        (lambda: models.hrnetv2(width=4, input_shape=(65, 64, 3)), "input_shape=(65, 64, 3)"),
        (lambda: models.hrnetv2(width=4, input_shape=(64, 64)), "input_shape=(64, 64)"),
        (lambda: models.hrnetv2(width=4, bn_momentum=1.5), "bn_momentum=1.5"),
        (lambda: models.hrnetv2(width=4, bn_epsilon=0.0), "bn_epsilon=0.0"),
        (lambda: models.hrnetv1h(width=4, channels=0), "channels=0"),
        (lambda: models.hrnetv2p(width=4, pooling="sum"), "pooling='sum'"),
        (lambda: models.hrnetv2p(width=4, levels=0), "levels=0"),
        (lambda: models.hrnet_classifier(width=4, head="D"), "head='D'"),
        (lambda: models.hrnet_classifier(width=4, pooling="sum"), "pooling='sum'"),
        (lambda: models.hrnet_classifier(width=4, num_classes=None), "num_classes=None"),
    ],
)
def test_bad_arguments_fail_fast(build, argument):
    with pytest.raises(ValueError, match="Received: .*" + _escape(argument)):
        build()


def test_weights_argument_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="weights="):
        models.hrnetv2(width=4, weights=str(tmp_path / "missing.keras"))
    wrong = tmp_path / "weights.txt"
    wrong.write_text("not weights")
    with pytest.raises(ValueError, match="weights="):
        models.hrnetv2(width=4, weights=str(wrong))


def test_weights_argument_loads_keras_weights(tmp_path):
    source = models.hrnetv2(width=4, num_classes=3, input_shape=SIZE)
    path = tmp_path / "model.weights.h5"
    source.save_weights(path)
    loaded = models.hrnetv2(width=4, num_classes=3, input_shape=SIZE, weights=str(path))
    for a, b in zip(source.weights, loaded.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_sync_bn_option():
    model = models.hrnetv2(width=4, sync_bn=True, bn_momentum=0.99, input_shape=SIZE)
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert norms and all(n.synchronized and n.momentum == 0.99 for n in norms)
    assert all(n.epsilon == 1e-5 for n in norms)


def _escape(text):
    import re

    return re.escape(text)
