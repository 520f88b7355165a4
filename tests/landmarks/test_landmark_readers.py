import json

import numpy as np
import pytest
import scipy.io
from PIL import Image

from hrnet_keras.landmarks import AnnotationError, read_annotations
from hrnet_keras.landmarks.readers import read_cofw_mat, read_pts, read_pts_folder, read_wflw_txt


def _json_faces(shared_data, dataset):
    folder = shared_data / "faces" / dataset
    data = json.loads((folder / f"test_{dataset}.json").read_text())
    names = {image["id"]: image["file_name"] for image in data["images"]}
    return folder, [
        (names[a["image_id"]], np.reshape(a["keypoints"], (-1, 3))[:, :2], a)
        for a in data["annotations"]
    ]


@pytest.mark.parametrize("dataset", ["wflw", "300w", "aflw"])
def test_csv_matches_json(shared_data, sample_faces, dataset):
    faces = sample_faces(dataset)
    _, expected = _json_faces(shared_data, dataset)
    assert len(faces) == len(expected)
    by_name = {}
    for name, points, annotation in expected:
        by_name.setdefault(name, []).append((points, annotation))
    for face in faces:
        candidates = by_name[face.image.split("/")[-1]]
        errors = [np.abs(face.landmarks - p).max() for p, _ in candidates]
        points, annotation = candidates[int(np.argmin(errors))]
        assert face.landmarks.shape == ({"wflw": 98, "300w": 68, "aflw": 19}[dataset], 2)
        np.testing.assert_allclose(face.landmarks, points, atol=1e-3)
        np.testing.assert_allclose(face.center, annotation["center"], atol=1e-3)
        assert face.scale == pytest.approx(annotation["scale"])
        if dataset == "aflw":
            assert face.box_size == pytest.approx(annotation["box_size"])
        else:
            assert face.box_size is None


def test_cofw_json_sample(shared_data, sample_faces):
    faces = sample_faces("cofw")
    assert len(faces) == 2 and faces[0].landmarks.shape == (29, 2)
    # Without centre/scale, the box gives them.
    data = json.loads((shared_data / "faces/cofw/test_cofw.json").read_text())
    _, _, w, h = data["annotations"][0]["bbox"]
    assert faces[0].scale == pytest.approx(max(w, h) / 200)


def test_pts_folder(shared_data, tmp_path):
    folder, expected = _json_faces(shared_data, "300w")
    for name, points, _ in expected:
        Image.open(folder / name).save(tmp_path / name)
        body = "\n".join(f"{x:.6f} {y:.6f}" for x, y in points)
        (tmp_path / name).with_suffix(".pts").write_text(
            f"version: 1\nn_points:  68\n{{\n{body}\n}}\n"
        )
    faces = read_annotations(tmp_path, 68)
    assert len(faces) == 2
    for face in faces:
        points = next(p for n, p, _ in expected if face.image.endswith(n))
        np.testing.assert_allclose(face.landmarks, points, atol=1e-4)
        x0, y0 = np.floor(points.min(0))
        x1, y1 = np.ceil(points.max(0))
        np.testing.assert_allclose(face.center, [(x0 + x1) / 2, (y0 + y1) / 2])
        assert face.scale == pytest.approx(max(x1 - x0, y1 - y0) / 200)


def test_pts_errors_name_the_file(tmp_path):
    (tmp_path / "a.pts").write_text("version: 1\nn_points: 3\n{\n1 2\n3 4\n5 6\n}\n")
    with pytest.raises(AnnotationError, match=r"a\.pts:2.*n_points=3"):
        read_pts(tmp_path / "a.pts", 68)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "b.pts").write_text("version: 1\nn_points: 2\n{\n1 2\n3 4\n}\n")
    with pytest.raises(AnnotationError, match=r"No image beside .*b\.pts"):
        read_pts_folder(tmp_path / "other", 2)


def _wflw_line(points, box, flags, name):
    values = [f"{v:.4f}" for v in np.ravel(points)] + [f"{v:.1f}" for v in box]
    return " ".join([*values, *map(str, flags), name])


def test_wflw_txt(shared_data, tmp_path):
    folder, expected = _json_faces(shared_data, "wflw")
    lines = []
    for i, (name, points, annotation) in enumerate(expected):
        (tmp_path / "WFLW_images" / "sub").mkdir(parents=True, exist_ok=True)
        Image.open(folder / name).save(tmp_path / "WFLW_images" / "sub" / name)
        x, y, w, h = annotation["bbox"]
        flags = [int(i == k) for k in range(6)]
        lines.append(_wflw_line(points, (x, y, x + w, y + h), flags, f"sub/{name}"))
    (tmp_path / "list.txt").write_text("\n".join(lines) + "\n")
    faces = read_wflw_txt(tmp_path / "list.txt", tmp_path / "WFLW_images")
    assert len(faces) == 4
    assert [sorted(f.attributes) for f in faces] == [
        ["pose"],
        ["expression"],
        ["illumination"],
        ["makeup"],
    ]
    np.testing.assert_allclose(faces[0].landmarks, expected[0][1], atol=1e-3)
    x, y, w, h = expected[0][2]["bbox"]
    np.testing.assert_allclose(faces[0].center, [x + w / 2, y + h / 2], atol=0.1)


