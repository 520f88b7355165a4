"""PyTorch reference models for the conversion tests: timm's HRNet, re-wired as the
segmentation, face and detection codes wire it, and state dicts in their key layouts."""

import numpy as np
import pytest
import timm
import torch
import torch.nn.functional as F
from torch import nn

TIMM_NAMES = {
    "18-small-v1": "hrnet_w18_small",
    "18-small-v2": "hrnet_w18_small_v2",
    18: "hrnet_w18",
    32: "hrnet_w32",
    40: "hrnet_w40",
}


@pytest.fixture(scope="module", autouse=True)
def single_threaded_torch():
    """One torch thread while TensorFlow's pools are alive: on a small machine the two
    runtimes' spinning threads otherwise slow each other down by orders of magnitude."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def randomize(module, seed=0):
    """Random weights everywhere, BN statistics and affine parameters included."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for sub in module.modules():
            if isinstance(sub, nn.BatchNorm2d):
                sub.running_mean.copy_(torch.rand(sub.num_features, generator=generator) - 0.5)
                sub.running_var.copy_(torch.rand(sub.num_features, generator=generator) + 0.5)
                sub.weight.copy_(torch.rand(sub.num_features, generator=generator) + 0.5)
                sub.bias.copy_(torch.rand(sub.num_features, generator=generator) * 0.4 - 0.2)
            elif isinstance(sub, (nn.Conv2d, nn.Linear)) and sub.bias is not None:
                sub.bias.copy_(torch.rand(sub.bias.shape, generator=generator) * 0.2 - 0.1)
    return module.eval()


def timm_branches(width, *, upsample="nearest", align_corners=False, seed=0):
    """timm's HRNet returning the four branches; fusion upsampling switched if asked."""
    model = timm.create_model(
        TIMM_NAMES[width], features_only=True, feature_location="", out_indices=(1, 2, 3, 4)
    )
    for sub in model.modules():
        if isinstance(sub, nn.Upsample):
            sub.mode = upsample
            sub.align_corners = align_corners if upsample == "bilinear" else None
    return randomize(model, seed)


class DenseHead(nn.Module):
    """HRNetV2 + the segmentation (`last_layer`) / face (`head`) head of the official code."""

    def __init__(self, branches, channels, num_classes, align_corners):
        super().__init__()
        self.backbone = branches
        self.align_corners = align_corners
        self.last_layer = nn.Sequential(
            nn.Conv2d(channels, channels, 1),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.Conv2d(channels, num_classes, 1),
        )

    def forward(self, x):
        xs = self.backbone(x)
        size = xs[0].shape[-2:]
        ups = [
            F.interpolate(y, size=size, mode="bilinear", align_corners=self.align_corners)
            for y in xs[1:]
        ]
        return self.last_layer(torch.cat([xs[0], *ups], 1))


class HRFPN(nn.Module):
    """mmdetection's HRFPN: V2 concat, 1x1 reduction, average pooling, a 3x3 conv per level."""

    def __init__(self, branches, in_channels, channels, levels):
        super().__init__()
        self.backbone = branches
        self.reduction = nn.Conv2d(in_channels, channels, 1)
        self.fpn = nn.ModuleList(nn.Conv2d(channels, channels, 3, padding=1) for _ in range(levels))

    def forward(self, x):
        xs = self.backbone(x)
        ups = [F.interpolate(y, scale_factor=2**i, mode="bilinear") for i, y in enumerate(xs)]
        y = self.reduction(torch.cat(ups, 1))
        return [
            conv(y if i == 0 else F.avg_pool2d(y, 2**i, 2**i)) for i, conv in enumerate(self.fpn)
        ]


def backbone_state(model, prefix=""):
    return {prefix + k: v for k, v in model.backbone.state_dict().items()}


def segmentation_state(model, *, face=False, counters=True):
    """The state dict as the segmentation code saves it (`model.` prefix, `loss.*`) or as the
    face code does (`head.*`)."""
    head = {
        f"{'head' if face else 'last_layer'}.{k}": v
        for k, v in model.last_layer.state_dict().items()
    }
    state = {**backbone_state(model), **head}
    if not counters:
        state = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    if face:
        return state
    state = {f"model.{k}": v for k, v in state.items()}
    state["loss.criterion.weight"] = torch.ones(model.last_layer[3].out_channels)
    return state


def detection_state(model, *, mmdet_v2):
    """A detector checkpoint: `backbone.*`, the neck in one of its two namings, other heads."""
    state = backbone_state(model, "backbone.")
    reduction = "neck.reduction_conv.conv" if mmdet_v2 else "neck.reduction_conv.0"
    for p, v in model.reduction.state_dict().items():
        state[f"{reduction}.{p}"] = v
    for i, conv in enumerate(model.fpn):
        name = f"neck.fpn_convs.{i}.conv" if mmdet_v2 else f"neck.fpn_conv.{i}"
        for p, v in conv.state_dict().items():
            state[f"{name}.{p}"] = v
    state["rpn_head.rpn_conv.weight"] = torch.zeros(4, 4, 3, 3)
    return state


def to_nchw(x):
    return torch.from_numpy(np.ascontiguousarray(np.transpose(x, (0, 3, 1, 2))))


def to_nhwc(t):
    return np.transpose(t.detach().numpy(), (0, 2, 3, 1))


def relative_error(keras_out, torch_out):
    keras_out, torch_out = np.asarray(keras_out), np.asarray(torch_out)
    assert keras_out.shape == torch_out.shape, (keras_out.shape, torch_out.shape)
    return float(np.abs(keras_out - torch_out).max() / np.abs(torch_out).max())


def convert(*argv):
    """Runs `hrnet-keras convert` and asserts success."""
    from hrnet_keras.cli import main  # here: the torch-only references must not load TensorFlow

    assert main(["convert", *map(str, argv)]) == 0
