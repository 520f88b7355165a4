"""The multi-resolution convolution (fusion): every output branch sums all input branches."""

import keras

from hrnet_keras.layers.conv_bn import conv_bn
from hrnet_keras.layers.resize import Resize


def _from_lower_resolution(x, reference, filters, factor, *, norm, upsample, align_corners, name):
    y = conv_bn(x, filters, 1, norm=norm, name=name, relu=False)
    if upsample == "nearest":
        # The classification, timm and detection code upsample by a fixed factor.
        return Resize("nearest", scale=factor, name=f"{name}_up")(y)
    # The segmentation and face code resize to the target branch's own size.
    return Resize("bilinear", align_corners=align_corners, name=f"{name}_up")([y, reference])


def _from_higher_resolution(x, steps, in_filters, filters, *, norm, name):
    for k in range(steps):
        last = k == steps - 1
        x = conv_bn(
            x,
            filters if last else in_filters,
            3,
            strides=2,
            norm=norm,
            name=name,
            suffix=str(k),
            relu=not last,
        )
    return x


def multi_resolution_fusion(
    branches, widths, *, norm, name, upsample="bilinear", align_corners=False, num_outputs=None
):
    """Output i = ReLU(sum over j of f_ij(x_j)) (paper, Figure 2b).

    f_ii is the identity; from a lower resolution (j > i) a 1x1 convolution + BN then
    upsampling by 2^(j-i); from a higher resolution (j < i) i-j strided 3x3 convolutions + BN,
    with ReLU between them.

    Args:
        branches: list of NHWC tensors, highest resolution first.
        widths: channels of each branch.
        norm: a `NormOptions`.
        name: prefix, for example `stage3_module2`; paths are named
            `{name}_fuse_{j}_to_{i}_*`.
        upsample: `"nearest"` (classification/timm/detection checkpoints) or `"bilinear"`
            (segmentation/face checkpoints).
        align_corners: for bilinear upsampling.
        num_outputs: how many output branches to make (default: all).

    Returns:
        List of `num_outputs` fused tensors.

    Example:
    >>> import keras
    >>> from hrnet_keras.layers import NormOptions, multi_resolution_fusion
    >>> xs = [keras.Input((16, 16, 8)), keras.Input((8, 8, 16))]
    >>> ys = multi_resolution_fusion(xs, (8, 16), norm=NormOptions(), name="s2m0")
    >>> [tuple(y.shape) for y in ys]
    [(None, 16, 16, 8), (None, 8, 8, 16)]
    """
    if upsample not in ("nearest", "bilinear"):
        raise ValueError(
            f"`upsample` must be 'nearest' or 'bilinear'. Received: upsample={upsample!r}"
        )
    num_outputs = len(branches) if num_outputs is None else num_outputs
    if len(branches) == 1:
        return list(branches)
    outputs = []
    for i in range(num_outputs):
        terms = []
        for j, x in enumerate(branches):
            path = f"{name}_fuse_{j}_to_{i}"
            if j == i:
                terms.append(x)
            elif j > i:
                terms.append(
                    _from_lower_resolution(
                        x,
                        branches[i],
                        widths[i],
                        2 ** (j - i),
                        norm=norm,
                        upsample=upsample,
                        align_corners=align_corners,
                        name=path,
                    )
                )
            else:
                terms.append(
                    _from_higher_resolution(x, i - j, widths[j], widths[i], norm=norm, name=path)
                )
        y = keras.layers.Add(name=f"{name}_fuse_to_{i}_add")(terms)
        outputs.append(keras.layers.ReLU(name=f"{name}_fuse_to_{i}_relu")(y))
    return outputs
