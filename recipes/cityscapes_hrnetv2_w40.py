"""HRNetV2-W40 on Cityscapes (paper Table 1: 45.2M parameters, 80.2 mIoU on val).

The W48 recipe's settings with width 40.
"""

import os

from hrnet_keras.training import load_recipe


def recipe():
    here = os.path.dirname(os.path.abspath(__file__))
    return load_recipe(os.path.join(here, "cityscapes_hrnetv2_w48.py"), ["model.width=40"])
