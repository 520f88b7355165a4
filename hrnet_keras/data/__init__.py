"""The data layer every task shares: image files, decoding, normalisation, sharding,
per-example random keys and COCO annotations.

Example:
>>> from hrnet_keras.data import IMAGENET_MEAN, normalize
>>> IMAGENET_MEAN
(0.485, 0.456, 0.406)
"""

from hrnet_keras.data.files import (
    IMAGE_SUFFIXES,
    image_beside,
    image_files,
    list_images,
    require_file,
)
from hrnet_keras.data.images import (
    load_image,
    load_pair,
    read_image,
    read_mask,
    read_pair,
)
from hrnet_keras.data.normalization import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    ImageNormalization,
    normalize,
)
from hrnet_keras.data.random_keys import epoch_order, epoch_stream, example_key
from hrnet_keras.data.sharding import shard

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "IMAGE_SUFFIXES",
    "ImageNormalization",
    "epoch_order",
    "epoch_stream",
    "example_key",
    "image_beside",
    "image_files",
    "list_images",
    "load_image",
    "load_pair",
    "normalize",
    "read_image",
    "read_mask",
    "read_pair",
    "require_file",
    "shard",
]
