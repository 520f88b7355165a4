"""`DetectionConfig`: the data, detector and evaluation part of a detection recipe."""

import dataclasses

from hrnet_keras.detection.reader import DetectionDataConfig

# COCO 2017's 80 categories in the order of their ids (contiguous labels 0..79).
COCO_CLASS_NAMES = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat",
    "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack",
    "umbrella", "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball",
    "kite", "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket",
    "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair",
    "couch", "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse",
    "remote", "keyboard", "cell phone", "microwave", "oven", "toaster", "sink",
    "refrigerator", "book", "clock", "vase", "scissors", "teddy bear", "hair drier",
    "toothbrush",
)  # fmt: skip

# `DetectionConfig` fields that are `hrnet_keras.detection.FasterRCNN` / `faster_rcnn`
# arguments of the same name.
DETECTOR_FIELDS = (
    "channels",
    "rpn_channels",
    "fc_channels",
    "train_pre_nms_top_k",
    "test_pre_nms_top_k",
    "max_proposals",
    "rpn_num_samples",
    "rcnn_num_samples",
    "score_threshold",
    "nms_iou_threshold",
    "max_detections",
    "norm_eval",
)


@dataclasses.dataclass
class DetectionConfig(DetectionDataConfig):
    """COCO-style object detection with Faster R-CNN (mmdetection v2's 1x settings by default).

    The data fields are `DetectionDataConfig`'s (layout, files, resizing, flip, canvas,
    normalisation); the rest name the classes, size the detector and set the evaluation.

    Attributes:
        class_names: the categories of the annotation files in the order of their ids (the
            detector's contiguous labels); their number is the detector's `num_classes`.
            The files' category names must be these (checked when a split is read).
        channels: channels of every pyramid level (the HRFPN neck).
        rpn_channels / fc_channels: the RPN's 3x3 conv and the box head's fc layers.
        train_pre_nms_top_k / test_pre_nms_top_k: RPN candidates per level before NMS.
        max_proposals: proposals per image after the RPN's NMS.
        rpn_num_samples / rcnn_num_samples: anchors and RoIs sampled per image for the
            losses.
        score_threshold / nms_iou_threshold / max_detections: the detections kept.
        norm_eval: train with the backbone's batch-norm statistics frozen (mmdetection's
            HRNet default, for ImageNet-initialised backbones); False to train them (a
            backbone trained from scratch).
        eval_batch_size: images a batch in `evaluate`.
        draw_score_threshold: least score of a box `predict` draws.

    Example:
    >>> config = DetectionConfig(class_names=("cat", "dog"), min_size=320, max_size=512)
    >>> config.num_classes, config.canvas, config.detector_arguments()["max_proposals"]
    (2, (512, 512), 1000)
    """

    class_names: tuple = COCO_CLASS_NAMES
    channels: int = 256
    rpn_channels: int = 256
    fc_channels: int = 1024
    train_pre_nms_top_k: int = 2000
    test_pre_nms_top_k: int = 1000
    max_proposals: int = 1000
    rpn_num_samples: int = 256
    rcnn_num_samples: int = 512
    score_threshold: float = 0.05
    nms_iou_threshold: float = 0.5
    max_detections: int = 100
    norm_eval: bool = True
    eval_batch_size: int = 2
    draw_score_threshold: float = 0.3

    def __post_init__(self):
        super().__post_init__()
        if isinstance(self.class_names, list):
            self.class_names = tuple(self.class_names)
        if (
            not isinstance(self.class_names, tuple)
            or not self.class_names
            or not all(isinstance(name, str) for name in self.class_names)
        ):
            raise ValueError(
                "`class_names` is a non-empty tuple of the category names. "
                f"Received: class_names={self.class_names!r}"
            )
        for name in (*DETECTOR_FIELDS[:8], "max_detections", "eval_batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` is a positive int. Received: {name}={value!r}")
        for name in ("score_threshold", "nms_iou_threshold", "draw_score_threshold"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"`{name}` is a number. Received: {name}={value!r}")
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"`{name}` lies in [0, 1]. Received: {name}={value!r}")

    @property
    def num_classes(self):
        """Object classes of the detector (background excluded)."""
        return len(self.class_names)

    def data_config(self):
        """The `DetectionDataConfig` part of this config (what the pipelines read)."""
        fields = [f.name for f in dataclasses.fields(DetectionDataConfig)]
        return DetectionDataConfig(**{name: getattr(self, name) for name in fields})

    def detector_arguments(self):
        """`{argument: value}` of the `faster_rcnn` builder that this config sets."""
        return {name: getattr(self, name) for name in DETECTOR_FIELDS}

    def build_task(self, recipe):
        """The `DetectionTask` of `recipe` (whose `task` is this config)."""
        from hrnet_keras.detection.task import DetectionTask

        return DetectionTask(recipe)
