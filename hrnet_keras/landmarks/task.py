"""`LandmarkTask`: HRNetV2 heatmaps for facial landmarks, trained with MSE, evaluated by NME."""

import os

import keras
import numpy as np

from hrnet_keras.data.normalization import normalize
from hrnet_keras.errors import UsageError
from hrnet_keras.export.inference_runner import inference_runner
from hrnet_keras.landmarks.annotations import FaceAnnotation
from hrnet_keras.landmarks.datasets import WFLW_ATTRIBUTES
from hrnet_keras.landmarks.decoding import LandmarkDecoder
from hrnet_keras.landmarks.drawing import draw_landmarks
from hrnet_keras.landmarks.geometry import crop_to_image
from hrnet_keras.landmarks.metrics import nme_per_face, normalisers, summarize
from hrnet_keras.landmarks.pipeline import face_dataset
from hrnet_keras.landmarks.readers import read_annotations
from hrnet_keras.landmarks.serving import landmark_serving_model
from hrnet_keras.training.task import Task


def parse_box(box):
    """`(x, y, w, h)` floats from a tuple or an `"x,y,w,h"` string.

    Example:
    >>> parse_box("10,20,30,40")
    (10.0, 20.0, 30.0, 40.0)
    """
    values = box.split(",") if isinstance(box, str) else list(box)
    if len(values) != 4:
        raise UsageError(f"A face box is `x,y,w,h`. Received: box={box!r}")
    x, y, w, h = (float(v) for v in values)
    if w <= 0 or h <= 0:
        raise UsageError(f"A face box needs a positive width and height. Received: box={box!r}")
    return x, y, w, h


