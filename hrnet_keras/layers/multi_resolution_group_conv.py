"""The multi-resolution group convolution: every branch runs its own residual units."""

from hrnet_keras.layers.residual_units import basic_block


def multi_resolution_group_conv(branches, widths, units, *, norm, name):
    """Runs `units` BasicBlocks on each branch independently (paper, Figure 2a).

    Args:
        branches: list of NHWC tensors, highest resolution first.
        widths: channels of each branch.
        units: residual units per branch.
        norm: a `NormOptions`.
        name: prefix, for example `stage3_module2`; units are named
            `{name}_branch{b}_unit{u}_*`.

    Returns:
        List of tensors, one per branch, with the same shapes as the inputs.

    Example:
    >>> import keras
    >>> from hrnet_keras.layers import NormOptions, multi_resolution_group_conv
    >>> xs = [keras.Input((16, 16, 8)), keras.Input((8, 8, 16))]
    >>> ys = multi_resolution_group_conv(xs, (8, 16), 2, norm=NormOptions(), name="s2m0")
    >>> [tuple(y.shape) for y in ys]
    [(None, 16, 16, 8), (None, 8, 8, 16)]
    """
    if len(branches) != len(widths):
        raise ValueError(
            f"Expected one width per branch ({len(branches)} branches). Received: widths={widths}"
        )
    outputs = []
    for b, (x, filters) in enumerate(zip(branches, widths)):
        for u in range(units):
            x = basic_block(x, filters, norm=norm, name=f"{name}_branch{b}_unit{u}")
        outputs.append(x)
    return outputs
