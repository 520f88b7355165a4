"""Left/right landmark pairs of each annotation scheme, and the permutation a flip applies.

A horizontal flip turns the left eye into the right one: after mirroring the x coordinates,
landmark `a` of a pair must take the place of landmark `b`. The pairs are 0-based and are
written once, here, for the 98 (WFLW), 68 (300W), 29 (COFW) and 19 (AFLW) point schemes.
"""

import numpy as np

_CONTOUR_98 = tuple((i, 32 - i) for i in range(16))
PAIRS_98 = (
    *_CONTOUR_98,
    # eyebrows (upper, then lower)
    (33, 46), (34, 45), (35, 44), (36, 43), (37, 42), (38, 50), (39, 49), (40, 48), (41, 47),
    # eyes
    (60, 72), (61, 71), (62, 70), (63, 69), (64, 68), (65, 75), (66, 74), (67, 73),
    # nose base
    (55, 59), (56, 58),
    # mouth (outer, inner), pupils
    (76, 82), (77, 81), (78, 80), (87, 83), (86, 84), (88, 92), (89, 91), (95, 93), (96, 97),
)  # fmt: skip

PAIRS_68 = (
    *((i, 16 - i) for i in range(8)),
    (17, 26), (18, 25), (19, 24), (20, 23), (21, 22),
    (31, 35), (32, 34),
    (36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46),
    (48, 54), (49, 53), (50, 52), (61, 63), (60, 64), (67, 65), (58, 56), (59, 55),
)  # fmt: skip

PAIRS_29 = (
    (0, 1), (4, 6), (2, 3), (5, 7), (8, 9), (10, 11), (12, 14), (16, 17), (13, 15), (18, 19),
    (22, 23),
)  # fmt: skip

PAIRS_19 = ((0, 5), (1, 4), (2, 3), (6, 11), (7, 10), (8, 9), (12, 14), (15, 17))

FLIP_PAIRS = {98: PAIRS_98, 68: PAIRS_68, 29: PAIRS_29, 19: PAIRS_19}


def flip_permutation(num_landmarks):
    """Index array `p` such that the flipped face's landmark `i` is the original's `p[i]`.

    Args:
        num_landmarks: 98, 68, 29 or 19.

    Returns:
        An int32 array of length `num_landmarks`; applying it twice is the identity.

    Example:
    >>> p = flip_permutation(19)
    >>> p[:6].tolist(), p[18].item()
    ([5, 4, 3, 2, 1, 0], 18)
    """
    if num_landmarks not in FLIP_PAIRS:
        raise ValueError(
            f"No left/right pairs are known for {num_landmarks} landmarks; expected one of "
            f"{sorted(FLIP_PAIRS)}. Received: num_landmarks={num_landmarks}"
        )
    permutation = np.arange(num_landmarks, dtype=np.int32)
    for a, b in FLIP_PAIRS[num_landmarks]:
        permutation[a], permutation[b] = b, a
    return permutation


def flip_landmarks(landmarks, image_width):
    """Landmarks of the horizontally mirrored image (`x -> image_width - 1 - x`), relabelled.

    Coordinates are pixel coordinates with pixel centres at integers, so mirroring the pixel
    array `image[:, ::-1]` moves a point at `x` to `image_width - 1 - x`.

    Example:
    >>> import numpy as np
    >>> points = np.zeros((19, 2)); points[0] = (10.0, 5.0)
    >>> flip_landmarks(points, 100)[5].tolist()
    [89.0, 5.0]
    """
    landmarks = np.asarray(landmarks, dtype=np.float64)
    flipped = landmarks[flip_permutation(len(landmarks))].copy()
    flipped[:, 0] = image_width - 1 - flipped[:, 0]
    return flipped
