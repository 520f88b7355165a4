"""`SegmentationTask`: the model, data, loss, metrics, evaluation and pictures of a recipe."""

import os

import keras
import numpy as np

from hrnet_keras.data.files import image_files
from hrnet_keras.data.images import read_image, read_pair
from hrnet_keras.data.normalization import ImageNormalization, normalize
from hrnet_keras.layers import Resize
from hrnet_keras.segmentation.inference import Predictor
from hrnet_keras.segmentation.loss import SegmentationLoss
from hrnet_keras.segmentation.metrics import (
    SegmentationMeanIoU,
    confusion_matrix,
    segmentation_scores,
)
from hrnet_keras.segmentation.pipeline import evaluation_dataset, training_dataset
from hrnet_keras.segmentation.readers import lookup_table, read_split
from hrnet_keras.segmentation.readers.lip import FLIP_PAIRS as LIP_FLIP_PAIRS
from hrnet_keras.segmentation.visualize import mask_image, overlay_image, palette_for
from hrnet_keras.training.task import Task


class SegmentationTask(Task):
    """Semantic segmentation with HRNetV2 (`recipe.task` is a `SegmentationConfig`).

    Example:
    >>> from hrnet_keras.segmentation import SegmentationConfig, SegmentationTask
    >>> from hrnet_keras.training import ModelConfig, Recipe
    >>> recipe = Recipe(SegmentationConfig(num_classes=3), ModelConfig(width=4))
    >>> task = SegmentationTask(recipe)
    >>> task.build_model().output.shape[-1]
    3
    """

    def __init__(self, recipe):
        super().__init__(recipe)
        self.config = recipe.task
        self._files = {}
        model_classes = recipe.model.num_classes
        if model_classes is not None and model_classes != self.config.num_classes:
            raise ValueError(
                "`model.num_classes` and `task.num_classes` disagree. "
                f"Received: model.num_classes={model_classes}, "
                f"task.num_classes={self.config.num_classes}"
            )

    def files(self, data_dir, split):
        """The `SegmentationFiles` of one split, with the config's label mapping applied.

        A split is listed once per task: the example count, every pipeline, every `fit`
        segment and the evaluation share the list (do not modify it).
        """
        key = (os.path.abspath(os.fspath(data_dir)), split)
        if key not in self._files:
            self._files[key] = self._read_files(data_dir, split)
        return self._files[key]

    def _read_files(self, data_dir, split):
        config = self.config
        files = read_split(
            config.dataset,
            data_dir,
            split,
            num_classes=config.num_classes,
            ignore_label=config.ignore_label,
        )
        if config.label_mapping is not None:
            files.label_lut = lookup_table(config.label_mapping, config.ignore_label)
        return files

    def build_model(self):
        model = self.recipe.model
        if model.builder != "hrnetv2":
            raise ValueError(
                f"Segmentation trains `hrnetv2` models. Received: builder={model.builder!r}"
            )
        runtime = self.recipe.runtime
        return model.build(
            num_classes=self.config.num_classes,
            sync_bn=runtime.sync_bn,
            recompute=runtime.recompute,
        )

    def build_dataset(self, data_dir, *, training, batch_size, input_context=None):
        config = self.config
        if training:
            return training_dataset(
                self.files(data_dir, config.train_split),
                config,
                batch_size=batch_size,
                seed=self.recipe.runtime.seed,
                input_context=input_context,
            )
        return evaluation_dataset(
            self.files(data_dir, config.eval_split),
            config,
            batch_size=batch_size,
            input_context=input_context,
        )

    def build_loss(self):
        config = self.config
        return SegmentationLoss(
            num_classes=config.num_classes,
            ignore_label=config.ignore_label,
            class_weights=config.class_weights,
            ohem=config.ohem,
            ohem_threshold=config.ohem_threshold,
            ohem_min_kept=config.ohem_min_kept,
            align_corners=config.align_corners,
        )

    def build_metrics(self):
        return [
            SegmentationMeanIoU(
                self.config.num_classes, self.config.ignore_label, self.config.align_corners
            )
        ]

    def num_train_examples(self, data_dir):
        return len(self.files(data_dir, self.config.train_split))

    def predictor(self, model, *, scales=None, flip=None, flip_pairs=(), graph="auto", images=None):
        """A `Predictor` with the config's test protocol (`scales` / `flip` override it);
        `graph` and `images` as `Predictor`'s (the model's BN-folded graph once it pays)."""
        config = self.config
        if config.flip_pairs is not None:
            flip_pairs = config.flip_pairs
        black = -np.asarray(config.mean) / np.asarray(config.std)
        window = config.eval_crop_size or config.crop_size
        return Predictor(
            model,
            scales=config.eval_scales if scales is None else scales,
            flip=config.eval_flip if flip is None else flip,
            flip_pairs=flip_pairs,
            crop_size=window if config.eval_sliding_window else None,
            stride_ratio=config.eval_stride_ratio,
            base_size=config.base_size,
            resize=config.eval_resize,
            pad_value=black,
            align_corners=config.align_corners,
            graph=graph,
            images=images,
        )

    def normalize(self, image):
        """A uint8 RGB image as the float32 input of the model: (RGB / 255 - mean) / std."""
        return normalize(image, self.config.mean, self.config.std).numpy()

    def evaluate(self, model, data_dir, *, scales=None, flip=None, max_images=None):
        """The paper's protocol on the eval split: mIoU, per-class IoU and accuracies.

        Returns:
            `{"mIoU", "pixel_accuracy", "mean_class_accuracy", "per_class_iou": {name: IoU},
            "num_pixels", "num_images", "scales", "flip"}`.
        """
        config = self.config
        files = self.files(data_dir, config.eval_split)
        count = len(files) if max_images is None else min(max_images, len(files))
        predictor = self.predictor(
            model, scales=scales, flip=flip, flip_pairs=files.flip_pairs, images=count
        )
        matrix = np.zeros((config.num_classes, config.num_classes), np.int64)
        for image_path, label_path in list(zip(files.images, files.labels))[:count]:
            image, label = read_pair(image_path, label_path, files.label_lut)
            predicted = predictor.labels(self.normalize(image))
            counts = confusion_matrix(label, predicted, config.num_classes, config.ignore_label)
            matrix += keras.ops.convert_to_numpy(counts)
        scores = segmentation_scores(matrix, list(files.class_names) or None)
        scores.update(num_images=count, scales=list(predictor.scales), flip=bool(predictor.flip))
        return scores

    def check_predict_options(self, *, scales=None, flip=None, alpha=0.5, **options):
        """`predict` takes `scales`, `flip` and `alpha`."""
        self.reject_options("predict", options)

    def predict(self, model, inputs, out_dir, *, scales=None, flip=None, alpha=0.5, **options):
        """Writes `{name}_mask.png` (palette PNG of class ids) and `{name}_overlay.png`.

        Args:
            inputs: image files, or folders of images.
            out_dir: created if needed.

        Returns:
            The written paths, mask and overlay of each image in turn.
        """
        self.check_predict_options(**options)
        paths = image_files(inputs)
        flip_pairs = LIP_FLIP_PAIRS if self.config.dataset == "lip" else ()
        predictor = self.predictor(
            model, scales=scales, flip=flip, flip_pairs=flip_pairs, images=len(paths)
        )
        palette = palette_for(self.config.dataset)
        os.makedirs(out_dir, exist_ok=True)
        written = []
        for path in paths:
            image = read_image(path)
            labels = predictor.labels(self.normalize(image))
            stem = os.path.splitext(os.path.basename(path))[0]
            mask_path = os.path.join(out_dir, f"{stem}_mask.png")
            overlay_path = os.path.join(out_dir, f"{stem}_overlay.png")
            mask_image(labels, palette).save(mask_path)
            overlay_image(image, labels, palette, alpha).save(overlay_path)
            written += [mask_path, overlay_path]
        return written

    def serving_model(self, model, **options):
        """uint8 RGB images (any size) in, logits at the input size out (no options)."""
        self.reject_options("serving_model", options)
        images = keras.Input((None, None, 3), dtype="uint8", name="images")
        x = ImageNormalization(self.config.mean, self.config.std, name="normalize")(images)
        logits = model(x)
        logits = Resize("bilinear", self.config.align_corners, name="logits_to_input_size")(
            [logits, images]
        )
        return keras.Model(images, logits, name=f"{model.name}_serving")

    def serving_signatures(self, model, *, probabilities=False):
        """`serving_default` (uint8 images to logits) and `serving_bytes` (encoded photos to
        class maps at their own sizes), `hrnet_keras.segmentation.serving`."""
        from hrnet_keras.segmentation.serving import segmentation_signatures

        return segmentation_signatures(
            self.serving_model(model),
            model,
            self.config,
            labels=self.label_names(),
            probabilities=probabilities,
        )

    def label_names(self):
        """The class names of a split read by this task (they come with the data), or None."""
        for files in self._files.values():
            if len(files.class_names) == self.config.num_classes:
                return tuple(files.class_names)
        return None
