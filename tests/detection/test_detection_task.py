"""The detection task: the Task contract, its recipes, COCO evaluation, backbone weights."""

import gc
import json
import pathlib

import keras
import numpy as np
import pytest
import tensorflow as tf
from task_contract import check_task_contract

from hrnet_keras.detection import DetectionConfig, DetectionTask
from hrnet_keras.detection.task import BOX_METRICS
from hrnet_keras.errors import UsageError
from hrnet_keras.training import ModelConfig, Recipe, apply_overrides, load_recipe
from hrnet_keras.training.optimizers import build_optimizer
from hrnet_keras.training.run_folder import load_run_recipe, write_run_files
from hrnet_keras.training.task import TaskCapabilityError
from hrnet_keras.training.trainer import load_trained_model

RECIPES = pathlib.Path(__file__).resolve().parents[2] / "recipes"
TINY = RECIPES / "coco_samples_tiny_faster_rcnn.py"
TINY_VOC = RECIPES / "coco_voc_samples_tiny_faster_rcnn.py"
COCO_RECIPES = sorted(RECIPES.glob("coco_faster_rcnn_*.py"))
DETECTION_RECIPES = [*COCO_RECIPES, TINY, TINY_VOC]
# A detector small enough for the default suite: the recipe's W18-small-v1 (its few modules
# trace faster than a small full-depth width), a 64 x 96 canvas.
SMALL = [
    "task.min_size=64",
    "task.max_size=96",
    "task.pad_shape=(64, 96)",
    "task.channels=16",
    "task.rpn_channels=16",
    "task.fc_channels=32",
    "task.max_proposals=50",
    "task.rcnn_num_samples=32",
]


@pytest.fixture(autouse=True)
def _fresh_graph():
    """Full-width detectors traced one after another would hold gigabytes of graphs."""
    yield
    keras.backend.clear_session()
    gc.collect()


@pytest.fixture(scope="module")
def persons_dir(shared_data):
    return shared_data / "coco_persons"


@pytest.fixture(scope="module")
def voc_dir(shared_data):
    return shared_data / "coco_voc"


def test_the_recipes_are_the_papers_and_round_trip_through_json(tmp_path):
    assert [p.name for p in COCO_RECIPES] == [
        f"coco_faster_rcnn_hrnetv2p_w{w}_{s}.py" for w in (18, 32, 40) for s in ("1x", "2x")
    ] + ["coco_faster_rcnn_r50_fpn_1x.py"]
    for path in DETECTION_RECIPES:
        recipe = load_recipe(path)
        assert Recipe.from_dict(json.loads(json.dumps(recipe.to_dict()))) == recipe, path.name
        run = tmp_path / path.stem
        run.mkdir()
        write_run_files(recipe, run, tmp_path)
        assert load_run_recipe(run) == recipe
    recipe = load_recipe(RECIPES / "coco_faster_rcnn_hrnetv2p_w32_2x.py")
    optimizer = recipe.optimizer
    assert (recipe.model.builder, recipe.model.width, recipe.task.num_classes) == (
        "faster_rcnn",
        32,
        80,
    )
    assert (optimizer.name, optimizer.learning_rate, optimizer.momentum) == ("sgd", 0.02, 0.9)
    assert (optimizer.weight_decay, optimizer.global_clipnorm) == (1e-4, 35.0)
    assert (optimizer.warmup_steps, optimizer.warmup_start) == (500, pytest.approx(1 / 3))
    assert (recipe.runtime.epochs, optimizer.boundaries) == (24, (16, 22))
    baseline = load_recipe(RECIPES / "coco_faster_rcnn_r50_fpn_1x.py")
    assert (baseline.model.backbone, baseline.model.backbone_weights) == (
        "resnet50",
        "resnet50_imagenet.keras",
    )
    assert baseline.optimizer == load_recipe(COCO_RECIPES[0]).optimizer
    assert recipe.runtime.global_batch_size == 16
    assert recipe.model.backbone_weights == "hrnetv2_w32_imagenet.keras"
    assert (recipe.task.min_size, recipe.task.max_size, recipe.task.flip) == (800, 1333, 0.5)


