"""A tiny, self-contained Task for the trainer's tests: per-pixel classes of synthetic images.

Example `e` of the endless training stream is image `e % num_examples` (a stateless random
image), so that a run is a pure function of the seed and the step: what the resume test
relies on. Its label at stride 4 is the channel of largest mean over each 4x4 block. The model is
`hrnetv2(width=...)` or, with `model.builder="tiny"` (the tests' default: HRNet's graph takes
a minute to trace on a busy CPU), a two-layer conv net with the same batch norm.
"""

import dataclasses
import json
import os
import time

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

from hrnet_keras.models import hrnetv2
from hrnet_keras.training import Task, register_task_config


@register_task_config
@dataclasses.dataclass
class ToyConfig:
    """The toy task's data.

    Attributes:
        num_examples: size of the synthetic training set.
        image_size: square side, a multiple of 32.
        nan_from_example: examples from this stream index on are NaN (the NaN-stop test).
        batch_delay: seconds each training batch takes to produce (the kill test).
    """

    num_examples: int = 32
    image_size: int = 32
    nan_from_example: int | None = None
    batch_delay: float = 0.0

    def build_task(self, recipe):
        return ToyTask(recipe)


def _image(index, size, seed):
    return tf.random.stateless_normal((size, size, 3), seed=tf.stack([seed, index]))


def _label(image):
    blocks = tf.nn.avg_pool2d(image[None], 4, 4, "VALID")[0]
    return tf.argmax(blocks, axis=-1, output_type=tf.int32)


def tiny_convnet(size, bn_momentum, sync_bn):
    """Two strided conv + BN + ReLU and a classifier: stride-4 logits, traced in a second."""
    images = keras.Input((size, size, 3))
    x = images
    for i in range(2):
        x = keras.layers.Conv2D(8, 3, strides=2, padding="same", name=f"conv{i}")(x)
        x = keras.layers.BatchNormalization(
            momentum=bn_momentum, synchronized=sync_bn, name=f"bn{i}"
        )(x)
        x = keras.layers.ReLU()(x)
    return keras.Model(images, keras.layers.Conv2D(3, 1, name="classifier")(x), name="tiny")


class ToyTask(Task):
    def __init__(self, recipe):
        super().__init__(recipe)
        self.config = recipe.task

    def build_model(self):
        model = self.recipe.model
        size = self.config.image_size
        if model.builder == "tiny":
            return tiny_convnet(size, model.bn_momentum, self.recipe.runtime.sync_bn)
        return hrnetv2(
            width=model.width,
            num_classes=3,
            input_shape=(size, size, 3),
            bn_momentum=model.bn_momentum,
            sync_bn=self.recipe.runtime.sync_bn,
        )

    def build_dataset(self, data_dir, *, training, batch_size, input_context=None):
        config, seed = self.config, self.recipe.runtime.seed
        count = config.num_examples if not training else None
        indices = tf.data.Dataset.counter() if training else tf.data.Dataset.range(count)
        if input_context is not None and input_context.num_input_pipelines > 1:
            indices = indices.shard(
                input_context.num_input_pipelines, input_context.input_pipeline_id
            )

        def example(index):
            image = _image(index % config.num_examples, config.image_size, seed)
            if config.nan_from_example is not None:
                poisoned = index >= config.nan_from_example
                image = tf.where(poisoned, tf.fill(tf.shape(image), float("nan")), image)
            return image, _label(image)

        dataset = indices.map(example).batch(batch_size, drop_remainder=training)
        if training and config.batch_delay:

            def slow(images, labels):
                time.sleep(config.batch_delay)
                return images, labels

            size = config.image_size
            dataset = dataset.map(
                lambda x, y: tf.numpy_function(slow, [x, y], (tf.float32, tf.int32), stateful=True)
            ).map(
                # The same static shapes as without the delay, hence the same graph and numbers.
                lambda x, y: (
                    tf.ensure_shape(x, [batch_size, size, size, 3]),
                    tf.ensure_shape(y, [batch_size, size // 4, size // 4]),
                )
            )
        return dataset

    def build_loss(self):
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def build_metrics(self):
        return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]

    def num_train_examples(self, data_dir):
        return self.config.num_examples

    def evaluate(self, model, data_dir):
        dataset = self.build_dataset(data_dir, training=False, batch_size=8)
        correct = total = 0
        for images, labels in dataset:
            predicted = np.argmax(model.predict_on_batch(images), axis=-1)
            correct += int(np.sum(predicted == labels.numpy()))
            total += labels.numpy().size
        return {"pixel_accuracy": correct / total, "num_images": self.config.num_examples}

    def check_predict_options(self, **options):
        """Any options: `predict` writes them to `options.json` for the tests to read."""

    def predict(self, model, inputs, out_dir, **options):
        os.makedirs(out_dir, exist_ok=True)
        size = self.config.image_size
        written = []
        for path in inputs:
            image = Image.open(path).convert("RGB").resize((size, size))
            x = np.asarray(image, np.float32)[None] / 127.5 - 1.0
            classes = np.argmax(model.predict_on_batch(x)[0], axis=-1).astype(np.uint8)
            out = os.path.join(out_dir, os.path.splitext(os.path.basename(path))[0] + ".png")
            Image.fromarray(classes * 100).save(out)
            written.append(out)
        options_path = os.path.join(out_dir, "options.json")
        with open(options_path, "w") as f:
            json.dump(options, f)
        return [*written, options_path]
