"""A mobile app's side of the face-landmark `.tflite` contract, runnable on a desktop.

Needs only NumPy, Pillow and LiteRT (`pip install ai-edge-litert`): no TensorFlow, no
hrnet_keras. An Android/iOS app does the same three steps with its own image API:

1. Crop: the face box (x, y, w, h) from a face detector becomes a square of side
   `1.25 * max(w, h)` around the box centre, warped (bilinear) to the model's 256x256 input.
   Pass the crop as uint8 RGB, `[1, 256, 256, 3]`, no normalisation (it is in the graph).
2. Run the signature: outputs `landmarks`, float32 `[1, K, 2]`, x and y in crop pixels
   (pixel centres at integer coordinates); `heatmaps` `[1, 64, 64, K]` when exported with
   `--heatmaps`.
3. Map back: `image_xy = (crop_xy - 127.5) * side / 256 + centre`.

    python export/face_landmarks_on_device.py face.tflite photo.jpg --box 432,113,101,101 \\
        --out photo_landmarks.png
"""

import argparse

import numpy as np
from PIL import Image, ImageDraw

MARGIN = 1.25


def crop_face(image, box, size):
    """The uint8 `(size, size, 3)` crop of `box` and the `(centre, side)` that undo it."""
    x, y, w, h = box
    centre = np.array([x + w / 2.0, y + h / 2.0])
    side = MARGIN * max(w, h)
    zoom = side / size
    # Pillow's affine maps output to input in pixel-corner coordinates (centres at +0.5);
    # the model's coordinates put pixel centres at integers, hence the half-pixel terms.
    offset = centre - (size - 1) / 2.0 * zoom + 0.5 - 0.5 * zoom
    crop = image.convert("RGB").transform(
        (size, size),
        Image.Transform.AFFINE,
        (zoom, 0.0, offset[0], 0.0, zoom, offset[1]),
        resample=Image.Resampling.BILINEAR,
        fillcolor=(0, 0, 0),
    )
    return np.asarray(crop, dtype=np.uint8), centre, side


def crop_to_image(points, centre, side, size):
    """Landmarks from crop pixels back to the photo's pixels."""
    return (points - (size - 1) / 2.0) * (side / size) + centre


def run(model_path, image_path, box, num_threads=2):
    """The landmarks `(K, 2)` of the face in `box` of the photo, in photo pixels."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=model_path, num_threads=num_threads)
    runner = interpreter.get_signature_runner()
    (input_name,) = runner.get_input_details()
    details = runner.get_input_details()[input_name]
    size = int(details["shape"][1])
    assert details["dtype"] == np.uint8, "the contract's input is uint8 RGB"
    crop, centre, side = crop_face(Image.open(image_path), box, size)
    outputs = runner(**{input_name: crop[None]})
    return crop_to_image(outputs["landmarks"][0], centre, side, size)


def main():
    parser = argparse.ArgumentParser(description="Run a face-landmark .tflite on one face.")
    parser.add_argument("model", help="the .tflite file (hrnet-keras export --format tflite)")
    parser.add_argument("image", help="a photo")
    parser.add_argument("--box", required=True, help="the face box x,y,w,h in photo pixels")
    parser.add_argument("--out", default=None, help="write the photo with the landmarks here")
    args = parser.parse_args()
    box = [float(v) for v in args.box.split(",")]
    landmarks = run(args.model, args.image, box)
    for x, y in landmarks:
        print(f"{x:.2f} {y:.2f}")
    if args.out:
        picture = Image.open(args.image).convert("RGB")
        draw = ImageDraw.Draw(picture)
        r = max(1, round(max(picture.size) / 300))
        for x, y in landmarks:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(0, 255, 0))
        picture.save(args.out)


if __name__ == "__main__":
    main()