class LandmarkTask(Task):
    """Facial landmarks: the recipe's `task` is a `LandmarkConfig`."""

    # What stays float in int8 TFLite files (`export_tflite`; glob patterns of layer names):
    # the decoder (sub-pixel arithmetic on int8 values would round to the int8 grid), and
    # the end of the network: stage 4's fusions and its two high-resolution branches, the
    # HRNetV2 upsample-and-concatenate, the head. Measured on a W18-small-v1 trained on the
    # WFLW sample faces (`benchmarks/tflite_landmarks.py`): with only the decoder float, int8
    # raised the NME by 6.8% (file 1.7 MB); with these, by 0.7% (2.6 MB); with all of stage
    # 4 float, by 0.6% (4.7 MB); the latency the same on an x86 CPU (2 AVX2 cores, XNNPACK).
    float_layers = (
        "landmarks",
        "stage4_module*_fuse*",
        "stage4_module*_branch[01]_*",
        "v2_*",
        "head_*",
        "heatmaps",  # the optional output: the head's last convolution is named after it
    )

    def __init__(self, recipe):
        super().__init__(recipe)
        self.config = recipe.task
        self.options = self.config.crop_options()
        self._faces = {}

    def read_faces(self, data_dir, annotations):
        """The faces of `annotations` (a path relative to `data_dir`).

        Each file is read once per task: the example count, every pipeline, every `fit`
        segment and the evaluation share the list (do not modify it).
        """
        path = os.path.join(data_dir, annotations)
        key = os.path.abspath(path)
        if key not in self._faces:
            image_root = (
                os.path.join(data_dir, self.config.image_dir) if self.config.image_dir else None
            )
            self._faces[key] = read_annotations(path, self.config.num_landmarks, image_root)
        return self._faces[key]

    def _eval_annotations(self):
        if not self.config.eval_annotations:
            raise ValueError(
                "The recipe names no evaluation annotations. Received: "
                f"eval_annotations={self.config.eval_annotations!r}"
            )
        return dict(self.config.eval_annotations)

    def build_model(self):
        spec = self.recipe.model
        num_classes = spec.num_classes or self.config.num_landmarks
        if num_classes != self.config.num_landmarks:
            raise ValueError(
                f"{self.config.dataset} has {self.config.num_landmarks} landmarks but the model "
                f"{num_classes} outputs. Received: num_classes={num_classes}"
            )
        if spec.builder not in ("hrnetv2", "hrnetv1", "hrnetv1h"):
            raise ValueError(
                "Landmark heatmaps come from a dense builder (hrnetv2, hrnetv1, hrnetv1h). "
                f"Received: builder={spec.builder!r}"
            )
        size = self.options.input_size
        return spec.build(
            num_classes=num_classes,
            input_shape=(size, size, 3),
            sync_bn=self.recipe.runtime.sync_bn,
        )

    def build_dataset(self, data_dir, *, training, batch_size, input_context=None):
        annotations = (
            self.config.train_annotations
            if training
            else next(iter(self._eval_annotations().values()))
        )
        return face_dataset(
            self.read_faces(data_dir, annotations),
            self.options,
            training=training,
            batch_size=batch_size,
            seed=self.recipe.runtime.seed,
            input_context=input_context,
        )

    def build_loss(self):
        return keras.losses.MeanSquaredError()

    def num_train_examples(self, data_dir):
        return len(self.read_faces(data_dir, self.config.train_annotations))

    def decoder(self, method=None):
        """The `LandmarkDecoder` of the recipe (or of `method`)."""
        return LandmarkDecoder(
            method or self.config.decoder, self.options.stride, self.options.sigma
        )

    def predict_faces(self, model, faces, *, batch_size=8, decoder=None):
        """Landmarks `(N, K, 2)` in original-image pixels for the faces' boxes.

        `model` is a Keras model or an `InferenceRunner` of one (which runs the model's
        BN-folded graph once it pays; pass the same runner to calls in a loop).
        """
        runner = inference_runner(model)
        decode = self.decoder(decoder)
        crops = face_dataset(
            faces, self.options, training=False, batch_size=batch_size, targets=False
        )
        points = []
        for batch in crops:
            heatmaps = runner(normalize(batch["crop"]))
            points.append(np.asarray(decode(heatmaps)))
        points = np.concatenate(points)
        centers = np.stack([f.center for f in faces])
        scales = np.array([f.scale for f in faces])
        return crop_to_image(
            points,
            centers,
            scales,
            output_size=self.options.input_size,
            crop_scale=self.options.crop_scale,
        )

    def score(self, predictions, faces):
        """Per-face NMEs of `predictions` against the faces' annotations."""
        landmarks = np.stack([f.landmarks for f in faces])
        box_sizes = [f.box_size for f in faces]
        norms = normalisers(landmarks, self.config.dataset, box_sizes)
        return nme_per_face(predictions, landmarks, norms)

    def evaluate(self, model, data_dir, *, decoder=None):
        """`{subset: {"nme", "fr_0.08", "auc_0.08", "fr_0.1", "auc_0.1", "count"}}`.

        Each named annotation file is a subset; faces with WFLW attribute flags add
        `"<subset>/<attribute>"` entries.
        """
        results = {}
        subsets = [self.read_faces(data_dir, a) for a in self._eval_annotations().values()]
        runner = inference_runner(model, calls=sum(-(-len(f) // 8) for f in subsets))
        for name, annotations in self._eval_annotations().items():
            faces = self.read_faces(data_dir, annotations)
            nmes = self.score(self.predict_faces(runner, faces, decoder=decoder), faces)
            results[name] = summarize(nmes)
            for attribute in WFLW_ATTRIBUTES:
                mask = np.array([attribute in f.attributes for f in faces])
                if mask.any():
                    results[f"{name}/{attribute}"] = summarize(nmes[mask])
        return results

    def check_predict_options(self, *, box=None, annotations=None, data_dir=".", **options):
        """`predict` needs a face `box` or `annotations`, and takes `data_dir`."""
        self.reject_options("predict", options)
        if box is None and annotations is None:
            raise UsageError(
                "Predicting landmarks needs a face box (`box`, `--box x,y,w,h`) or "
                "`annotations` naming the images' faces. Received: box=None"
            )
        if box is not None:
            parse_box(box)

    def predict(
        self, model, inputs, out_dir, *, box=None, annotations=None, data_dir=".", **options
    ):
        """Draws the predicted landmarks of each image's face into `out_dir/<name>.png`.

        Args:
            inputs: image paths.
            box: the face box `(x, y, w, h)` (or `"x,y,w,h"`), used for every image.
            annotations: else, an annotation file (relative to `data_dir`) whose faces give
                the boxes of the images they name; every face of an image is drawn.

        Returns:
            The written paths.
        """
        from PIL import Image

        self.check_predict_options(box=box, annotations=annotations, **options)
        known = self.read_faces(data_dir, annotations) if annotations is not None else []
        os.makedirs(out_dir, exist_ok=True)
        zeros = np.zeros((self.config.num_landmarks, 2), np.float32)
        runner = inference_runner(model, calls=len(inputs))
        written = []
        for path in inputs:
            if box is not None:
                faces = [FaceAnnotation.from_box(os.fspath(path), zeros, parse_box(box))]
            else:
                name = os.path.basename(path)
                faces = [f for f in known if os.path.basename(f.image) == name]
                if not faces:
                    raise UsageError(
                        f"No face of the annotations is in this image. Received: image={path!r}"
                    )
                faces = [FaceAnnotation(os.fspath(path), zeros, f.center, f.scale) for f in faces]
            points = self.predict_faces(runner, faces)
            picture = Image.open(path).convert("RGB")
            for face, face_points in zip(faces, points):
                picture = draw_landmarks(picture, face_points, box=face.box)
            target = os.path.join(out_dir, os.path.splitext(os.path.basename(path))[0] + ".png")
            picture.save(target)
            written.append(target)
        return written

    def calibration_data(self, data_dir, steps=200):
        """`steps` uint8 crops `(1, S, S, 3)` of the training faces, augmented as in training,
        for int8 calibration of the served graph."""
        faces = self.read_faces(data_dir, self.config.train_annotations)
        crops = face_dataset(
            faces,
            self.options,
            training=True,
            batch_size=1,
            seed=self.recipe.runtime.seed,
            targets=False,
        )
        for batch in crops.take(steps):
            yield np.clip(np.round(batch["crop"].numpy()), 0, 255).astype(np.uint8)

    def serving_signatures(self, model):
        """`serving_default` (face crops to crop pixels) and `serving_bytes` (photos and face
        boxes to photo pixels), `hrnet_keras.landmarks.serving.landmark_signatures`."""
        from hrnet_keras.landmarks.serving import landmark_signatures

        return landmark_signatures(model, self.options, decoder=self.config.decoder)

    def serving_model(self, model, *, heatmaps=False, **options):
        """uint8 RGB crops (the face box x1.25, 256x256) in; `{"landmarks"}` in crop pixels out
        (and `"heatmaps"` with `heatmaps=True`)."""
        self.reject_options("serving_model", options)
        return landmark_serving_model(
            model, decoder=self.config.decoder, sigma=self.options.sigma, heatmaps=heatmaps
        )
