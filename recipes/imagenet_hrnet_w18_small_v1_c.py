"""HRNet-W18-small-v1-C on ImageNet (ILSVRC2012), trained with the official settings
(HRNet-Image-Classification: SGD, 100 epochs, x0.1 at epochs 30, 60 and 90).

`data_dir` is an ImageNet folder layout: `train/<wnid>/*.JPEG` and `val/` (class folders,
or flat with the devkit's, Kaggle's or a `val_labels.txt` label file); see
`hrnet_keras.classification.readers.imagenet`.
"""

from hrnet_keras.classification.recipes import imagenet_recipe


def recipe():
    return imagenet_recipe("18-small-v1")
