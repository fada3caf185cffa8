"""Ground-truth CSVs as they come from elsewhere, matched to a scanned folder."""
import os

import numpy as np
import pytest

from labeler.label_csv import TruthWarning, match_truth, read_truth_csv

FOLDER = [f"{cls}/{i:02d}.png" for cls in ("cat", "dog") for i in range(6)]


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def _truth_rows(name_of, sep=","):
    return "\n".join(f"{name_of(p)}{sep}{p.split('/')[0]}" for p in FOLDER) + "\n"


def _expected():
    return {p: p.split("/")[0] for p in FOLDER}


@pytest.mark.parametrize("header", ["path,label", "filename,class", "Image,Category", "id,target", "img,breed",
                                    "Image File,True Label"])
def test_header_names_in_common_use(tmp_path, header):
    csv_path = _write(tmp_path / "t.csv", header + "\n" + _truth_rows(lambda p: p))
    assert match_truth(read_truth_csv(csv_path), str(tmp_path), FOLDER) == _expected()


def test_label_column_first_and_extra_columns(tmp_path):
    rows = "".join(f"{p.split('/')[0]},0.9,{p}\n" for p in FOLDER)
    csv_path = _write(tmp_path / "t.csv", "label,score,file_path\n" + rows)
    assert match_truth(read_truth_csv(csv_path), str(tmp_path), FOLDER) == _expected()
    rows3 = "".join(f"{p.split('/')[0]},{p},0.9\n" for p in FOLDER)
    csv_path = _write(tmp_path / "u.csv", "Class Name,Image Path,score\n" + rows3)
    assert match_truth(read_truth_csv(csv_path), str(tmp_path), FOLDER) == _expected()


def test_no_header_and_tab_or_semicolon_separated(tmp_path):
    for sep in (",", "\t", ";"):
        csv_path = _write(tmp_path / "t.csv", _truth_rows(lambda p: p, sep))
        truth = read_truth_csv(csv_path)
        assert len(truth) == len(FOLDER)
        assert match_truth(truth, str(tmp_path), FOLDER) == _expected()


def test_byte_order_mark_windows_separators_and_dot_prefix(tmp_path):
    text = "\ufeffpath,label\n" + _truth_rows(lambda p: ".\\" + p.replace("/", "\\"))
    csv_path = _write(tmp_path / "t.csv", text)
    assert match_truth(read_truth_csv(csv_path), str(tmp_path), FOLDER) == _expected()


def test_names_relative_to_the_csv_absolute_prefixed_or_bare(tmp_path):
    root = tmp_path / "data" / "img"
    for p in FOLDER:
        (root / p).parent.mkdir(parents=True, exist_ok=True)
        (root / p).write_bytes(b"x")
    styles = {
        "relative to the CSV": (tmp_path / "data" / "t.csv", lambda p: "img/" + p),
        "absolute": (tmp_path / "t.csv", lambda p: str(root / p)),
        "the folder's name in front": (tmp_path / "elsewhere.csv", lambda p: "dataset/img/" + p),
    }
    for why, (csv_file, name_of) in styles.items():
        truth = read_truth_csv(_write(csv_file, "path,label\n" + _truth_rows(name_of)))
        assert match_truth(truth, str(root), FOLDER) == _expected(), why
    # bare file names match where the name is unique in the folder (here it is not: cat/00 and dog/00)
    flat = [f"{cls}_{i:02d}.png" for cls in ("cat", "dog") for i in range(6)]
    nested = ["a/" + f for f in flat]
    csv_path = _write(tmp_path / "bare.csv", "file,label\n" + "".join(f"{f},{f[:3]}\n" for f in flat))
    assert match_truth(read_truth_csv(csv_path), str(tmp_path), nested) == {"a/" + f: f[:3] for f in flat}
    ids = _write(tmp_path / "ids.csv", "id,label\n" + "".join(f"{f[:-4]},{f[:3]}\n" for f in flat))
    assert match_truth(read_truth_csv(ids), str(tmp_path), nested) == {"a/" + f: f[:3] for f in flat}
    # a name with a folder is only found by that path's tail, never by its bare file name
    other = _write(tmp_path / "other.csv", "file,label\n" + "".join(f"b/{f},{f[:3]}\n" for f in flat))
    with pytest.raises(ValueError, match="only 0 of the 12 images"):
        match_truth(read_truth_csv(other), str(tmp_path), nested)


def test_a_real_file_outside_the_folder_is_not_matched_to_a_namesake_inside(tmp_path):
    for part in ("train", "test"):
        for p in FOLDER:
            (tmp_path / part / p).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / part / p).write_bytes(b"x")
    rows = "".join(f"{part}/{p},{part}-{p.split('/')[0]}\n" for part in ("train", "test") for p in FOLDER)
    truth = read_truth_csv(_write(tmp_path / "t.csv", "path,label\n" + rows))
    with pytest.warns(TruthWarning, match="12 of 24 ground-truth rows name no readable image"):
        matched = match_truth(truth, str(tmp_path / "train"), FOLDER)
    assert set(matched.values()) == {"train-cat", "train-dog"}