def _synthetic_batch(size=128, num_classes=80):
    rng = np.random.default_rng(0)
    images = rng.normal(0.0, 1.0, (1, size, size, 3)).astype("float32")
    boxes = np.zeros((1, 4, 4), "float32")
    boxes[0, :2] = [[10, 12, 70, 90], [60, 30, 120, 100]]
    labels = np.array([[0, num_classes - 1, -1, -1]], "int32")
    inputs = {"images": images, "image_shape": np.array([[size, size]], "int32")}
    return inputs, {"boxes": boxes, "labels": labels, "crowd": np.zeros((1, 4), bool)}


def _recipe_params():
    for path in DETECTION_RECIPES:
        # The full-width HRNets take 4+ minutes (W18) and gigabytes to trace on a 2-core CPU.
        marks = [pytest.mark.heavy] if path in COCO_RECIPES else [pytest.mark.slow]
        if path == TINY_VOC:
            # The persons recipe's detector but for its 21 classes; its heavy test trains it.
            marks = [pytest.mark.heavy]
        yield pytest.param(path, [], marks=marks, id=path.stem)
    # In the default run: a COCO recipe's detector and optimizer on the smallest backbone.
    yield pytest.param(
        COCO_RECIPES[0],
        ["model.width=18-small-v1", "model.backbone_weights=None"],
        marks=[pytest.mark.slow],
        id="coco_recipe_at_w18_small_v1",
    )


@pytest.mark.parametrize(("path", "overrides"), _recipe_params())
def test_every_recipe_builds_and_trains_one_step(path, overrides):
    """At the recipe's width, detector sizes and optimizer, on a 128 x 128 canvas: one step
    traced once (the gradients are checked inside it, then applied)."""
    keras.utils.set_random_seed(0)
    recipe = apply_overrides(
        load_recipe(path),
        [
            "model.backbone_weights=None",
            "task.min_size=128",
            "task.max_size=128",
            "task.pad_shape=(128, 128)",
            *overrides,
        ],
    )
    model = recipe.build_task().build_model()
    optimizer = build_optimizer(recipe.optimizer, total_steps=100, steps_per_epoch=10, model=model)
    inputs, targets = _synthetic_batch(num_classes=recipe.task.num_classes)
    variables = model.trainable_variables
    missing = []

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            first = model(inputs, training=True)
            loss = model.compute_loss(inputs, targets, first)
        gradients = tape.gradient(loss, variables)
        missing.extend(v.path for v, g in zip(variables, gradients) if g is None)
        pairs = [(g, v) for g, v in zip(gradients, variables) if g is not None]
        optimizer.apply([g for g, _ in pairs], [v for _, v in pairs])
        finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g, _ in pairs])
        return loss, finite, [t.result() for t in model.loss_trackers]

    loss, finite, losses = step()
    assert not missing, missing
    assert np.isfinite(float(loss)) and bool(finite)
    assert all(np.isfinite(float(v)) for v in losses)
    assert int(optimizer.iterations.numpy()) == 1


@pytest.mark.slow
def test_detection_task_keeps_the_contract(persons_dir, tmp_path):
    recipe = apply_overrides(load_recipe(TINY), SMALL)
    task, _, metrics = check_task_contract(recipe, persons_dir, tmp_path)
    assert isinstance(task, DetectionTask)
    assert list(metrics) == list(BOX_METRICS)
    assert all(-1.0 <= v <= 1.0 for v in metrics.values())


class _GroundTruthDetector:
    """Answers each evaluation batch with its own ground truth (in resized pixels)."""

    def __init__(self, task, data_dir):
        dataset = task.build_dataset(
            data_dir, training=False, batch_size=task.config.eval_batch_size
        )
        self.answers = []
        for _, targets in dataset:
            labels = targets["labels"].numpy()
            self.answers.append(
                {
                    "boxes": targets["boxes"].numpy(),
                    "scores": (labels >= 0).astype("float32"),
                    "labels": labels,
                    "num_detections": (labels >= 0).sum(axis=1),
                }
            )

    def predict_on_batch(self, inputs):
        return self.answers.pop(0)


