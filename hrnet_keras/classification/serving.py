"""The served classifier: uint8 images of any size (or encoded JPEG / PNG bytes) in, the top-k
class names and probabilities out, with the evaluation preprocessing inside the graph."""

import keras
import tensorflow as tf

from hrnet_keras.classification.preprocessing import check_interpolation, evaluation_crop
from hrnet_keras.data.normalization import IMAGENET_MEAN, IMAGENET_STD, ImageNormalization


@keras.saving.register_keras_serializable(package="hrnet_keras")
class EvaluationCrop(keras.layers.Layer):
    """`preprocessing.evaluation_crop` as a layer: a batch of same-sized uint8 images to
    their centre crops (shorter side resized as PIL does), float32 in 0-255.

    TensorFlow ops (not `keras.ops`): the resize size depends on each batch's shape and
    PIL's resampling needs antialiased resizes with per-pass rounding.

    Example:
    >>> import numpy as np
    >>> EvaluationCrop(32)(np.zeros((2, 40, 60, 3), "uint8")).shape
    TensorShape([2, 32, 32, 3])
    """

    def __init__(self, crop_size=224, crop_pct=0.875, interpolation="bilinear", **kwargs):
        super().__init__(**kwargs)
        self.crop_size = int(crop_size)
        self.crop_pct = float(crop_pct)
        self.interpolation = check_interpolation(interpolation)

    def call(self, images):
        return evaluation_crop(images, self.crop_size, self.crop_pct, self.interpolation)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-3], self.crop_size, self.crop_size, 3)

    def get_config(self):
        config = super().get_config()
        config.update(
            crop_size=self.crop_size, crop_pct=self.crop_pct, interpolation=self.interpolation
        )
        return config


@keras.saving.register_keras_serializable(package="hrnet_keras")
class TopKClasses(keras.layers.Layer):
    """Logits `(b, classes)` to the `k` most probable classes: `{"labels": (b, k) strings,
    "probabilities": (b, k) float32}`, most probable first (softmax probabilities).

    Example:
    >>> import numpy as np
    >>> top = TopKClasses(["cat", "dog", "fox"], k=2)(np.array([[0.0, 2.0, 1.0]]))
    >>> top["labels"].numpy().tolist(), [round(float(p), 3) for p in top["probabilities"][0]]
    ([[b'dog', b'fox']], [0.665, 0.245])
    """

    def __init__(self, class_names, k=5, **kwargs):
        super().__init__(**kwargs)
        self.class_names = [str(name) for name in class_names]
        if k < 1 or not self.class_names:
            raise ValueError(
                f"`k` must be >= 1 and `class_names` non-empty. Received: k={k}, "
                f"class_names={len(self.class_names)}"
            )
        self.k = min(int(k), len(self.class_names))

    def call(self, logits):
        probabilities = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)
        values, indices = tf.math.top_k(probabilities, self.k)
        labels = tf.gather(tf.constant(self.class_names), indices)
        return {"labels": labels, "probabilities": values}

    def compute_output_spec(self, logits):
        shape = (*logits.shape[:-1], self.k)
        return {
            "labels": keras.KerasTensor(shape, dtype="string"),
            "probabilities": keras.KerasTensor(shape, dtype="float32"),
        }

    def get_config(self):
        config = super().get_config()
        config.update(class_names=list(self.class_names), k=self.k)
        return config


class ClassifierServing(keras.Model):
    """A classifier behind its evaluation preprocessing and a top-k decoder.

    Called on uint8 RGB images `(b, h, w, 3)` of any size (one size per batch), it returns
    `{"labels": (b, k) tf.string class names, "probabilities": (b, k) float32}`.
    `serve_bytes` does the same from encoded JPEG / PNG files.

    Args:
        classifier: a model from normalised `(b, crop, crop, 3)` crops to logits.
        class_names: one name per class index.
        top_k: classes returned (at most the number of classes).
        crop_size / crop_pct / interpolation: the evaluation crop (`EvaluationCrop`).
        mean / std: normalisation of RGB / 255.

    Example:
    >>> import numpy as np
    >>> from hrnet_keras.models import hrnet_classifier
    >>> net = hrnet_classifier("18-small-v1", num_classes=3, input_shape=(32, 32, 3))
    >>> served = ClassifierServing(net, ["a", "b", "c"], top_k=2, crop_size=32)
    >>> served(np.zeros((1, 50, 40, 3), "uint8"))["labels"].shape
    TensorShape([1, 2])
    """

    def __init__(
        self,
        classifier,
        class_names,
        *,
        top_k=5,
        crop_size=224,
        crop_pct=0.875,
        interpolation="bilinear",
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        name=None,
    ):
        images = keras.Input((None, None, 3), dtype="uint8", name="images")
        crop = EvaluationCrop(crop_size, crop_pct, interpolation, name="evaluation_crop")
        normalization = ImageNormalization(mean, std, name="normalize")
        top = TopKClasses(class_names, top_k, name="top_k")
        outputs = top(classifier(normalization(crop(images))))
        super().__init__(images, outputs, name=name or f"{classifier.name}_serving")
        self.crop = crop
        self.normalization = normalization
        self.classifier = classifier
        self.top = top

    @tf.function(input_signature=[tf.TensorSpec((None,), tf.string, name="images")])
    def serve_bytes(self, images):
        """The same outputs from a 1-D `tf.string` batch of encoded images (JPEG, PNG, BMP,
        GIF's first frame; any sizes), decoded by TensorFlow to RGB (grey images repeated to
        three channels, alpha dropped). `export_savedmodel` serves it as `serving_bytes`."""
        crop = self.crop

        def decode_and_crop(data):
            image = tf.io.decode_image(data, channels=3, expand_animations=False)
            image.set_shape([None, None, 3])
            return evaluation_crop(image, crop.crop_size, crop.crop_pct, crop.interpolation)

        crops = tf.map_fn(
            decode_and_crop,
            tf.convert_to_tensor(images, tf.string),
            fn_output_signature=tf.TensorSpec([crop.crop_size, crop.crop_size, 3], tf.float32),
        )
        logits = self.classifier(self.normalization(crops), training=False)
        return self.top(logits)
