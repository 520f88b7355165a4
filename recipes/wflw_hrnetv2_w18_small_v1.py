"""HRNetV2-W18-small-v1 on WFLW (98 landmarks): the mobile face-landmark model.

The W18 recipe's data, schedule and augmentation with the small width (1.6M parameters,
1.1 G multiply-adds per 256x256 crop against W18's 9.7M and 4.7 G), for the int8 `.tflite`
export that must run in a few tens of milliseconds on a phone's CPU. Not a published model:
its accuracy is whatever this recipe reaches.
"""

import os

from hrnet_keras.training import load_recipe


def recipe():
    here = os.path.dirname(os.path.abspath(__file__))
    return load_recipe(os.path.join(here, "wflw_hrnetv2_w18.py"), ["model.width=18-small-v1"])
