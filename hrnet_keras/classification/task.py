"""`ClassificationTask`: an HRNet classifier's model, data, loss, metrics, evaluation,
pictures and serving graph."""

import json
import os

import keras
import numpy as np
import tensorflow as tf

from hrnet_keras.classification.drawing import draw_top_classes
from hrnet_keras.classification.finetune import FreezeBackbone, load_pretrained
from hrnet_keras.classification.imagenet_classes import NUM_IMAGENET_CLASSES, imagenet_classes
from hrnet_keras.classification.metrics import classification_scores, training_metrics
from hrnet_keras.classification.pipeline import (
    evaluation_dataset,
    evaluation_examples,
    training_dataset,
)
from hrnet_keras.classification.preprocessing import check_interpolation, evaluation_crop
from hrnet_keras.classification.readers import check_layout, folder_class_names, read_split
from hrnet_keras.classification.serving import ClassifierServing
from hrnet_keras.data.files import image_files
from hrnet_keras.data.images import read_image
from hrnet_keras.data.normalization import normalize
from hrnet_keras.errors import UsageError
from hrnet_keras.export.inference_runner import inference_runner
from hrnet_keras.training.task import Task

CLASSES_FILE = "classes.json"


def read_classes_file(path):
    """The class names a run wrote to `classes.json` (a JSON list of strings)."""
    with open(path) as f:
        names = json.load(f)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or not names:
        raise ValueError(f"{path!r} must hold a JSON list of class names. Received: {names!r}")
    return tuple(names)


