"""Transitions between stages: adapt existing branches and open a new, lower one."""

from hrnet_keras.layers.conv_bn import conv_bn


def transition(branches, in_widths, out_widths, *, norm, name):
    """Maps the branches of one stage onto the (one more) branches of the next.

    An existing branch whose width changes gets a 3x3 convolution + BN + ReLU (stage 1 -> 2:
    256 -> C); an unchanged one passes through. Each new branch comes from the previous
    lowest-resolution branch by strided 3x3 convolutions + BN + ReLU.

    Args:
        branches: list of NHWC tensors, highest resolution first.
        in_widths: channels of the input branches.
        out_widths: channels of the output branches (at least as many).
        norm: a `NormOptions`.
        name: prefix, for example `transition2`; layers are named `{name}_branch{b}_*`.

    Returns:
        List of `len(out_widths)` tensors.

    Example:
    >>> import keras
    >>> from hrnet_keras.layers import NormOptions, transition
    >>> x = keras.Input((16, 16, 256))
    >>> ys = transition([x], (256,), (18, 36), norm=NormOptions(), name="t1")
    >>> [tuple(y.shape) for y in ys]
    [(None, 16, 16, 18), (None, 8, 8, 36)]
    """
    if len(out_widths) < len(in_widths):
        raise ValueError(
            f"A transition cannot drop branches. Received: in_widths={in_widths}, "
            f"out_widths={out_widths}"
        )
    outputs = []
    for b, filters in enumerate(out_widths):
        if b < len(in_widths):
            x = branches[b]
            if in_widths[b] != filters:
                x = conv_bn(x, filters, 3, norm=norm, name=f"{name}_branch{b}")
        else:
            x = branches[-1]
            steps = b + 1 - len(in_widths)
            for k in range(steps):
                last = k == steps - 1
                x = conv_bn(
                    x,
                    filters if last else in_widths[-1],
                    3,
                    strides=2,
                    norm=norm,
                    name=f"{name}_branch{b}",
                    suffix="" if steps == 1 else str(k),
                )
        outputs.append(x)
    return outputs
