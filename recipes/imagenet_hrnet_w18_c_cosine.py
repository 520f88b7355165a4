"""HRNet-W18-C on ImageNet (ILSVRC2012) with a cosine schedule instead of the official steps:
5 warm-up epochs, then Keras' cosine decay to 0 over the rest of the 100 epochs; otherwise
the official settings (SGD with Nesterov momentum, lr 0.05 per 128 images, wd 1e-4).
"""

from hrnet_keras.classification.recipes import imagenet_recipe


def recipe():
    return imagenet_recipe(18, schedule="cosine")