class ClassificationTask(Task):
    """Image classification with `hrnet_classifier` (`recipe.task` is a
    `ClassificationConfig`).

    The classes are, in this order: `task.class_names` of the recipe; the `classes.json`
    beside the weights being evaluated, served or predicted with (every run folder has
    one); the data (a folder tree's sorted subfolders, ImageNet's table; for TFRecord
    shards ImageNet's when `model.num_classes` is 1000, else the indices as text).

    Example:
    >>> from hrnet_keras.classification import ClassificationConfig, ClassificationTask
    >>> from hrnet_keras.models.presets import CLASSIFICATION
    >>> from hrnet_keras.training import Recipe
    >>> recipe = Recipe(ClassificationConfig(class_names=("cat", "dog"), crop_size=64),
    ...                 CLASSIFICATION.model_config(width="18-small-v1"))
    >>> ClassificationTask(recipe).build_model().output.shape
    (None, 2)
    """

    # The served graph returns class names (strings) and decodes files: SavedModel only.
    export_formats = ("savedmodel",)

    def __init__(self, recipe):
        super().__init__(recipe)
        self.config = recipe.task
        check_layout(self.config.dataset)
        check_interpolation(self.config.interpolation)
        if self.config.crop_size % 32:
            raise ValueError(
                f"HRNet needs inputs divisible by 32. Received: crop_size={self.config.crop_size}"
            )
        names = self.config.class_names
        self._class_names = tuple(names) if names is not None else None
        self._sources = {}

    # Classes ------------------------------------------------------------------------

    def prepare(self, data_dir=None, weights=None):
        """Settles the classes before `build_model` (see the class docstring)."""
        if self._class_names is not None:
            return
        config = self.config
        beside = os.path.join(os.path.dirname(os.fspath(weights)), CLASSES_FILE) if weights else ""
        if beside and os.path.isfile(beside):
            self._class_names = read_classes_file(beside)
        elif config.dataset == "imagenet":
            self._class_names = imagenet_classes().names
        elif config.dataset == "tfrecord" and self.recipe.model.num_classes:
            count = self.recipe.model.num_classes
            imagenet = count == NUM_IMAGENET_CLASSES
            self._class_names = (
                imagenet_classes().names if imagenet else tuple(map(str, range(count)))
            )
        elif config.dataset == "folder" and data_dir is not None:
            self._class_names = folder_class_names(data_dir, config.train_split, config.eval_split)

    @property
    def class_names(self):
        """The classes in index order."""
        self.prepare()
        if self._class_names is None:
            raise UsageError(
                "The classifier's classes are not known yet: train or evaluate on a data "
                "folder, keep `classes.json` beside the weights (every run folder has it) or "
                "set `task.class_names`. Received: class_names=None"
            )
        return self._class_names

    def label_names(self):
        """The class names, the served model's label map."""
        return list(self.class_names)

    def run_files(self):
        """`classes.json`: the class names in index order."""
        return {CLASSES_FILE: list(self.class_names)}

    def source(self, data_dir, split):
        """The files (or TFRecord shards) of one split, read once per task."""
        key = (os.path.abspath(os.fspath(data_dir)), split)
        if key not in self._sources:
            self.prepare(data_dir=data_dir)
            self._sources[key] = read_split(self.config, data_dir, split, self.class_names)
        return self._sources[key]

    # Training -----------------------------------------------------------------------

    def build_model(self):
        spec = self.recipe.model
        if spec.builder != "hrnet_classifier":
            raise ValueError(
                "Classification trains `hrnet_classifier` models. "
                f"Received: builder={spec.builder!r}"
            )
        count = len(self.class_names)
        if spec.num_classes is not None and spec.num_classes != count:
            raise ValueError(
                f"`model.num_classes` is {spec.num_classes} but the task has {count} classes. "
                f"Received: model.num_classes={spec.num_classes}, classes={count}"
            )
        size = self.config.crop_size

        def build(num_classes):
            return spec.build(
                num_classes=num_classes,
                input_shape=(size, size, 3),
                sync_bn=self.recipe.runtime.sync_bn,
                weights=None,
            )

        model = build(count)
        if spec.weights is not None:
            load_pretrained(model, spec.weights, build)
        return model

    def build_dataset(self, data_dir, *, training, batch_size, input_context=None):
        config = self.config
        split = config.train_split if training else config.eval_split
        arguments = dict(
            batch_size=batch_size,
            num_classes=len(self.class_names),
            input_context=input_context,
        )
        if training:
            return training_dataset(
                self.source(data_dir, split), config, seed=self.recipe.runtime.seed, **arguments
            )
        return evaluation_dataset(self.source(data_dir, split), config, **arguments)

    def build_loss(self):
        return keras.losses.CategoricalCrossentropy(
            from_logits=True, label_smoothing=self.config.label_smoothing
        )

    def build_metrics(self):
        return training_metrics(len(self.class_names))

    def build_callbacks(self):
        epochs = self.config.freeze_backbone_epochs
        return [FreezeBackbone(epochs)] if epochs else []

    def num_train_examples(self, data_dir):
        return len(self.source(data_dir, self.config.train_split))

    # Evaluation and prediction ------------------------------------------------------

    def top_classes(self, model, images):
        """`(classes, probabilities)`, `(b, k)` each, of normalised crops.

        `model` is a Keras model or an `InferenceRunner` of one (which runs the model's
        BN-folded graph once it pays; pass the same runner to calls in a loop).
        """
        logits = inference_runner(model)(images)
        probabilities = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)
        k = min(self.config.top_k, len(self.class_names))
        values, indices = tf.math.top_k(probabilities, k)
        return indices.numpy(), values.numpy()

    def evaluate(self, model, data_dir, *, max_images=None):
        """Top-1 / top-5 accuracy and error (0..1) and per-class top-1 accuracy on the eval
        split (`classification_scores`), with the evaluation crop of the recipe."""
        source = self.source(data_dir, self.config.eval_split)
        examples = evaluation_examples(source, self.config)
        if max_images is not None:
            examples = examples.take(max_images)
        top, labels = [], []
        count = len(source) if max_images is None else min(max_images, len(source))
        runner = inference_runner(model, calls=-(-count // self.config.eval_batch_size))
        for images, batch_labels in examples.batch(self.config.eval_batch_size):
            top.append(self.top_classes(runner, images)[0])
            labels.append(batch_labels.numpy())
        return classification_scores(np.concatenate(top), np.concatenate(labels), self.class_names)

    def check_predict_options(self, **options):
        """`predict` takes no option."""
        self.reject_options("predict", options)

    def predict(self, model, inputs, out_dir, **options):
        """Prints each image's top classes with their probabilities and writes
        `{name}_classes.png` (the image above the list) to `out_dir`.

        Returns:
            The written paths.
        """
        self.check_predict_options(**options)
        config = self.config
        os.makedirs(out_dir, exist_ok=True)
        paths = image_files(inputs)
        runner = inference_runner(model, calls=len(paths))
        written = []
        for path in paths:
            image = read_image(path)
            crop = evaluation_crop(
                image, config.crop_size, config.eval_crop_pct, config.interpolation
            )
            classes, probabilities = self.top_classes(
                runner, normalize(crop, config.mean, config.std)[None]
            )
            names = [self.class_names[i] for i in classes[0]]
            ranked = ", ".join(f"{n} {p:.3f}" for n, p in zip(names, probabilities[0]))
            print(f"{path}: {ranked}")
            target = os.path.join(out_dir, os.path.splitext(os.path.basename(path))[0])
            draw_top_classes(image, names, probabilities[0]).save(target + "_classes.png")
            written.append(target + "_classes.png")
        return written

    def serving_model(self, model, **options):
        """uint8 RGB images of any size in; `{"labels": top-k class names (tf.string),
        "probabilities"}` out; also `serve_bytes` for encoded images (`ClassifierServing`)."""
        self.reject_options("serving_model", options)
        config = self.config
        return ClassifierServing(
            model,
            self.class_names,
            top_k=config.top_k,
            crop_size=config.crop_size,
            crop_pct=config.eval_crop_pct,
            interpolation=config.interpolation,
            mean=config.mean,
            std=config.std,
        )
