"""Multiply-adds of `hrnet_keras.models.faster_rcnn`, part by part, as mmdetection counts them.

mmdetection's `tools/analysis_tools/get_flops.py` (default `--shape 1280 800`: a
(3, 1280, 800) image, 1280 high) runs the detector's `forward_dummy`: backbone, neck, the
RPN head on every level and the box head on 1000 random RoIs, without proposal decoding,
NMS or post-processing. mmcv's counter hooks modules, not functions: a convolution counts its
multiply-adds plus one add a bias and output, a linear layer its multiply-adds, batch norm 2
an element, ReLU, pooling and `nn.Upsample` one; functional calls (`F.interpolate`, tensor
`+`) and RoIAlign (an mmcv op without a hook) count nothing. It prints the sum divided by
1e9 and calls it GFLOPs: these are multiply-adds, not FLOPs (a multiply-add is 2 FLOPs).

Here the Keras graph is traced part by part and every Conv2D / MatMul / BatchMatMul is
counted from its static shapes (as `hrnet_keras.models.complexity` does); mmcv's element
counts are added from the layers they correspond to. RoIAlign's own matrix products (the
separable form of `detection.roi_align`) are reported apart, since mmcv does not count
RoIAlign.
"""

import numpy as np
import tensorflow as tf

from hrnet_keras.models.complexity import graph_ops, op_multiply_adds


def _count_macs(graph, parts, part_of):
    for op in graph_ops(graph):
        macs = op_multiply_adds(op)
        if macs:
            part = parts.setdefault(part_of(op.name), [0, 0])
            part[0] += macs


def _size(shape):
    return int(np.prod(shape[1:]))


def _backbone_elements(backbone):
    """mmcv's element counts of the modules HRNet and HRFPN are made of in mmdetection:
    HRNet's batch norms (2 an element), ReLUs and fusion `nn.Upsample`s, and every conv
    bias (one an output). HRFPN's interpolation and pooling are functional: not counted."""
    hrnet = hrfpn = 0
    for layer in backbone.layers:
        out = _size(layer.output.shape)
        kind = type(layer).__name__
        neck = layer.name.startswith("v2p_")
        if kind == "BatchNormalization":
            hrnet += 2 * out
        elif kind in ("ReLU", "Resize") and not neck:
            hrnet += out
        elif kind == "Conv2D" and layer.use_bias:
            if neck:
                hrfpn += out
            else:
                hrnet += out
    return hrnet, hrfpn


def detector_counts(model, rois):
    """Multiply-adds of `model`, a `FasterRCNN` built with a static input shape, with `rois`
    RoIs in the box head.

    Returns:
        `{part: [multiply_adds, mmcv_elements]}` for the parts `"hrnet"`, `"hrfpn"`,
        `"rpn_head"`, `"box_fcs"` (the two shared fc layers), `"box_predictors"` (`fc_cls`,
        `fc_reg`) and `"roi_align"`; `mmcv_elements` adds what mmcv's
        counter also counts (batch norm, ReLU and upsampling modules, conv biases).
    """
    height, width = model.backbone.input_shape[1:3]
    spec = tf.TensorSpec((1, height, width, 3), tf.float32)
    concrete = tf.function(lambda x: model.backbone(x, training=False)).get_concrete_function(spec)
    parts = {}
    _count_macs(concrete.graph, parts, lambda name: "hrfpn" if "/v2p_" in name else "hrnet")
    parts["hrnet"][1], parts["hrfpn"][1] = _backbone_elements(model.backbone)
    levels = [concrete.structured_outputs[name] for name in model.level_names]
    specs = [tf.TensorSpec(level.shape, tf.float32) for level in levels]
    rpn = tf.function(lambda features: model.rpn_head(features)).get_concrete_function(specs)
    _count_macs(rpn.graph, parts, lambda name: "rpn_head")
    # Conv biases of the RPN (its ReLU is functional in mmdetection).
    channels = model.rpn_head.channels + 5 * model.rpn_head.num_anchors
    parts["rpn_head"][1] = sum(_size(level.shape) // level.shape[-1] for level in levels) * channels
    # The exact pass over RoIs past RoIAlign's window has data-dependent shapes; mmcv counts
    # no RoIAlign at all, so the static pass stands for it here.
    model.roi_head.roi_align.oversize = "approximate"
    box_head = tf.function(lambda features, boxes: model.roi_head((features, boxes)))
    box_graph = box_head.get_concrete_function(
        specs[:4], tf.TensorSpec((1, rois, 4), tf.float32)
    ).graph

    def box_part(name):
        if "roi_align" in name:
            return "roi_align"
        return "box_predictors" if "fc_cls" in name or "fc_reg" in name else "box_fcs"

    _count_macs(box_graph, parts, box_part)
    parts["box_fcs"][1] = 2 * rois * model.fc_channels  # the shared fcs' nn.ReLU modules
    return parts
