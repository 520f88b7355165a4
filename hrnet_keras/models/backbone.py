"""The HRNet backbone: stem, four stages, four parallel branches out."""

import keras

from hrnet_keras.layers import (
    BOTTLENECK_EXPANSION,
    NormOptions,
    bottleneck,
    conv_bn,
    multi_resolution_fusion,
    multi_resolution_group_conv,
    transition,
)
from hrnet_keras.models.options import CLASSIFICATION_DEFAULTS, validate_image_shape
from hrnet_keras.models.recompute import check_recompute, recomputed
from hrnet_keras.models.spec import hrnet_spec

STEM_WIDTH = 64
STRIDES = (4, 8, 16, 32)


def hrnet_features(inputs, spec, *, norm, upsample, align_corners, recompute="none"):
    """Builds the backbone graph on `inputs`; returns the four branch outputs.

    `recompute` (see `hrnet_keras.models.recompute`) groups the stem, stage 1 and the
    multi-resolution modules into `RecomputedBlock`s; the layers and their names are the same
    in every mode.
    """
    check_recompute(recompute)
    per_stage, per_module = recompute == "stages", recompute == "modules"

    def stem(xs):
        x = conv_bn(xs[0], STEM_WIDTH, 3, strides=2, norm=norm, name="stem", suffix="1")
        return [conv_bn(x, STEM_WIDTH, 3, strides=2, norm=norm, name="stem", suffix="2")]

    def stage1_unit(u):
        return lambda xs: [bottleneck(xs[0], spec.stage1_planes, norm=norm, name=f"stage1_unit{u}")]

    def stage1(xs):
        xs = recomputed(stem, xs, name="stem_block", enabled=per_module)
        for u in range(spec.stage1_units):
            xs = recomputed(stage1_unit(u), xs, name=f"stage1_unit{u}_block", enabled=per_module)
        return xs

    # "stages": the stem and stage 1 are one block; "modules": the stem and each unit.
    branches = recomputed(stage1, [inputs], name="stage1_block", enabled=per_stage)
    in_widths = (spec.stage1_planes * BOTTLENECK_EXPANSION,)
    for stage, num_modules in enumerate(spec.modules, start=2):
        widths = spec.widths[:stage]
        branches = transition(branches, in_widths, widths, norm=norm, name=f"transition{stage - 1}")

        def module(name, widths=widths):
            def build(xs):
                xs = multi_resolution_group_conv(xs, widths, spec.units, norm=norm, name=name)
                return multi_resolution_fusion(
                    xs, widths, norm=norm, name=name, upsample=upsample, align_corners=align_corners
                )

            return build

        def modules(xs, stage=stage, num_modules=num_modules, module=module):
            for m in range(num_modules):
                name = f"stage{stage}_module{m}"
                xs = recomputed(module(name), xs, name=f"{name}_block", enabled=per_module)
            return xs

        branches = recomputed(modules, branches, name=f"stage{stage}_block", enabled=per_stage)
        in_widths = widths
    return branches


@keras.saving.register_keras_serializable(package="hrnet_keras")
class HRNetBackbone(keras.Model):
    """HRNet without a head: the four parallel branches of stage 4.

    The outputs, and `pyramid_outputs`, are a dict `{"P2": ..., "P5": ...}` (Pn has stride
    2^n, channels C, 2C, 4C, 8C): the keras-hub convention, which every builder of
    `hrnet_keras.models` composes.

    Args:
        width: see `hrnet_spec`.
        upsample: fusion upsampling, `"nearest"` or `"bilinear"`.
        align_corners: for bilinear fusion upsampling.
        bn_momentum: Keras batch-norm momentum (`1 - torch_momentum`).
        bn_epsilon: batch-norm epsilon.
        sync_bn: synchronise batch statistics across replicas.
        recompute: activation recomputation in training, `"none"`, `"stages"` or
            `"modules"` (see `hrnet_keras.models.recompute`): less memory for more time;
            the same layers, outputs and gradients.
        image_shape: `(height, width, channels)`; sizes None or multiples of 32.

    Example:
    >>> from hrnet_keras.models import HRNetBackbone
    >>> backbone = HRNetBackbone(width=8, image_shape=(64, 64, 3))
    >>> {k: tuple(v.shape)[1:] for k, v in backbone.pyramid_outputs.items()}
    {'P2': (16, 16, 8), 'P3': (8, 8, 16), 'P4': (4, 4, 32), 'P5': (2, 2, 64)}
    """

    def __init__(
        self,
        width=18,
        # An ImageNet backbone unless told otherwise: the checkpoints most often loaded alone.
        upsample=CLASSIFICATION_DEFAULTS.upsample,
        align_corners=CLASSIFICATION_DEFAULTS.align_corners,
        bn_momentum=CLASSIFICATION_DEFAULTS.bn_momentum,
        bn_epsilon=CLASSIFICATION_DEFAULTS.bn_epsilon,
        sync_bn=False,
        image_shape=(None, None, 3),
        recompute="none",
        **kwargs,
    ):
        spec = hrnet_spec(width)
        image_shape = validate_image_shape(image_shape, "image_shape")
        norm = NormOptions(bn_momentum, bn_epsilon, sync_bn)
        inputs = keras.Input(image_shape, name="image")
        branches = hrnet_features(
            inputs,
            spec,
            norm=norm,
            upsample=upsample,
            align_corners=align_corners,
            recompute=recompute,
        )
        pyramid = {f"P{b + 2}": x for b, x in enumerate(branches)}
        kwargs.setdefault("name", f"hrnet_{spec.name}_backbone")
        super().__init__(inputs=inputs, outputs=pyramid, **kwargs)

        self.pyramid_outputs = pyramid
        self.spec = spec
        self.width = width
        self.upsample = upsample
        self.align_corners = align_corners
        self.bn_momentum = bn_momentum
        self.bn_epsilon = bn_epsilon
        self.sync_bn = sync_bn
        self.image_shape = image_shape
        self.recompute = recompute

    @property
    def feature_info(self):
        """Channels and stride of each pyramid level, as timm's `feature_info`."""
        return [
            {"name": f"P{b + 2}", "channels": c, "reduction": s}
            for b, (c, s) in enumerate(zip(self.spec.widths, STRIDES))
        ]

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "width": self.width,
            "upsample": self.upsample,
            "align_corners": self.align_corners,
            "bn_momentum": self.bn_momentum,
            "bn_epsilon": self.bn_epsilon,
            "sync_bn": self.sync_bn,
            "image_shape": self.image_shape,
            "recompute": self.recompute,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "image_shape" in config:
            config["image_shape"] = tuple(config["image_shape"])
        return cls(**config)
