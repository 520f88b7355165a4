"""Two-stage object detection (Faster R-CNN) on HRNetV2p feature pyramids."""
