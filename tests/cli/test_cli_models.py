"""The `hrnet-keras` dispatcher and the `models` table."""

from hrnet_keras.cli import main


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("demo", "models", "convert", "train", "evaluate", "predict", "export"):
        assert f"  {command}" in out


def test_unknown_command(capsys):
    assert main(["fly"]) == 2
    assert "unknown command 'fly'" in capsys.readouterr().err


def test_models_table(capsys):
    assert main(["models", "--only", "w18_small_v1"]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("hrnet")]
    assert [line.split()[0] for line in lines] == [
        "hrnet_w18_small_v1_c",
        "hrnetv2_w18_small_v1_cityscapes",
    ]
    classifier = lines[0].split()
    assert classifier[2] == classifier[3] == "13,187,464"
    assert classifier[6] == "1.49"  # measured GFLOPs (multiply-adds / 2^30)


def test_models_unknown_filter(capsys):
    assert main(["models", "--only", "w7", "--no-flops"]) == 2
    assert "hrnet-keras models: error: No variant name contains 'w7'" in capsys.readouterr().err


def test_a_detector_is_counted_with_roi_aligns_static_pass():
    """The table's count of a detector row: its exact RoIAlign loop has no static shapes."""
    from hrnet_keras.cli.models import _static_roi_align
    from hrnet_keras.models import faster_rcnn, multiply_adds

    shape = (64, 96, 3)
    model = faster_rcnn(
        width="18-small-v1",
        num_classes=3,
        channels=16,
        rpn_channels=16,
        fc_channels=32,
        input_shape=shape,
    )
    _static_roi_align(model)
    assert multiply_adds(model, shape) > multiply_adds(model.backbone, shape) > 0
