"""`DetectionTask`: the detector, data, COCO evaluation, pictures and served graph of a recipe."""

import os

import numpy as np
import tensorflow as tf

from hrnet_keras.data.files import image_files
from hrnet_keras.data.images import read_image
from hrnet_keras.detection.backbone_weights import load_backbone_weights
from hrnet_keras.detection.coco_eval import CocoEvaluator
from hrnet_keras.detection.drawing import draw_detections
from hrnet_keras.detection.mask_paste import paste_masks
from hrnet_keras.detection.pipeline import (
    boxes_to_original,
    evaluation_dataset,
    training_dataset,
)
from hrnet_keras.detection.reader import DetectionReader
from hrnet_keras.errors import UsageError
from hrnet_keras.models.weights import load_weights
from hrnet_keras.training.task import Task
from hrnet_keras.utils.atomic import atomic_path

# The builders of the detectors this task trains (`hrnet_keras.models`).
DETECTOR_BUILDERS = ("faster_rcnn", "mask_rcnn", "cascade_rcnn", "cascade_mask_rcnn")
# Those of them with mask heads: they train on instance masks (`task.masks`).
MASK_BUILDERS = ("mask_rcnn", "cascade_mask_rcnn")
# What `evaluate` returns: COCO's box AP (mmdetection's `bbox_mAP*`), in [0, 1].
BOX_METRICS = (
    "bbox_AP",
    "bbox_AP50",
    "bbox_AP75",
    "bbox_AP_small",
    "bbox_AP_medium",
    "bbox_AP_large",
)
# And, for Mask R-CNN, COCO's mask AP (mmdetection's `segm_mAP*`).
MASK_METRICS = tuple(name.replace("bbox_", "segm_") for name in BOX_METRICS)


