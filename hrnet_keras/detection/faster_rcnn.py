"""`FasterRCNN`: a two-stage detector on any pyramid (P2..P6) model, trained with `fit`."""

import keras
from keras import ops

from hrnet_keras.detection.anchors import level_valid_flags, multilevel_anchors
from hrnet_keras.detection.postprocess import detections_from_rois
from hrnet_keras.detection.replicas import scale_for_replicas
from hrnet_keras.detection.roi_align import DEFAULT_WINDOW
from hrnet_keras.detection.roi_head import RoIBoxHead, rcnn_loss, sample_rois
from hrnet_keras.detection.rpn import RPNHead, generate_proposals, rpn_loss
from hrnet_keras.detection.sampler import ExampleKeys

LOSS_NAMES = ("rpn_cls", "rpn_bbox", "rcnn_cls", "rcnn_bbox")
# The target holding each example's `(2,)` stateless key of the samplers (see `ExampleKeys`).
SAMPLE_KEY = "sample_key"
# Salts of the samplers' keys: the RPN's anchors, the box head's RoIs.
RPN_SALT, RCNN_SALT = 0, 1
# mmdetection pads every image to a multiple of 32; anchors beyond that padding are invalid.
SIZE_DIVISOR = 32


@keras.saving.register_keras_serializable(package="hrnet_keras")
class FasterRCNN(keras.Model):
    """Faster R-CNN with mmdetection v2's settings: an RPN over P2..P6, a box head over P2..P5.

    Training design: the RoIs that train the box head are sampled against the ground
    truth, which `call` never sees. So `call(x, training=True)` runs the backbone, the RPN
    head and the (gradient-free) proposals and returns them with the pyramid; the model's
    own `compute_loss(x, y, y_pred)` assigns and samples anchors for the RPN loss, samples
    512 RoIs from the proposals plus the ground truth, runs the box head on them and adds
    the four losses (reported as the metrics `rpn_cls`, `rpn_bbox`, `rcnn_cls`,
    `rcnn_bbox`). Since Keras computes the loss inside the gradient tape, the box head's
    weights train through it; `compile(optimizer=...)` needs no `loss`. Without training,
    `call` returns the detections; `evaluate` recomputes the training outputs (batch norm
    in inference mode) to report the same losses. Targets with a `"sample_key"` `(B, 2)`
    (as the training pipeline's) key each image's sampled anchors and RoIs, which are then
    the same whatever the batch, the replica or a resumption; without one the samplers
    draw from the model's `seed`.

    Args:
        backbone: a model from images `(B, H, W, 3)` to a dict of levels `{"P2": ..., "P6":
            ...}` of equal channels (e.g. `hrnet_keras.models.hrnetv2p(width=32)`).
        num_classes: object classes, background excluded.
        strides: strides of the RPN levels; the box head pools the first four.
        anchor_scales: anchor sizes in units of the stride.
        anchor_ratios: anchor height / width ratios.
        rpn_channels: channels of the RPN's 3x3 conv.
        fc_channels: width of the box head's shared fc layers.
        train_pre_nms_top_k: RPN candidates per level before NMS while training.
        test_pre_nms_top_k: the same at inference.
        max_proposals: proposals per image after the RPN's NMS at inference.
        train_max_proposals: the same while training; None is `max_proposals`.
        rpn_num_samples: anchors sampled per image for the RPN loss (half positive at most).
        rcnn_num_samples: RoIs sampled per image for the box head (a quarter positive at most).
        score_threshold: least score of a detection.
        nms_iou_threshold: per-class NMS threshold of the detections.
        max_detections: detections per image.
        norm_eval: run the backbone's batch norm in inference mode while training (moving
            statistics frozen, scales and offsets still trained), mmdetection's `norm_eval`.
        seed: seed of the anchor and RoI samplers.
        rpn_smooth_l1_beta / rcnn_smooth_l1_beta: the RPN's and the box head's box losses
            are smooth L1 with this `beta`; 0 (mmdetection's Faster R-CNN) is L1.
        roi_window: the box head's RoIAlign window `(short, long)` in feature cells: RoIs
            that fit it are pooled in one static gather (`roi_align`).
        roi_oversize: how the RoIs larger than the window are pooled. `"auto"`: again,
            exactly (torchvision's numbers), outside XLA; approximately (`roi_align`) under
            `jit_compile=True`, which needs static shapes, so an XLA training step pools
            them approximately while `predict`, a plain call and exported graphs are exact.
            `"exact"` raises under XLA; `"approximate"` never pools again (also what TFLite
            with builtin ops needs).

    Call arguments:
        inputs: images `(B, H, W, 3)` (H, W multiples of 32), or a dict of `"images"` and
            `"image_shape"` `(B, 2)`, the unpadded `(height, width)` that boxes are clipped to.

    Returns:
        At inference, a dict `"boxes"` `(B, max_detections, 4)` xyxy input pixels,
        `"scores"`, `"labels"` int32 (-1 padding) and `"num_detections"` `(B,)`.

    Example:
    >>> import numpy as np
    >>> from hrnet_keras.models import hrnetv2p
    >>> model = FasterRCNN(hrnetv2p(width=8, channels=16), num_classes=3, fc_channels=32)
    >>> sorted(model(np.zeros((1, 64, 64, 3), "float32")))
    ['boxes', 'labels', 'num_detections', 'scores']
    """

    def __init__(
        self,
        backbone,
        num_classes,
        *,
        strides=(4, 8, 16, 32, 64),
        anchor_scales=(8.0,),
        anchor_ratios=(0.5, 1.0, 2.0),
        rpn_channels=256,
        fc_channels=1024,
        train_pre_nms_top_k=2000,
        test_pre_nms_top_k=1000,
        max_proposals=1000,
        rpn_num_samples=256,
        rcnn_num_samples=512,
        score_threshold=0.05,
        nms_iou_threshold=0.5,
        max_detections=100,
        norm_eval=False,
        seed=None,
        roi_window=DEFAULT_WINDOW,
        roi_oversize="auto",
        train_max_proposals=None,
        rpn_smooth_l1_beta=0.0,
        rcnn_smooth_l1_beta=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(
                f"`num_classes` must be a positive int. Received: num_classes={num_classes!r}"
            )
        if len(strides) < 4:
            raise ValueError(
                f"`strides` must name at least four levels. Received: strides={strides!r}"
            )
        self.backbone = backbone
        self.num_classes = num_classes
        self.strides = tuple(strides)
        self.anchor_scales = tuple(anchor_scales)
        self.anchor_ratios = tuple(anchor_ratios)
        self.rpn_channels = rpn_channels
        self.fc_channels = fc_channels
        self.train_pre_nms_top_k = train_pre_nms_top_k
        self.test_pre_nms_top_k = test_pre_nms_top_k
        self.max_proposals = max_proposals
        self.train_max_proposals = train_max_proposals
        self.rpn_smooth_l1_beta = rpn_smooth_l1_beta
        self.rcnn_smooth_l1_beta = rcnn_smooth_l1_beta
        self.rpn_num_samples = rpn_num_samples
        self.rcnn_num_samples = rcnn_num_samples
        self.score_threshold = score_threshold
        self.nms_iou_threshold = nms_iou_threshold
        self.max_detections = max_detections
        self.norm_eval = norm_eval
        self.seed = seed
        self.level_names = [f"P{s.bit_length() - 1}" for s in self.strides]
        missing = [n for n in self.level_names if n not in backbone.output]
        if missing:
            raise ValueError(
                f"`backbone` must return the levels {self.level_names}. "
                f"Received: backbone outputs={sorted(backbone.output)}"
            )
        channels = backbone.output[self.level_names[0]].shape[-1]
        num_anchors = len(self.anchor_scales) * len(self.anchor_ratios)
        self.rpn_head = RPNHead(num_anchors, rpn_channels, name="rpn_head")
        level = (None, None, None, channels)
        self.rpn_head.build([level] * len(self.strides))
        heads = self.build_box_heads(channels, roi_window=roi_window, roi_oversize=roi_oversize)
        self.roi_window = heads[0].roi_window
        self.roi_oversize = heads[0].roi_oversize
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_trackers = [keras.metrics.Mean(name=n) for n in self.loss_names]
        self.built = True

    @property
    def loss_names(self):
        """The names of the losses `compute_loss` adds (and reports as metrics)."""
        return LOSS_NAMES

    def box_head(self, **kwargs):
        """A `RoIBoxHead` of this detector's classes, levels and fc width; `kwargs` are its
        other arguments (name, window, class-agnostic regression)."""
        return RoIBoxHead(
            self.num_classes, strides=self.strides[:4], fc_channels=self.fc_channels, **kwargs
        )

    def build_box_heads(self, channels, **kwargs):
        """Creates and builds the R-CNN head(s) on levels of `channels`; returns them."""
        self.roi_head = self.box_head(name="roi_head", **kwargs)
        self.roi_head.build(([(None, None, None, channels)] * 4, (None, None, 4)))
        return [self.roi_head]

    def _images_and_shape(self, inputs):
        if isinstance(inputs, dict):
            images = inputs["images"]
            image_shape = inputs.get("image_shape")
        else:
            images, image_shape = inputs, None
        if image_shape is None:
            size = ops.cast(ops.shape(images)[1:3], "float32")
            image_shape = ops.broadcast_to(size[None, :], (ops.shape(images)[0], 2))
        return images, ops.cast(image_shape, "float32")

    def _first_stage(self, inputs, training):
        """Pyramid, RPN outputs, anchors and proposals: what both stages and losses share."""
        images, image_shape = self._images_and_shape(inputs)
        pyramid = self.backbone(images, training=training and not self.norm_eval)
        levels = [pyramid[n] for n in self.level_names]
        scores, deltas = self.rpn_head(levels)
        sizes = [(ops.shape(x)[1], ops.shape(x)[2]) for x in levels]
        anchors = multilevel_anchors(
            sizes, self.strides, scales=self.anchor_scales, ratios=self.anchor_ratios
        )
        proposals, _, valid, proposal_ids = generate_proposals(
            scores,
            deltas,
            anchors,
            image_shape,
            pre_nms_top_k=self.train_pre_nms_top_k if training else self.test_pre_nms_top_k,
            max_proposals=self.max_proposals
            if not training or self.train_max_proposals is None
            else self.train_max_proposals,
            return_anchor_ids=True,
        )
        return {
            "levels": levels,
            "rpn_scores": scores,
            "rpn_deltas": deltas,
            "anchors": anchors,
            "proposals": proposals,
            "proposal_valid": valid,
            # Each proposal's anchor: an identity that stays when near-equal scores swap ranks.
            "proposal_ids": proposal_ids,
            "image_shape": image_shape,
        }

    def call(self, inputs, training=False):
        first = self._first_stage(inputs, training)
        if training:
            return first
        return self.detect(first)

    def detect(self, first):
        """The padded detections of `_first_stage`'s (inference) outputs."""
        class_logits, box_deltas = self.roi_head((first["levels"][:4], first["proposals"]))
        return detections_from_rois(
            class_logits,
            box_deltas,
            first["proposals"],
            first["proposal_valid"],
            first["image_shape"],
            score_threshold=self.score_threshold,
            iou_threshold=self.nms_iou_threshold,
            max_detections=self.max_detections,
        )

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Keras' symbolic build, from the first replica's batch instead of the replicas' mean.

        Under a distribution strategy Keras' TensorFlow trainer averages one distributed
        batch over the replicas (`strategy.reduce("MEAN", ...)`) only to learn its shapes,
        which fails on the boolean `"crowd"` targets; every replica's batch has those shapes.
        """
        strategy = getattr(self, "_distribute_strategy", None)
        if keras.backend.backend() != "tensorflow" or strategy is None or iterator is None:
            return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)
        import tensorflow as tf

        def first_replica(value):
            if isinstance(value, tf.distribute.DistributedValues):
                return strategy.experimental_local_results(value)[0]
            return value

        for _, _, batches in iterator:
            data_batch = keras.tree.map_structure(first_replica, next(batches))
            break
        with strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    def make_predict_function(self, force=False):
        """`predict` without XLA, unless `roi_oversize="approximate"`.

        Keras compiles `predict` with XLA whenever `jit_compile` is on (its `"auto"` turns
        it on on a GPU), where RoIAlign can only pool RoIs past its window approximately;
        detections are made in a plain graph instead, where they are exact.
        """
        if (
            self.roi_oversize == "approximate"
            or keras.backend.backend() != "tensorflow"
            or not self.jit_compile
        ):
            return super().make_predict_function(force)
        jit_compile = self.jit_compile
        self.jit_compile = False
        try:
            return super().make_predict_function(force)
        finally:
            self.jit_compile = jit_compile

    def sampler_seed(self, targets, salt):
        """The `seed` of a sampler: the targets' per-example keys with `salt` folded in, or
        the model's `SeedGenerator` when the targets have none."""
        keys = targets.get(SAMPLE_KEY) if isinstance(targets, dict) else None
        return self.seed_generator if keys is None else ExampleKeys(keys, salt)

    def detection_losses(self, first, targets):
        """The losses (a dict keyed by `loss_names`) of `_first_stage`'s outputs."""
        rpn_cls, rpn_bbox = self.rpn_losses(first, targets)
        return {"rpn_cls": rpn_cls, "rpn_bbox": rpn_bbox, **self.roi_losses(first, targets)}

    def rpn_losses(self, first, targets):
        """The RPN's `(classification, box)` losses."""
        padded = ops.ceil(first["image_shape"] / SIZE_DIVISOR) * SIZE_DIVISOR
        num_anchors = len(self.anchor_scales) * len(self.anchor_ratios)
        anchor_valid = ops.concatenate(
            [
                level_valid_flags(
                    ops.shape(x)[1], ops.shape(x)[2], s, padded[:, 0], padded[:, 1], num_anchors
                )
                for x, s in zip(first["levels"], self.strides)
            ],
            axis=1,
        )
        rpn_cls, rpn_bbox = rpn_loss(
            first["rpn_scores"],
            first["rpn_deltas"],
            ops.concatenate(first["anchors"], axis=0),
            anchor_valid,
            targets,
            seed=self.sampler_seed(targets, RPN_SALT),
            num_samples=self.rpn_num_samples,
            smooth_l1_beta=self.rpn_smooth_l1_beta,
        )
        return rpn_cls, rpn_bbox

    def roi_losses(self, first, targets):
        """The box head's losses `{"rcnn_cls", "rcnn_bbox"}` on RoIs sampled from the
        proposals and the ground truth."""
        return self.box_losses(first, self.rcnn_samples(first, targets))

    def rcnn_samples(self, first, targets):
        """The RoIs that train the R-CNN heads (`sample_rois`' dict)."""
        return sample_rois(
            first["proposals"],
            first["proposal_valid"],
            targets,
            num_classes=self.num_classes,
            seed=self.sampler_seed(targets, RCNN_SALT),
            num_samples=self.rcnn_num_samples,
        )

    def box_losses(self, first, samples):
        """`{"rcnn_cls", "rcnn_bbox"}` of the box head on the sampled RoIs."""
        class_logits, box_deltas = self.roi_head((first["levels"][:4], samples["rois"]))
        rcnn_cls, rcnn_bbox = rcnn_loss(
            class_logits,
            box_deltas,
            samples,
            self.num_classes,
            smooth_l1_beta=self.rcnn_smooth_l1_beta,
        )
        return {"rcnn_cls": rcnn_cls, "rcnn_bbox": rcnn_bbox}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if y is None:
            raise ValueError("FasterRCNN's loss needs the targets `y`. Received: y=None")
        if not isinstance(y_pred, dict) or "rpn_scores" not in y_pred:
            y_pred = self._first_stage(x, training=False)
        losses = self.detection_losses(y_pred, y)
        for tracker, name in zip(self.loss_trackers, self.loss_names):
            tracker.update_state(losses[name])
        total = ops.sum(ops.stack(list(losses.values())))
        for extra in self.losses:
            total = total + ops.cast(ops.sum(extra), total.dtype)
        return scale_for_replicas(total)

    def get_config(self):
        return {
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "num_classes": self.num_classes,
            "strides": self.strides,
            "anchor_scales": self.anchor_scales,
            "anchor_ratios": self.anchor_ratios,
            "rpn_channels": self.rpn_channels,
            "fc_channels": self.fc_channels,
            "train_pre_nms_top_k": self.train_pre_nms_top_k,
            "test_pre_nms_top_k": self.test_pre_nms_top_k,
            "max_proposals": self.max_proposals,
            "rpn_num_samples": self.rpn_num_samples,
            "rcnn_num_samples": self.rcnn_num_samples,
            "score_threshold": self.score_threshold,
            "nms_iou_threshold": self.nms_iou_threshold,
            "max_detections": self.max_detections,
            "norm_eval": self.norm_eval,
            "seed": self.seed,
            "roi_window": self.roi_window,
            "roi_oversize": self.roi_oversize,
            "train_max_proposals": self.train_max_proposals,
            "rpn_smooth_l1_beta": self.rpn_smooth_l1_beta,
            "rcnn_smooth_l1_beta": self.rcnn_smooth_l1_beta,
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        return cls(**config)
