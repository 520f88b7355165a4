"""Config, .keras, SavedModel and TFLite round trips; BN folding; multiply-add counting."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras_test_helpers import as_list, randomize_batch_norm, relative_error

from hrnet_keras import models

SIZE = (64, 64, 3)
X = np.random.default_rng(0).random((2, *SIZE), dtype="float32")

# W18-small-v1 has the fewest layers of the published variants (264 against width 4's
# 1,100) and the same layer types: building, calling and tracing cost a quarter. One model
# keeps an integer width and the full depth (several modules a stage).
SMALL = "18-small-v1"
BUILDERS = {
    "hrnetv2_head": lambda: models.hrnetv2(width=4, num_classes=3, input_shape=SIZE),
    "hrnetv2_align_corners": lambda: models.hrnetv2(
        width=SMALL, align_corners=True, input_shape=SIZE
    ),
    "hrnetv1h": lambda: models.hrnetv1h(width=SMALL, num_classes=2, input_shape=SIZE),
    "hrnetv2p": lambda: models.hrnetv2p(width=SMALL, channels=8, input_shape=SIZE),
    "classifier_c": lambda: models.hrnet_classifier(width=SMALL, num_classes=5, input_shape=SIZE),
    "classifier_cii": lambda: models.hrnet_classifier(
        width=SMALL, num_classes=5, head="Cii", input_shape=SIZE
    ),
    "backbone": lambda: models.HRNetBackbone(width=SMALL, image_shape=SIZE),
}


# Saving and exporting trace the whole graph (slow on 2 cores): three models cover a single
# output, a dict output, a functional subclass and both resize paths.
EXPORTED = ["backbone", "hrnetv2_align_corners", "hrnetv2p"]


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def model(request):
    return randomize_batch_norm(BUILDERS[request.param](), seed=1)


@pytest.fixture(scope="module")
def exported_models():
    return {name: randomize_batch_norm(BUILDERS[name](), seed=1) for name in EXPORTED}


# Loads every saved model in one fresh process: starting TensorFlow costs 5-10 s a process.
FRESH_PROCESS_SCRIPT = """
import json, sys, traceback
import keras, numpy as np
import hrnet_keras  # registers the layers: nothing else is needed
folder = sys.argv[1]
x = np.load(f"{folder}/x.npy")
results = {}
for name in sys.argv[2:]:
    try:
        model = keras.saving.load_model(f"{folder}/{name}.keras", safe_mode=True)
        out = model(x)
        out = [out[k] for k in sorted(out)] if isinstance(out, dict) else [out]
        expected = np.load(f"{folder}/{name}_expected.npz")
        assert len(out) == len(expected.files)
        for i, o in enumerate(out):
            np.testing.assert_allclose(np.asarray(o), expected[f"arr_{i}"], atol=1e-5)
        results[name] = "ok"
    except Exception:
        results[name] = traceback.format_exc()
with open(f"{folder}/results.json", "w") as f:
    json.dump(results, f)
"""


@pytest.fixture(scope="module")
def fresh_process_loads(exported_models, tmp_path_factory):
    """`({name: "ok" or the traceback}, stderr)` of loading each saved `.keras` file with
    safe_mode in a fresh process that only imported hrnet_keras."""
    folder = tmp_path_factory.mktemp("keras_files")
    np.save(folder / "x.npy", X)
    for name, model in exported_models.items():
        model.save(folder / f"{name}.keras")
        np.savez(folder / f"{name}_expected.npz", *as_list(model(X)))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-c", FRESH_PROCESS_SCRIPT, str(folder), *exported_models]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    path = folder / "results.json"
    return (json.loads(path.read_text()) if path.exists() else {}), result.stderr[-3000:]


def test_config_round_trip(model):
    clone = model.__class__.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    for a, b in zip(as_list(model(X)), as_list(clone(X))):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_backbone_config_is_its_arguments():
    backbone = models.HRNetBackbone(width="18-small-v1", upsample="bilinear", align_corners=True)
    config = backbone.get_config()
    assert config["width"] == "18-small-v1" and config["align_corners"] is True
    clone = models.HRNetBackbone.from_config(config)
    assert clone.count_params() == backbone.count_params()


@pytest.mark.parametrize("name", EXPORTED)
def test_keras_file_loads_with_safe_mode_in_a_fresh_process(name, fresh_process_loads):
    results, stderr = fresh_process_loads
    assert results.get(name) == "ok", results.get(name) or stderr


@pytest.mark.parametrize("name", EXPORTED)
def test_savedmodel_export_serves_the_same_outputs(tmp_path, name, exported_models):
    model = exported_models[name]
    path = str(tmp_path / "savedmodel")
    model.export(path, verbose=False)
    loaded = tf.saved_model.load(path)  # keep a reference: it owns the variables
    served = loaded.serve(tf.constant(X))
    for a, b in zip(as_list(served), as_list(model(X))):
        assert relative_error(a, b) < 1e-5


def test_tflite_conversion_matches_keras(tmp_path):
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    model = randomize_batch_norm(
        models.hrnetv2(width=SMALL, num_classes=3, align_corners=True, input_shape=SIZE), seed=2
    )
    flatbuffer = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    interpreter = litert.Interpreter(model_content=flatbuffer, num_threads=2)
    interpreter.allocate_tensors()
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    interpreter.set_tensor(inp["index"], X[:1])
    interpreter.invoke()
    assert relative_error(interpreter.get_tensor(out["index"]), model(X[:1])) < 1e-4


def test_fold_batch_norm_is_equivalent(model):
    folded = models.fold_batch_norm(model)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in folded.layers), (
        "every HRNet BatchNormalization follows a convolution"
    )
    for a, b in zip(as_list(model(X)), as_list(folded(X))):
        assert relative_error(b, a) < 1e-5


def test_fold_batch_norm_rejects_non_models():
    with pytest.raises(ValueError, match="Received: model="):
        models.fold_batch_norm("model.keras")


def test_multiply_adds_counts_convolutions_and_dense():
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same")(inputs)
    x = keras.layers.DepthwiseConv2D(3, padding="same")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(10)(x)
    model = keras.Model(inputs, outputs)
    expected = 8 * 8 * 8 * 27 + 8 * 8 * 8 * 9 + 8 * 10
    assert models.multiply_adds(model, (16, 16, 3)) == expected
    assert models.multiply_adds(model, (16, 16, 3), batch_size=3) == 3 * expected
