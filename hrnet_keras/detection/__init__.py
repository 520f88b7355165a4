"""Object detection: Faster R-CNN with an HRNetV2p feature pyramid, trained on COCO-format data."""
