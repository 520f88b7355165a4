"""Mask R-CNN in the detection task: recipes, masks through the pipeline, mask AP, one step."""

import gc
import json
import pathlib

import keras
import numpy as np
import pytest
import tensorflow as tf

from hrnet_keras.detection.mask_target import mask_targets
from hrnet_keras.detection.pipeline import evaluation_dataset, training_dataset
from hrnet_keras.detection.task import BOX_METRICS, MASK_METRICS
from hrnet_keras.training import Recipe, apply_overrides, load_recipe
from hrnet_keras.training.optimizers import build_optimizer

RECIPES = pathlib.Path(__file__).resolve().parents[2] / "recipes"
TINY = RECIPES / "coco_samples_tiny_mask_rcnn.py"
COCO_RECIPES = sorted(RECIPES.glob("coco_mask_rcnn_*.py"))
SMALL = [
    "task.min_size=64",
    "task.max_size=96",
    "task.pad_shape=(64, 96)",
    "task.channels=16",
    "task.rpn_channels=16",
    "task.fc_channels=32",
    "task.mask_channels=8",
    "task.max_proposals=50",
    "task.rcnn_num_samples=32",
]


@pytest.fixture(autouse=True)
def _fresh_graph():
    yield
    keras.backend.clear_session()
    gc.collect()


@pytest.fixture(scope="module")
def persons_dir(shared_data):
    return shared_data / "coco_persons"


def test_the_recipes_are_mmdetections_and_round_trip_through_json():
    assert [p.name for p in COCO_RECIPES] == [
        f"coco_mask_rcnn_hrnetv2p_w{w}_{s}.py" for w in (18, 32, 40) for s in ("1x", "2x")
    ]
    for path in [*COCO_RECIPES, TINY]:
        recipe = load_recipe(path)
        assert Recipe.from_dict(json.loads(json.dumps(recipe.to_dict()))) == recipe, path.name
        assert recipe.model.builder == "mask_rcnn" and recipe.task.masks
    faster = load_recipe(RECIPES / "coco_faster_rcnn_hrnetv2p_w40_2x.py")
    mask = load_recipe(RECIPES / "coco_mask_rcnn_hrnetv2p_w40_2x.py")
    assert mask.optimizer == faster.optimizer and mask.runtime == faster.runtime
    assert mask.model.width == 40 and mask.model.backbone_weights == "hrnetv2_w40_imagenet.keras"


def test_pipeline_masks_follow_resizing_and_flips(persons_dir):
    task = apply_overrides(load_recipe(TINY), ["task.flip=1.0"]).build_task()
    split = task.split(persons_dir, training=True)
    config = task.config.data_config()
    _, flipped = next(iter(training_dataset(split, config, batch_size=4, seed=0)))
    _, plain = next(iter(evaluation_dataset(split, config, batch_size=4)))
    assert plain["masks"].shape == (4, config.max_boxes, 32, 32)
    assert plain["masks"].dtype == tf.uint8
    assert plain["mask_boxes"].shape == (4, config.max_boxes, 4)
    for b in range(4):
        # The training stream is a permutation; find each flipped image's unflipped twin.
        twin = next(
            k
            for k in range(4)
            if np.allclose(
                np.sort(plain["boxes"][k].numpy()[:, 2] - plain["boxes"][k].numpy()[:, 0]),
                np.sort(flipped["boxes"][b].numpy()[:, 2] - flipped["boxes"][b].numpy()[:, 0]),
            )
        )
        count = int((plain["labels"][twin] >= 0).numpy().sum())
        np.testing.assert_array_equal(
            flipped["masks"][b, :count].numpy(), plain["masks"][twin, :count, :, ::-1].numpy()
        )
        # Flipped regions are mirrored in the resized width (the image's, before padding).
        width = float(plain["boxes"][twin].numpy()[:count, 2].max())
        mirrored = plain["mask_boxes"][twin, :count].numpy()[:, [2, 1, 0, 3]]
        mirrored[:, [0, 2]] *= -1
        shift = flipped["mask_boxes"][b, :count].numpy() - mirrored
        np.testing.assert_allclose(shift[:, [1, 3]], 0.0, atol=1e-4)
        np.testing.assert_allclose(shift[:, [0, 2]], shift[0, 0], atol=1e-3)
        assert shift[0, 0] >= width - 1e-3
    # The region of each map holds its box with a cell to spare on every side.
    boxes, regions = plain["boxes"].numpy(), plain["mask_boxes"].numpy()
    real = plain["labels"].numpy() >= 0
    assert (regions[real][:, :2] < boxes[real][:, :2]).all()
    assert (regions[real][:, 2:] > boxes[real][:, 2:]).all()


class _GroundTruthMasks:
    """Answers each evaluation batch with its ground truth: boxes and their 28x28 masks."""

    def __init__(self, task, data_dir):
        dataset = task.build_dataset(data_dir, training=False, batch_size=2)
        self.answers = []
        for _, targets in dataset:
            labels = targets["labels"].numpy()
            rows = labels.shape[1]
            masks = mask_targets(
                targets["boxes"],
                np.tile(np.arange(rows, dtype="int32"), (len(labels), 1)),
                targets["masks"],
                targets["mask_boxes"],
            )
            self.answers.append(
                {
                    "boxes": targets["boxes"].numpy(),
                    "scores": (labels >= 0).astype("float32"),
                    "labels": labels,
                    "num_detections": (labels >= 0).sum(axis=1),
                    "masks": np.asarray(masks),
                }
            )

    def predict_on_batch(self, inputs):
        return self.answers.pop(0)


def test_evaluation_reports_mask_ap_of_pasted_masks(persons_dir):
    """Ground-truth masks cut to 28x28 in their boxes, pasted back into the original photos and
    encoded as RLE, score mask AP50 1 (AP a little less: 28x28 is coarse at high IoU)."""
    task = load_recipe(TINY).build_task()
    metrics = task.evaluate(_GroundTruthMasks(task, persons_dir), persons_dir)
    assert list(metrics) == [*BOX_METRICS, *MASK_METRICS]
    assert metrics["bbox_AP"] == pytest.approx(1.0)
    assert metrics["segm_AP50"] == pytest.approx(1.0) and metrics["segm_AP75"] == pytest.approx(1.0)
    assert metrics["segm_AP"] >= 0.8


@pytest.mark.heavy
def test_tiny_recipe_trains_one_step_on_the_photos(persons_dir):
    keras.utils.set_random_seed(0)
    recipe = apply_overrides(load_recipe(TINY), SMALL)
    task = recipe.build_task()
    model = task.build_model()
    assert model.mask_head.conv_channels == 8
    optimizer = build_optimizer(recipe.optimizer, total_steps=100, steps_per_epoch=10, model=model)
    inputs, targets = next(iter(task.build_dataset(persons_dir, training=True, batch_size=2)))
    variables = model.trainable_variables

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            first = model(inputs, training=True)
            loss = model.compute_loss(inputs, targets, first)
        gradients = tape.gradient(loss, variables)
        optimizer.apply(gradients, variables)
        return loss, [t.result() for t in model.loss_trackers], gradients

    loss, losses, gradients = step()
    assert np.isfinite(float(loss)) and len(losses) == 5
    assert all(np.isfinite(float(v)) for v in losses) and float(losses[-1]) > 0
    assert all(g is not None and np.isfinite(np.asarray(g)).all() for g in gradients)