def test_a_spreadsheet_saved_in_windows_code_page(tmp_path):
    folder = ["café/1.png", "café/2.png"] + [f"thé/{i}.png" for i in range(8)]
    (tmp_path / "t.csv").write_bytes(("path;label\r\n" + "".join(f"{p};{p[:-6]}\r\n" for p in folder)).encode("cp1252"))
    matched = match_truth(read_truth_csv(str(tmp_path / "t.csv")), str(tmp_path), folder)
    assert matched["café/2.png"] == "café" and len(matched) == 10


def test_unicode_names_and_empty_labels(tmp_path):
    folder = [f"ñandú/{i}.png" for i in range(8)] + [f"日本/{i}.png" for i in range(8)] + ["unlabelled.png"]
    rows = "".join(f"{p},{p.split('/')[0]}\n" for p in folder[:-1]) + "unlabelled.png,\n"
    truth = read_truth_csv(_write(tmp_path / "t.csv", "path,label\n" + rows))
    matched = match_truth(truth, str(tmp_path), folder)
    assert len(matched) == 16 and "unlabelled.png" not in matched and matched["日本/3.png"] == "日本"


def test_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="cannot tell which column"):
        read_truth_csv(_write(tmp_path / "a.csv", "x,y,z\n1,2,3\n"))
    with pytest.raises(ValueError, match="two different labels"):
        read_truth_csv(_write(tmp_path / "b.csv", "path,label\na.png,cat\na.png,dog\n"))
    with pytest.raises(ValueError, match="empty"):
        read_truth_csv(_write(tmp_path / "c.csv", "\n\n"))
    truth = read_truth_csv(_write(tmp_path / "d.csv", "path,label\n" + _truth_rows(lambda p: "other/" + p + ".jpg")))
    with pytest.raises(ValueError, match=r"only 0 of the 12 images .* the CSV names e\.g\. 'other/cat/00\.png\.jpg'"
                                         r".* the folder holds e\.g\. 'cat/00\.png'"):
        match_truth(truth, str(tmp_path), FOLDER)


def test_the_matcher_says_which_rows_it_matched_by_a_bare_name_only(tmp_path):
    from labeler.label_csv import ImageMatcher
    matcher = ImageMatcher(str(tmp_path), ["cat/a1.png", "dog/b7.png", "x.png", "cat/00.png", "dog/00.png"])
    assert matcher.find_how("cat/a1.png") == ("cat/a1.png", "path")
    assert matcher.find_how("/elsewhere/dog/b7.png") == ("dog/b7.png", "path")
    assert matcher.find_how("dog/b7") == ("dog/b7.png", "path")
    assert matcher.find_how("x.png") == ("x.png", "path")
    assert matcher.find_how("a1.png") == ("cat/a1.png", "name")
    assert matcher.find_how("b7") == ("dog/b7.png", "name")
    assert matcher.find_how("00.png") == (None, "")  # two images have that name: neither
    assert matcher.find("a1.png") == "cat/a1.png"


def test_images_data_splits_a_folder_whose_truth_has_a_class_of_one(tmp_path):
    from PIL import Image

    from labeler.simulate import images_data
    rng = np.random.default_rng(0)
    rows = []
    for cls, count in (("a", 12), ("b", 12), ("c", 1)):
        for i in range(count):
            name = f"{cls}{i}.png"
            Image.fromarray(rng.integers(0, 255, (16, 16), dtype=np.uint8)).save(tmp_path / name)
            rows.append(f"{name},{cls}")
    csv_path = _write(tmp_path / "truth.tsv", "\n".join(rows) + "\n")
    data = images_data(str(tmp_path), read_truth_csv(csv_path), features="pixels", seed=0)
    assert "c" in set(data.y_pool) and "c" not in set(data.y_test)
    assert len(data.y_pool) + len(data.y_test) == 25 and sorted(set(data.y_test)) == ["a", "b"]
    assert os.path.basename(data.scan.root) == os.path.basename(str(tmp_path))


def test_import_takes_another_tools_layout(clustered_session, tmp_path):
    """Labels made elsewhere: a `filename;class` header, absolute and bare names, a row for
    an image the session does not have, one without a label: each problem says its line."""
    session, _ = clustered_session
    first, second, third = session.images[3].path, session.images[4].path, session.images[5].path
    rows = [f"{os.path.join(session.root, *first.split('/'))};cat",
            f"{second.split('/')[-1]};dog", f"elsewhere/{third}; bird ", "no/such.png;cat", f"{first};"]
    csv_path = _write(tmp_path / "other.csv", "filename;class\n" + "\n".join(rows) + "\n")
    result = session.import_csv(csv_path)
    assert result.imported == 3
    assert [session.label_of(i).label for i in (3, 4, 5)] == ["cat", "dog", "bird"]
    assert result.problems == ["line 6: " + first + " has no label", "line 5: no/such.png: not in this session"]
