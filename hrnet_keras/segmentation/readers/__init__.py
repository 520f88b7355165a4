"""Readers of the datasets' own folder layouts: each returns a `SegmentationFiles`.

`read_split(layout, data_dir, split, ...)` dispatches on the layout name a
`SegmentationConfig` holds; the table is explicit so that "go to definition" works.
"""

from hrnet_keras.segmentation.readers.cityscapes import read_cityscapes
from hrnet_keras.segmentation.readers.files import SegmentationFiles, lookup_table
from hrnet_keras.segmentation.readers.lip import read_lip
from hrnet_keras.segmentation.readers.pascal_context import (
    prepare_pascal_context,
    read_pascal_context,
)
from hrnet_keras.segmentation.readers.voc import read_voc

LAYOUTS = ("cityscapes", "pascal_context", "lip", "voc")


def read_split(layout, data_dir, split, *, num_classes=None, ignore_label=255):
    """The files of `split` in a dataset of the given layout.

    Example:
    >>> read_split("kitti", ".", "train")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: `layout` must be one of (...). Received: layout='kitti'
    """
    if layout == "cityscapes":
        return read_cityscapes(data_dir, split, ignore_label=ignore_label)
    if layout == "pascal_context":
        return read_pascal_context(
            data_dir, split, num_classes=num_classes or 59, ignore_label=ignore_label
        )
    if layout == "lip":
        return read_lip(data_dir, split)
    if layout == "voc":
        return read_voc(data_dir, split, num_classes=num_classes)
    raise ValueError(f"`layout` must be one of {LAYOUTS}. Received: layout={layout!r}")


__all__ = [
    "LAYOUTS",
    "SegmentationFiles",
    "lookup_table",
    "prepare_pascal_context",
    "read_cityscapes",
    "read_lip",
    "read_pascal_context",
    "read_split",
    "read_voc",
]
