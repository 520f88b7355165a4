"""`ResNetBackbone`: the bottleneck ResNet of torchvision and mmdetection, features C2..C5.

The paper's detection baseline (ResNet-50-FPN) runs on it. Layer names mirror the PyTorch
module names (`layer1.0.downsample.0` is `layer1_0_downsample_0`), so that porting a
torchvision or mmdetection checkpoint is a table (`hrnet_keras.convert.resnet`).
"""

import re

import keras

from hrnet_keras.layers import BOTTLENECK_EXPANSION, NormOptions, conv, conv_bn
from hrnet_keras.models.options import CLASSIFICATION_DEFAULTS, validate_image_shape

# Bottleneck units in each of the four stages, by depth (He et al. 2016, Table 1).
RESNET_BLOCKS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}
STAGE_PLANES = (64, 128, 256, 512)
STEM_WIDTH = 64
STRIDES = (4, 8, 16, 32)
# The stage of each layer name: the stem is stage 0, `layer{i}_*` stage i.
_STAGE = re.compile(r"^layer(\d+)_")


def resnet_bottleneck(x, planes, *, strides, norm, name):
    """torchvision's `Bottleneck` ("pytorch" style: the stride on the 3x3 conv).

    1x1 to `planes`, 3x3 (strided), 1x1 to `4 * planes`, added to the input or to its
    projection (`downsample`: a strided 1x1 conv and a batch norm) when the shape changes.

    Args:
        x: input tensor, NHWC.
        planes: inner width; the output has `4 * planes` channels.
        strides: stride of the 3x3 conv and the projection.
        norm: a `NormOptions`.
        name: layer name prefix, as the PyTorch module (`layer2_0` for `layer2.0`).

    Returns:
        The unit's output.

    Example:
    >>> import keras
    >>> from hrnet_keras.layers import NormOptions
    >>> y = resnet_bottleneck(keras.Input((8, 8, 64)), 64, strides=2, norm=NormOptions(),
    ...                       name="layer2_0")
    >>> tuple(y.shape)
    (None, 4, 4, 256)
    """
    filters = planes * BOTTLENECK_EXPANSION
    shortcut = x
    if x.shape[-1] != filters or strides != 1:
        shortcut = conv(x, filters, 1, strides=strides, name=f"{name}_downsample_0")
        shortcut = norm.batch_norm(f"{name}_downsample_1")(shortcut)
    y = conv_bn(x, planes, 1, norm=norm, name=name, suffix="1")
    y = conv_bn(y, planes, 3, strides=strides, norm=norm, name=name, suffix="2")
    y = conv_bn(y, filters, 1, norm=norm, name=name, suffix="3", relu=False)
    y = keras.layers.Add(name=f"{name}_add")([y, shortcut])
    return keras.layers.ReLU(name=f"{name}_out")(y)


def resnet_features(inputs, depth, *, norm):
    """Builds the ResNet graph on `inputs`; returns `{"C2": ..., "C5": ...}` (Cn: stride 2^n)."""
    x = conv(inputs, STEM_WIDTH, 7, strides=2, name="conv1")
    x = norm.batch_norm("bn1")(x)
    x = keras.layers.ReLU(name="relu")(x)
    # PyTorch pads the max pool with -inf on both sides; after the ReLU, zeros are the same.
    x = keras.layers.ZeroPadding2D(1, name="maxpool_pad")(x)
    x = keras.layers.MaxPooling2D(3, strides=2, name="maxpool")(x)
    features = {}
    for stage, (blocks, planes) in enumerate(zip(RESNET_BLOCKS[depth], STAGE_PLANES), start=1):
        for block in range(blocks):
            strides = 2 if block == 0 and stage > 1 else 1
            x = resnet_bottleneck(
                x, planes, strides=strides, norm=norm, name=f"layer{stage}_{block}"
            )
        features[f"C{stage + 1}"] = x
    return features


def layer_stage(name):
    """The stage of a `ResNetBackbone` layer: 0 for the stem, i for `layer{i}_*`."""
    match = _STAGE.match(name)
    return int(match.group(1)) if match else 0


