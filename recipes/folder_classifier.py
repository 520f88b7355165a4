"""Fine-tunes HRNet-Wx-C on any folder of class subfolders (`root/<class>/*.jpg`).

A root holding `train/` and `val/` trees uses them as the splits; a single tree holds out
10% of each class for evaluation (`task.holdout_fraction`). The classes are the sorted
subfolder names; the run folder keeps them in `classes.json`, which evaluate, predict and
export read beside the weights. By default HRNet-W18-small-v1 on 96x96 crops, 10 epochs of
batch 32 (minutes on a CPU for a few hundred images):

    hrnet-keras train folder_classifier --data-dir photos/ --model-dir runs/photos \
        --set model.weights=hrnet_w18_small_v1_c.keras --set task.freeze_backbone_epochs=2
    hrnet-keras predict folder_classifier --weights runs/photos/best.weights.h5 cat.jpg --out out/

`model.weights` is a converted ImageNet classifier of the same width (`hrnet-keras convert
hrnet_w18_small_v1.pth hrnet_w18_small_v1_c.keras`, or timm's `hrnet_w18_small`): every
layer loads but the dense head, which is new for the folder's classes (a log line says so).
`task.freeze_backbone_epochs=N` trains that head alone for the first N epochs. The paper's
model at its resolution (slow on a CPU):

    --set model.width=18 --set task.crop_size=224 --set model.weights=hrnet_w18_c.keras
"""

from hrnet_keras.classification.recipes import folder_classifier_recipe


def recipe():
    return folder_classifier_recipe()
