"""HRNetV2-W48 on PASCAL-Context with 60 classes (background counted as a class).

The 59-class recipe's settings; masks keep index 0 (background) as a class.
"""

import os

from hrnet_keras.training import load_recipe


def recipe():
    here = os.path.dirname(os.path.abspath(__file__))
    return load_recipe(os.path.join(here, "pascal_context_hrnetv2_w48.py"), ["task.num_classes=60"])