def _check_arguments(depth, frozen_stages):
    if depth not in RESNET_BLOCKS:
        raise ValueError(
            f"`depth` must be one of {sorted(RESNET_BLOCKS)}. Received: depth={depth!r}"
        )
    if (
        isinstance(frozen_stages, bool)
        or not isinstance(frozen_stages, int)
        or not -1 <= frozen_stages <= len(STAGE_PLANES)
    ):
        raise ValueError(
            "`frozen_stages` must be an int from -1 (nothing frozen) to 4: 0 freezes the stem, "
            f"i > 0 the stem and stages 1..i. Received: frozen_stages={frozen_stages!r}"
        )


@keras.saving.register_keras_serializable(package="hrnet_keras")
class ResNetBackbone(keras.Model):
    """A bottleneck ResNet (50, 101 or 152 layers) without its classifier: features C2..C5.

    torchvision's `resnet50` and mmdetection's `ResNet(style="pytorch")`: a 7x7 stem and a
    max pool, then four stages of bottlenecks whose first unit strides on its 3x3 conv. The
    outputs, and `pyramid_outputs`, are a dict `{"C2": ..., "C5": ...}` (Cn has stride 2^n,
    channels 256, 512, 1024, 2048); a neck such as `hrnet_keras.models.fpn` turns them into
    the levels P2..P6 a detector reads.

    `frozen_stages` is mmdetection's: the frozen layers are not trainable (their weights stay
    as loaded) and their batch norms always use the moving statistics, as mmdetection puts
    frozen stages in eval mode. The batch norms of the other stages follow the `training`
    flag; a detector keeps them in inference mode with `FasterRCNN(norm_eval=True)`.

    Args:
        depth: 50, 101 or 152.
        frozen_stages: -1 (nothing frozen), 0 (the stem), or i in 1..4 (the stem and stages
            1..i).
        bn_momentum: Keras batch-norm momentum (`1 - torch_momentum`).
        bn_epsilon: batch-norm epsilon (PyTorch's 1e-5).
        sync_bn: synchronise batch statistics across replicas.
        image_shape: `(height, width, channels)`; sizes None or multiples of 32.

    Example:
    >>> from hrnet_keras.models import ResNetBackbone
    >>> backbone = ResNetBackbone(50, frozen_stages=1, image_shape=(64, 64, 3))
    >>> {k: tuple(v.shape)[1:] for k, v in backbone.pyramid_outputs.items()}
    {'C2': (16, 16, 256), 'C3': (8, 8, 512), 'C4': (4, 4, 1024), 'C5': (2, 2, 2048)}
    >>> [backbone.get_layer(n).trainable for n in ("bn1", "layer1_2_conv3", "layer2_0_conv1")]
    [False, False, True]
    """

    def __init__(
        self,
        depth=50,
        frozen_stages=-1,
        bn_momentum=CLASSIFICATION_DEFAULTS.bn_momentum,
        bn_epsilon=CLASSIFICATION_DEFAULTS.bn_epsilon,
        sync_bn=False,
        image_shape=(None, None, 3),
        **kwargs,
    ):
        _check_arguments(depth, frozen_stages)
        image_shape = validate_image_shape(image_shape, "image_shape")
        norm = NormOptions(bn_momentum, bn_epsilon, sync_bn)
        inputs = keras.Input(image_shape, name="image")
        features = resnet_features(inputs, depth, norm=norm)
        kwargs.setdefault("name", f"resnet{depth}_backbone")
        super().__init__(inputs=inputs, outputs=features, **kwargs)
        for layer in self.layers:
            if layer.weights and layer_stage(layer.name) <= frozen_stages:
                layer.trainable = False

        self.pyramid_outputs = features
        self.depth = depth
        self.frozen_stages = frozen_stages
        self.bn_momentum = bn_momentum
        self.bn_epsilon = bn_epsilon
        self.sync_bn = sync_bn
        self.image_shape = image_shape

    @property
    def feature_info(self):
        """Channels and stride of each output, as timm's `feature_info`."""
        return [
            {"name": f"C{i + 2}", "channels": planes * BOTTLENECK_EXPANSION, "reduction": s}
            for i, (planes, s) in enumerate(zip(STAGE_PLANES, STRIDES))
        ]

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "depth": self.depth,
            "frozen_stages": self.frozen_stages,
            "bn_momentum": self.bn_momentum,
            "bn_epsilon": self.bn_epsilon,
            "sync_bn": self.sync_bn,
            "image_shape": self.image_shape,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "image_shape" in config:
            config["image_shape"] = tuple(config["image_shape"])
        return cls(**config)
