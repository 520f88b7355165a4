"""Object detection with HRNetV2p: Faster R-CNN layers, model and COCO evaluation."""
