"""The image-path check every reader shares."""

import os

from hrnet_keras.landmarks.annotations import AnnotationError


def image_path(image_root, name, source):
    """`image_root/name`, or an `AnnotationError` naming the row when the file is missing."""
    path = os.path.join(image_root, name)
    if not os.path.isfile(path):
        raise AnnotationError(f"The image of {source} does not exist. Received: image={path!r}")
    return path