def test_wflw_txt_errors_name_the_row(shared_data, tmp_path):
    folder, expected = _json_faces(shared_data, "wflw")
    name, points, _ = expected[0]
    Image.open(folder / name).save(tmp_path / name)
    good = _wflw_line(points, (0, 0, 10, 10), [0] * 6, name)
    short = _wflw_line(points[:97], (0, 0, 10, 10), [0] * 6, name)
    (tmp_path / "list.txt").write_text(f"{good}\n{short}\n")
    with pytest.raises(AnnotationError, match=r"list\.txt:2.*fields=205"):
        read_wflw_txt(tmp_path / "list.txt", tmp_path)
    (tmp_path / "list.txt").write_text(_wflw_line(points, (0, 0, 10, 10), [0] * 6, "missing.jpg"))
    with pytest.raises(AnnotationError, match=r"list\.txt:1 does not exist.*missing\.jpg"):
        read_wflw_txt(tmp_path / "list.txt", tmp_path)


def test_csv_errors_name_the_row(shared_data, tmp_path):
    lines = (shared_data / "faces/300w/face_landmarks_300w_test.csv").read_text().splitlines()
    (tmp_path / "indoor_029.png").write_bytes(b"")
    (tmp_path / "indoor_020.png").write_bytes(b"")
    (tmp_path / "bad.csv").write_text("\n".join([lines[0], lines[1], lines[2].rsplit(",", 2)[0]]))
    with pytest.raises(AnnotationError, match=r"bad\.csv:3.*coordinates=134"):
        read_annotations(tmp_path / "bad.csv", 68)
    (tmp_path / "missing.csv").write_text(
        "\n".join([lines[0], lines[1].replace("indoor_029", "gone")])
    )
    with pytest.raises(AnnotationError, match=r"missing\.csv:2 does not exist.*gone\.png"):
        read_annotations(tmp_path / "missing.csv", 68)


def _cofw_arrays(shared_data):
    folder, expected = _json_faces(shared_data, "cofw")
    images = np.empty((len(expected), 1), dtype=object)
    phis = np.zeros((len(expected), 87))
    for i, (name, points, _) in enumerate(expected):
        pixels = np.asarray(Image.open(folder / name))
        images[i, 0] = pixels if i == 0 else np.asarray(Image.open(folder / name).convert("L"))
        phis[i, :29], phis[i, 29:58] = points[:, 0], points[:, 1]
        phis[i, 58 + i] = 1
    return folder, expected, images, phis


def test_cofw_mat(shared_data, tmp_path):
    _, expected, images, phis = _cofw_arrays(shared_data)
    scipy.io.savemat(tmp_path / "COFW_train_color.mat", {"IsTr": images, "phisTr": phis})
    scipy.io.savemat(tmp_path / "COFW_test_color.mat", {"IsT": images, "phisT": phis})
    for name, split in (("COFW_train_color.mat", "train"), ("COFW_test_color.mat", "test")):
        faces = read_annotations(tmp_path / name, 29)
        assert len(faces) == 2 and faces[0].source.endswith(("phisTr[0]", "phisT[0]"))
        assert (
            read_cofw_mat(tmp_path / name, split)[1].landmarks.tolist()
            == faces[1].landmarks.tolist()
        )
    np.testing.assert_allclose(faces[1].landmarks, expected[1][1], atol=1e-4)
    assert faces[1].occluded.tolist() == [i == 1 for i in range(29)]
    import io

    decoded = np.asarray(Image.open(io.BytesIO(faces[0].encoded)))
    np.testing.assert_array_equal(decoded, images[0, 0])
    grey = np.asarray(Image.open(io.BytesIO(faces[1].encoded)))
    assert grey.shape[-1] == 3 and np.array_equal(grey[..., 0], grey[..., 2])


def test_cofw_mat_v73_layout(shared_data, tmp_path):
    """The colour release is MATLAB v7.3 (HDF5): column-major arrays and a cell of references."""
    h5py = pytest.importorskip("h5py")
    _, expected, images, phis = _cofw_arrays(shared_data)
    path = tmp_path / "COFW_test_color.mat"
    with h5py.File(path, "w", userblock_size=512) as f:
        refs = []
        for i in range(len(images)):
            refs.append(f.create_dataset(f"refs/{i}", data=images[i, 0].T).ref)
        f.create_dataset("IsT", data=np.array(refs, dtype=h5py.ref_dtype)[None])
        f.create_dataset("phisT", data=phis.T)
    # MATLAB's 128-byte header in the HDF5 user block: text, subsystem offset, version 2, "IM".
    header = b"MATLAB 7.3 MAT-file".ljust(116) + bytes(8) + b"\x00\x02IM"
    with open(path, "r+b") as f:
        f.write(header)
    faces = read_cofw_mat(path, "test")
    np.testing.assert_allclose(faces[0].landmarks, expected[0][1], atol=1e-4)
    import io

    np.testing.assert_array_equal(
        np.asarray(Image.open(io.BytesIO(faces[0].encoded))), images[0, 0]
    )


def test_cofw_mat_wrong_shape(tmp_path):
    images = np.empty((1, 1), dtype=object)
    images[0, 0] = np.zeros((8, 8), np.uint8)
    scipy.io.savemat(tmp_path / "c.mat", {"IsT": images, "phisT": np.zeros((1, 86))})
    with pytest.raises(AnnotationError, match=r"c\.mat.*shape=\(1, 86\)"):
        read_cofw_mat(tmp_path / "c.mat", "test")
