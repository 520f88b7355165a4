"""`hrnet-keras convert CHECKPOINT OUTPUT.keras`: a published PyTorch checkpoint to Keras."""

from hrnet_keras.convert.detect import KINDS


def _width(value):
    return int(value) if value.isdigit() else value


def add_arguments(parser):
    parser.add_argument("checkpoint", help="PyTorch checkpoint (.pth, .pt, .bin, .safetensors)")
    parser.add_argument("output", help="the .keras file to write")
    parser.add_argument(
        "--model",
        choices=KINDS,
        default=None,
        help="kind of model (default: from the checkpoint's head keys); a Faster R-CNN "
        "checkpoint also converts to hrnetv2p (backbone and neck) or backbone",
    )
    parser.add_argument(
        "--width",
        type=_width,
        default=None,
        help="18, 30, 32, 40, 44, 48, 64, 18-small-v1 or 18-small-v2 (default: from the shapes)",
    )
    parser.add_argument(
        "--num-classes",
        type=int,
        default=None,
        help="classes of the head, a detector's without background (default: from the "
        "checkpoint; with --drop-head, the new head)",
    )
    parser.add_argument(
        "--upsample",
        choices=("nearest", "bilinear"),
        default=None,
        help="fusion upsampling (default: nearest for classifier/hrnetv2p/faster_rcnn/"
        "backbone, bilinear for segmenter/landmarker)",
    )
    parser.add_argument(
        "--align-corners",
        action="store_true",
        default=None,
        help="bilinear align_corners=True (the HRNet-OCR branch's segmentation checkpoints)",
    )
    parser.add_argument(
        "--bn-momentum",
        type=float,
        default=None,
        help="Keras BN momentum (default: 0.9 for nearest kinds, 0.99 for bilinear kinds)",
    )
    parser.add_argument(
        "--drop-head",
        action="store_true",
        help="leave the final classification layer (a detector's fc_cls and fc_reg) random, "
        "for fine-tuning on new classes",
    )
    parser.add_argument(
        "--no-strict",
        dest="strict",
        action="store_false",
        help="fill what fits and report the rest instead of failing",
    )


def run(args):
    from hrnet_keras.cli import CommandFailed
    from hrnet_keras.cli.recipe_args import require_file
    from hrnet_keras.convert import convert_checkpoint

    require_file(args.checkpoint, "CHECKPOINT")
    try:
        model, report = convert_checkpoint(
            args.checkpoint,
            args.output,
            model=args.model,
            width=args.width,
            num_classes=args.num_classes,
            upsample=args.upsample,
            align_corners=args.align_corners,
            bn_momentum=args.bn_momentum,
            drop_head=args.drop_head,
            strict=args.strict,
        )
    except (ValueError, ImportError) as error:
        # The checkpoint does not convert (not HRNet, truncated, another width): a failure
        # of the run, not of the command line.
        raise CommandFailed(error) from error
    print(f"wrote {args.output}: {model.name}, {report.filled} weights from {args.checkpoint}")
    for note in report.notes:
        print(f"  note: {note}")
    if report.skipped:
        print(f"  left randomly initialised: {', '.join(report.skipped)}")
    for title in ("missing", "unexpected", "mismatched"):
        items = getattr(report, title)
        if items:
            print(f"  {title} ({len(items)}): {', '.join(items[:8])}")
    return 0