class DetectionTask(Task):
    """Object detection with Faster, Mask, Cascade or Cascade Mask R-CNN (`recipe.task` is a
    `DetectionConfig`).

    The model owns its loss (`FasterRCNN.compute_loss`), so `build_loss` returns None. It
    exports to SavedModel only: the served graph's resizing computes mmcv's sizes in float64
    and its sizes are dynamic, which the TFLite converter's builtin ops do not take.

    Example:
    >>> from hrnet_keras.detection import DetectionConfig, DetectionTask
    >>> from hrnet_keras.training import ModelConfig, Recipe
    >>> config = DetectionConfig(class_names=("cat", "dog"), channels=8, fc_channels=8)
    >>> task = DetectionTask(Recipe(config, ModelConfig(builder="faster_rcnn", width=4)))
    >>> task.build_model().num_classes, task.build_loss()
    (2, None)
    """

    export_formats = ("savedmodel",)

    def __init__(self, recipe):
        super().__init__(recipe)
        self.config = recipe.task
        self._readers = {}
        model_classes = recipe.model.num_classes
        if model_classes is not None and model_classes != self.config.num_classes:
            raise ValueError(
                "`model.num_classes` and the number of `task.class_names` disagree. "
                f"Received: model.num_classes={model_classes}, "
                f"len(task.class_names)={self.config.num_classes}"
            )

    def split(self, data_dir, *, training):
        """The `DetectionSplit` of the training or evaluation files, read once per task.

        Raises:
            ValueError: the file's categories are not `task.class_names`.
        """
        key = os.path.abspath(os.fspath(data_dir))
        if key not in self._readers:
            self._readers[key] = DetectionReader(self.config.data_config(), data_dir)
        split = self._readers[key].split(training=training)
        if tuple(split.class_names) != self.config.class_names:
            raise ValueError(
                f"The categories of {split.index.source} (in the order of their ids) are not "
                "the recipe's `task.class_names`; set them to the file's. Received: "
                f"categories={split.class_names}, class_names={list(self.config.class_names)}"
            )
        return split

    def build_model(self):
        model = self.recipe.model
        if model.builder not in DETECTOR_BUILDERS:
            raise ValueError(
                f"Detection trains {' or '.join(f'`{b}`' for b in DETECTOR_BUILDERS)} models. "
                f"Received: builder={model.builder!r}"
            )
        if model.builder in MASK_BUILDERS and not self.config.masks:
            raise ValueError(
                f"A `{model.builder}` trains on instance masks: set `task.masks=True`. "
                f"Received: masks={self.config.masks}"
            )
        extra = {}
        if model.builder in MASK_BUILDERS:
            extra["mask_channels"] = self.config.mask_channels
        detector = model.build(
            **extra,
            num_classes=self.config.num_classes,
            sync_bn=self.recipe.runtime.sync_bn,
            seed=self.recipe.runtime.seed,
            weights=None,
            **self.config.detector_arguments(),
        )
        # The ImageNet backbone first, so that whole-detector weights, if any, win.
        if model.backbone_weights is not None:
            load_backbone_weights(detector, model.backbone_weights)
        return load_weights(detector, model.weights)

    def build_dataset(self, data_dir, *, training, batch_size, input_context=None):
        split = self.split(data_dir, training=training)
        data = self.config.data_config()
        if training:
            return training_dataset(
                split,
                data,
                batch_size=batch_size,
                seed=self.recipe.runtime.seed,
                input_context=input_context,
            )
        return evaluation_dataset(split, data, batch_size=batch_size, input_context=input_context)

    def build_loss(self):
        return None

    def build_metrics(self):
        """None: the detector reports its four losses itself and compiles no metrics.

        Not an empty list: under a distribution strategy's scope Keras builds compiled
        metrics (even none) from a symbolic inference call, whose outputs (the detections)
        it then looks up by name in the targets, which fails.
        """
        return None

    def num_train_examples(self, data_dir):
        return len(self.split(data_dir, training=True))

    def evaluate(self, model, data_dir):
        """COCO box AP on the evaluation split, as mmdetection's `CocoDataset.evaluate`.

        Detections are mapped back to each image's own pixels and their labels to the
        file's category ids; images without detections count as such.

        Returns:
            `{"bbox_AP", "bbox_AP50", "bbox_AP75", "bbox_AP_small", "bbox_AP_medium",
            "bbox_AP_large"}`, floats in [0, 1] (-1 where the split has no object of that
            size); for a model that returns masks (Mask R-CNN, Cascade Mask R-CNN) also
            the same `segm_*` keys, of the masks pasted into each original image and
            encoded as RLE.
        """
        split = self.split(data_dir, training=False)
        annotations, _ = self.config.paths(data_dir, training=False)
        evaluator = CocoEvaluator(annotations, category_ids=split.index.category_ids)
        mask_evaluator = None
        dataset = self.build_dataset(
            data_dir, training=False, batch_size=self.config.eval_batch_size
        )
        for inputs, targets in dataset:
            outputs = model.predict_on_batch(inputs)
            boxes = boxes_to_original(
                outputs["boxes"], targets["scale_factor"], targets["original_shape"]
            )
            detections = {
                "boxes": boxes,
                "scores": outputs["scores"],
                "labels": outputs["labels"],
                "num_detections": outputs["num_detections"],
            }
            image_ids = targets["image_id"].numpy()
            evaluator.update(image_ids, detections)
            if "masks" in outputs:
                if mask_evaluator is None:
                    mask_evaluator = CocoEvaluator(
                        annotations, "segm", category_ids=split.index.category_ids
                    )
                shapes = np.asarray(targets["original_shape"])
                for i, image_id in enumerate(image_ids.tolist()):
                    count = int(outputs["num_detections"][i])
                    pasted = paste_masks(
                        np.asarray(outputs["masks"])[i, :count], boxes[i, :count], *shapes[i]
                    )
                    mask_evaluator.add(
                        image_id,
                        {
                            **{
                                key: np.asarray(value)[i, :count]
                                for key, value in detections.items()
                                if key != "num_detections"
                            },
                            "masks": np.asarray(pasted),
                        },
                    )
        scores = evaluator.result()
        metrics = {name: scores[name] for name in BOX_METRICS}
        if mask_evaluator is not None:
            mask_scores = mask_evaluator.result()
            metrics.update({name: mask_scores[name] for name in MASK_METRICS})
        return metrics

    def check_predict_options(self, *, score_threshold=None, **options):
        """`predict` takes `score_threshold`, the least score drawn (default:
        `task.draw_score_threshold`)."""
        self.reject_options("predict", options)
        if score_threshold is not None and (
            isinstance(score_threshold, bool)
            or not isinstance(score_threshold, (int, float))
            or not 0.0 <= score_threshold <= 1.0
        ):
            raise UsageError(
                "`score_threshold` is a number in [0, 1]. "
                f"Received: score_threshold={score_threshold!r}"
            )

    def predict(self, model, inputs, out_dir, *, score_threshold=None, **options):
        """Draws each photo's detections (box, class name, score) into `out_dir`.

        A photo `name.jpg` (or `.jpeg`) becomes `out_dir/name.jpg`, any other `name.png`;
        each file is written whole or not at all.

        Args:
            inputs: image files, or folders of images.
            out_dir: created if needed.
            score_threshold: the least score drawn (default `task.draw_score_threshold`).

        Returns:
            The written paths.
        """
        self.check_predict_options(score_threshold=score_threshold, **options)
        if score_threshold is None:
            score_threshold = self.config.draw_score_threshold
        paths = image_files(inputs)
        serving = self.serving_model(model)
        detect = tf.function(serving, input_signature=serving.input_signature)
        os.makedirs(out_dir, exist_ok=True)
        written = []
        for path in paths:
            image = read_image(path)
            outputs = detect(tf.constant(image[None]))
            detections = {name: np.asarray(value)[0] for name, value in outputs.items()}
            picture, _ = draw_detections(
                image, detections, self.config.class_names, score_threshold=score_threshold
            )
            stem, suffix = os.path.splitext(os.path.basename(path))
            jpeg = suffix.lower() in (".jpg", ".jpeg")
            target = os.path.join(out_dir, stem + (".jpg" if jpeg else ".png"))
            with atomic_path(target) as partial:
                if jpeg:
                    picture.save(partial, format="JPEG", quality=95)
                else:
                    picture.save(partial, format="PNG")
            written.append(target)
        return written

    def label_names(self):
        """The recipe's class names, in the order of the served `labels`."""
        return tuple(self.config.class_names)

    def serving_model(self, model, **options):
        """uint8 RGB photos of any size in (also encoded files: `serve_bytes`); boxes in
        their pixels, scores, labels and counts out (no options)."""
        self.reject_options("serving_model", options)
        from hrnet_keras.detection.serving import detection_serving_model

        return detection_serving_model(model, self.config.data_config())
