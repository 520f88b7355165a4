"""`load_backbone_weights`: a detector's backbone from an ImageNet classifier's weights.

mmdetection starts its HRNet detectors from the ImageNet classifiers
(`hrnetv2_w32_imagenet_pretrained.pth`, ...): the backbone's weights are loaded, the neck and
the heads keep their initialisation. Here the file is either that PyTorch checkpoint
(converted on the fly, which needs torch) or a Keras file written once by

    hrnet-keras convert hrnetv2_w32_imagenet_pretrained.pth hrnetv2_w32_imagenet.keras \
        --model backbone

whose layers are matched to the detector's backbone by name.
"""

import dataclasses
import os

import keras
import numpy as np

from hrnet_keras.models.weights import TORCH_SUFFIXES


@dataclasses.dataclass
class BackboneFill:
    """What `load_backbone_weights` did.

    Attributes:
        filled: layers of the detector's backbone given the file's weights.
        initialised: weight-bearing layers of the detector's backbone the file has not
            (the neck), left as they were.
        ignored: weight-bearing layers of the file the backbone has not (a classifier's
            head).
    """

    filled: list
    initialised: list
    ignored: list


def _weight_layers(model):
    return {layer.name: layer for layer in model.layers if layer.weights}


def _fill_from_keras(backbone, path):
    source = keras.saving.load_model(path, compile=False)
    ours, theirs = _weight_layers(backbone), _weight_layers(source)
    common = [name for name in ours if name in theirs]
    if not common:
        raise ValueError(
            f"{path!r} holds no layer of the detector's backbone {backbone.name!r} (its layers "
            f"are named {sorted(theirs)[:4]}...). Received: path={path!r}"
        )
    mismatched = [
        f"{name} {[tuple(w.shape) for w in theirs[name].weights]} for "
        f"{[tuple(w.shape) for w in ours[name].weights]}"
        for name in common
        if [tuple(w.shape) for w in theirs[name].weights]
        != [tuple(w.shape) for w in ours[name].weights]
    ]
    if mismatched:
        raise ValueError(
            f"{path!r} does not fit the detector's backbone {backbone.name!r} (another width?); "
            f"mis-shaped: {', '.join(mismatched[:6])}. Received: path={path!r}"
        )
    for name in common:
        for target, value in zip(ours[name].weights, theirs[name].weights):
            target.assign(np.asarray(value))
    return BackboneFill(
        filled=common,
        initialised=[name for name in ours if name not in theirs],
        ignored=[name for name in theirs if name not in ours],
    )


def _is_resnet(backbone):
    # `resnet_fpn` builds its ResNet's layers into the pyramid model under torchvision's names.
    return any(layer.name == "layer1_0_conv1" for layer in backbone._flatten_layers())


def load_backbone_weights(detector, path):
    """Fills `detector.backbone` from an ImageNet classifier's weights (see the module).

    Args:
        detector: a `hrnet_keras.detection.FasterRCNN` (its `backbone` attribute is the
            model from images to the pyramid).
        path: a `.keras` file of a backbone or classifier (matched by layer name, shapes
            checked), or a PyTorch checkpoint (`.pth`, `.pt`, `.bin`, `.safetensors`): an
            HRNet one (the backbone's tensors only, strictly), or for a ResNet-FPN backbone
            torchvision's ImageNet ResNet (`hrnet_keras.convert.resnet`).

    Returns:
        A `BackboneFill`.

    Example:
    >>> import os, tempfile
    >>> from hrnet_keras.models import faster_rcnn, hrnet_backbone
    >>> path = os.path.join(tempfile.mkdtemp(), "imagenet.keras")
    >>> hrnet_backbone(width=4).save(path)
    >>> detector = faster_rcnn(width=4, num_classes=2, channels=8, fc_channels=8)
    >>> fill = load_backbone_weights(detector, path)
    >>> len(fill.filled) > 0, fill.initialised[0], fill.ignored
    (True, 'v2p_reduction_conv', [])
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            "`model.backbone_weights` must be an existing file (see `hrnet-keras convert "
            f"--model backbone`). Received: backbone_weights={path!r}"
        )
    backbone = detector.backbone
    if path.endswith(".keras"):
        return _fill_from_keras(backbone, path)
    if path.endswith(TORCH_SUFFIXES) and _is_resnet(backbone):
        from hrnet_keras.convert.resnet import load_resnet_fpn_weights

        report = load_resnet_fpn_weights(backbone, path)
        skipped = set(report.skipped)
        return BackboneFill(
            filled=[name for name in _weight_layers(backbone) if name not in skipped],
            initialised=list(report.skipped),
            ignored=list(report.ignored),
        )
    if path.endswith(TORCH_SUFFIXES):
        from hrnet_keras.convert import load_torch_weights

        report = load_torch_weights(backbone, path, backbone_only=True)
        skipped = set(report.skipped)
        return BackboneFill(
            filled=[name for name in _weight_layers(backbone) if name not in skipped],
            initialised=list(report.skipped),
            ignored=list(report.ignored),
        )
    raise ValueError(
        "`model.backbone_weights` must be a `.keras` file or a PyTorch checkpoint "
        f"{TORCH_SUFFIXES}. Received: backbone_weights={path!r}"
    )
