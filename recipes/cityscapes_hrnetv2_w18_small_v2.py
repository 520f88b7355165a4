"""HRNetV2-W18-Small-v2 on Cityscapes (official README: 3.9M parameters, 76.2 mIoU on val).

The W48 recipe's settings with the small width.
"""

import os

from hrnet_keras.training import load_recipe


def recipe():
    here = os.path.dirname(os.path.abspath(__file__))
    return load_recipe(os.path.join(here, "cityscapes_hrnetv2_w48.py"), ["model.width=18-small-v2"])