@pytest.mark.parametrize("recipe_path", [TINY, TINY_VOC], ids=["coco_persons", "coco_voc"])
def test_evaluation_maps_boxes_and_categories_back_to_the_json(recipe_path, persons_dir, voc_dir):
    """Ground truth through the pipeline's resizing and back scores AP 1: the boxes return to
    each image's pixels and the labels to the json's category ids (VOC's start at 0)."""
    data_dir = persons_dir if recipe_path == TINY else voc_dir
    task = load_recipe(recipe_path).build_task()
    metrics = task.evaluate(_GroundTruthDetector(task, data_dir), data_dir)
    assert list(metrics) == list(BOX_METRICS)
    assert metrics["bbox_AP"] == pytest.approx(1.0) and metrics["bbox_AP50"] == pytest.approx(1.0)


def test_class_names_and_classes_must_agree_with_the_data(persons_dir):
    recipe = apply_overrides(load_recipe(TINY), ["task.class_names=('cat',)"])
    with pytest.raises(ValueError, match=r"categories=\['person'\], class_names=\['cat'\]"):
        recipe.build_task().num_train_examples(persons_dir)
    with pytest.raises(ValueError, match=r"model\.num_classes=3"):
        Recipe(DetectionConfig(class_names=("a", "b")), ModelConfig(num_classes=3)).build_task()
    with pytest.raises(ValueError, match="builder='hrnetv2'"):
        Recipe(DetectionConfig(), ModelConfig(builder="hrnetv2")).build_task().build_model()
    with pytest.raises(ValueError, match=r"max_proposals=0"):
        DetectionConfig(max_proposals=0)
    with pytest.raises(ValueError, match=r"class_names=\(\)"):
        DetectionConfig(class_names=())
    with pytest.raises(ValueError, match=r"`model\.backbone` and `model\.backbone_weights` apply"):
        ModelConfig(builder="hrnetv2", backbone_weights="x.keras").build(num_classes=2)


def test_predict_options_are_checked_before_any_model():
    task = load_recipe(TINY).build_task()
    task.check_predict_options(score_threshold=0.5)
    with pytest.raises(UsageError, match="score_threshold=2"):
        task.check_predict_options(score_threshold=2)
    with pytest.raises(TaskCapabilityError, match="box"):
        task.check_predict_options(box=(1, 2, 3, 4))
    assert DetectionTask.supports("predict") and not DetectionTask.supports("calibration_data")


@pytest.mark.slow
def test_backbone_weights_from_the_imagenet_checkpoint(tmp_path):
    """The PyTorch ImageNet classifier fills the backbone (not the neck) before training;
    evaluation, prediction and export, which load trained weights, never read it."""
    torch = pytest.importorskip("torch")
    timm = pytest.importorskip("timm")
    classifier = timm.create_model("hrnet_w18_small", pretrained=False)
    torch.save(classifier.state_dict(), tmp_path / "imagenet.pth")
    recipe = apply_overrides(
        load_recipe(TINY), [f"model.backbone_weights={tmp_path / 'imagenet.pth'}"]
    )
    model = recipe.build_task().build_model()
    stem = classifier.conv1.weight.detach().numpy().transpose(2, 3, 1, 0)
    np.testing.assert_array_equal(model.backbone.get_layer("stem_conv1").kernel.numpy(), stem)

    model.save_weights(tmp_path / "trained.weights.h5")
    recipe.model.backbone_weights = str(tmp_path / "gone.pth")
    trained, _ = load_trained_model(recipe, tmp_path / "trained.weights.h5")
    np.testing.assert_array_equal(trained.backbone.get_layer("stem_conv1").kernel.numpy(), stem)
