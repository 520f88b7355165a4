"""Two-stage object detection (Faster, Mask and Cascade R-CNN) on HRNetV2p feature pyramids:
ops, models, COCO data pipeline, COCO evaluation, and the task that trains, evaluates, draws
and serves them."""

from hrnet_keras.detection.anchors import base_anchors, level_anchors, multilevel_anchors
from hrnet_keras.detection.assigner import max_iou_assign
from hrnet_keras.detection.box_coder import clip_boxes, decode_boxes, encode_boxes
from hrnet_keras.detection.cascade_mask_rcnn import CascadeMaskRCNN
from hrnet_keras.detection.cascade_rcnn import CASCADE_STAGES, CascadeRCNN, CascadeStage
from hrnet_keras.detection.config import COCO_CLASS_NAMES, DetectionConfig
from hrnet_keras.detection.faster_rcnn import FasterRCNN
from hrnet_keras.detection.mask_head import FCNMaskHead, mask_loss
from hrnet_keras.detection.mask_paste import paste_masks
from hrnet_keras.detection.mask_rcnn import MaskRCNN
from hrnet_keras.detection.mask_target import mask_targets
from hrnet_keras.detection.postprocess import detections_from_rois
from hrnet_keras.detection.roi_head import RoIBoxHead, rcnn_loss, sample_rois
from hrnet_keras.detection.rpn import RPNHead, generate_proposals, rpn_loss
from hrnet_keras.detection.sampler import random_sample
from hrnet_keras.detection.serving import DetectionServing, detection_serving_model
from hrnet_keras.detection.task import DetectionTask

__all__ = [
    "CASCADE_STAGES",
    "COCO_CLASS_NAMES",
    "CascadeMaskRCNN",
    "CascadeRCNN",
    "CascadeStage",
    "DetectionConfig",
    "DetectionServing",
    "DetectionTask",
    "FCNMaskHead",
    "FasterRCNN",
    "MaskRCNN",
    "RPNHead",
    "RoIBoxHead",
    "base_anchors",
    "clip_boxes",
    "decode_boxes",
    "detection_serving_model",
    "detections_from_rois",
    "encode_boxes",
    "generate_proposals",
    "level_anchors",
    "mask_loss",
    "mask_targets",
    "max_iou_assign",
    "multilevel_anchors",
    "paste_masks",
    "random_sample",
    "rcnn_loss",
    "rpn_loss",
    "sample_rois",
]
