"""The served graphs' request inputs, checked and decoded in the graph.

Every task's `serving_bytes` signature takes `images`, a 1-D `tf.string` batch of encoded
files, and decodes them here, so that a bad request fails the same way for every model: with
an `InvalidArgumentError` whose message says which input is wrong and what was expected (TF
Serving returns it to the client as the request's error), never with a crash of the graph.

JPEG files decode with the accurate integer DCT, PIL's (and libjpeg's) default, so that a
served model sees the pixels `hrnet_keras.data.images.read_image` reads.
"""

import tensorflow as tf

# The first bytes of the formats `tf.io.decode_image` reads.
_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM")
FORMATS = "JPEG, PNG, GIF or BMP"

IMAGES_SPEC = tf.TensorSpec((None,), tf.string, name="images")


def _is_known_format(encoded):
    return tf.reduce_any(
        [tf.equal(tf.strings.substr(encoded, 0, len(magic)), magic) for magic in _SIGNATURES]
    )


def decode_image(encoded):
    """One encoded image (a scalar `tf.string`) as a uint8 RGB `(H, W, 3)` tensor, checked.

    Grey images repeat to three channels; alpha is dropped; a GIF gives its first frame. An
    empty string, a string that is no JPEG, PNG, GIF or BMP file, and a file that decodes to
    zero pixels raise `tf.errors.InvalidArgumentError` when the graph runs.

    Example:
    >>> import io, numpy as np
    >>> from PIL import Image
    >>> png = io.BytesIO(); Image.new("RGB", (5, 3), (9, 8, 7)).save(png, "PNG")
    >>> decode_image(tf.constant(png.getvalue())).numpy()[0, 0].tolist()
    [9, 8, 7]
    >>> decode_image(tf.constant(b"not an image"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tensorflow.python.framework.errors_impl.InvalidArgumentError: ...is not a JPEG, PNG, GIF...
    """
    encoded = tf.convert_to_tensor(encoded, tf.string)
    checks = [
        tf.debugging.assert_positive(
            tf.strings.length(encoded),
            message=f"An `images` string is empty (0 bytes); expected an encoded {FORMATS} file",
        ),
        tf.debugging.Assert(
            _is_known_format(encoded),
            [
                f"An `images` string is not a {FORMATS} file (its first bytes are none of "
                "theirs). Received the first bytes:",
                tf.strings.substr(encoded, 0, 8),
            ],
        ),
    ]
    with tf.control_dependencies(checks):
        image = tf.cond(
            tf.io.is_jpeg(encoded),
            lambda: tf.io.decode_jpeg(encoded, channels=3, dct_method="INTEGER_ACCURATE"),
            lambda: tf.io.decode_image(encoded, channels=3, expand_animations=False),
        )
    image.set_shape([None, None, 3])
    return check_image_size(image, "An `images` file")


def check_image_size(images, what="`images`"):
    """`images` (`(..., H, W, C)`) after a check that H and W are positive."""
    size = tf.shape(images)[-3:-1]
    check = tf.debugging.assert_positive(
        size, message=f"{what} has zero height or width; expected an image of at least 1x1 pixels"
    )
    with tf.control_dependencies([check]):
        return tf.identity(images)


def check_uint8_images(images):
    """A `serving_default` batch `(B, H, W, 3)` after checks of its dtype and size."""
    images = tf.convert_to_tensor(images)
    if images.dtype != tf.uint8:
        raise ValueError(f"`images` must be uint8 RGB. Received: dtype={images.dtype.name}")
    return check_image_size(images)


def map_images(fn, images, fn_output_signature):
    """`fn` on each decoded image of a 1-D `tf.string` batch, stacked as `tf.map_fn` does.

    Args:
        fn: from a uint8 `(H, W, 3)` image to tensors of `fn_output_signature`.
        images: the request's encoded files.
        fn_output_signature: as `tf.map_fn`'s (a `tf.RaggedTensorSpec` stacks results of
            different sizes).
    """
    images = tf.convert_to_tensor(images, tf.string)
    check = tf.debugging.assert_positive(
        tf.size(images), message="`images` is an empty batch; expected one file or more"
    )
    with tf.control_dependencies([check]):
        images = tf.identity(images)
    return tf.map_fn(
        lambda encoded: fn(decode_image(encoded)), images, fn_output_signature=fn_output_signature
    )
