"""Atomic outputs: nothing half-written under a final name, nothing existing destroyed."""

from __future__ import annotations

import os
import stat

import pytest

from twilio_frames.output.outputs import atomic_file, atomic_folder, check_output


def test_atomic_file_appears_only_when_complete(tmp_path):
    final = tmp_path / "calls.csv"
    with atomic_file(final) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".csv" and tmp.name.startswith(".")
        tmp.write_text("a\n")
        assert not final.exists()
    assert final.read_text() == "a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["calls.csv"]


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
def test_atomic_file_failure_keeps_old_content_and_leaves_no_temp(tmp_path, error):
    final = tmp_path / "calls.csv"
    final.write_text("old\n")
    with pytest.raises(type(error)):
        with atomic_file(final, overwrite=True) as tmp:
            tmp.write_text("half")
            raise error
    assert final.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["calls.csv"]


def test_existing_file_is_refused_without_overwrite(tmp_path):
    final = tmp_path / "calls.csv"
    final.write_text("old\n")
    with pytest.raises(FileExistsError, match="already exists"):
        with atomic_file(final):
            pytest.fail("must not start writing")
    assert final.read_text() == "old\n"


def test_atomic_folder_replaces_only_on_success(tmp_path):
    final = tmp_path / "report"
    final.mkdir()
    (final / "old.txt").write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_folder(final, overwrite=True) as tmp:
            (tmp / "index.html").write_text("half")
            raise KeyboardInterrupt
    assert [p.name for p in final.iterdir()] == ["old.txt"]
    with atomic_folder(final, overwrite=True) as tmp:
        (tmp / "index.html").write_text("new")
    assert [p.name for p in final.iterdir()] == ["index.html"]
    assert [p.name for p in tmp_path.iterdir()] == ["report"]


def test_folder_where_a_file_is_is_refused_even_with_overwrite(tmp_path):
    target = tmp_path / "report"
    target.write_text("precious")
    with pytest.raises(NotADirectoryError, match="is a file"):
        check_output(target, folder=True, overwrite=True)
    assert target.read_text() == "precious"


def test_file_where_a_folder_is_is_refused(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder"):
        check_output(tmp_path, folder=False, overwrite=True)


@pytest.mark.parametrize("write", [lambda p: atomic_folder(p), lambda p: atomic_file(p)])
def test_a_missing_parent_folder_is_named_not_created(tmp_path, write):
    """Issue 8.12: a typo in --out (``reprots/oct``) made folders; now it is refused."""
    final = tmp_path / "a" / "b" / "report"
    with pytest.raises(FileNotFoundError, match="folder does not exist") as error:
        with write(final):
            pytest.fail("must not start writing")
    assert error.value.filename == str(tmp_path / "a" / "b")
    assert list(tmp_path.iterdir()) == []


def test_outputs_get_the_usual_permissions_not_private_temp_ones(tmp_path):
    mask = os.umask(0o022)
    try:
        with atomic_file(tmp_path / "a.csv") as tmp:
            tmp.write_text("x")
        with atomic_folder(tmp_path / "report") as tmp:
            (tmp / "index.html").write_text("x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "a.csv").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "report").stat().st_mode) == 0o755


def test_outputs_never_touch_the_process_umask(tmp_path, monkeypatch):
    """Reading the umask means setting it (os.umask) for a moment: another thread creating
    a file then would get the wrong mode. Creation modes must come from the kernel."""
    def forbidden(_mask):
        raise AssertionError("os.umask called")
    monkeypatch.setattr(os, "umask", forbidden)
    with atomic_file(tmp_path / "a.csv") as tmp:
        tmp.write_text("x")
    with atomic_folder(tmp_path / "report") as tmp:
        (tmp / "index.html").write_text("x")
    with atomic_folder(tmp_path / "report", overwrite=True) as tmp:
        (tmp / "index.html").write_text("y")
    assert (tmp_path / "report" / "index.html").read_text() == "y"
    assert (tmp_path / "a.csv").read_text() == "x"


def test_marked_folder_is_replaced_unmarked_non_empty_one_is_not(tmp_path):
    mine, theirs, empty = tmp_path / "mine", tmp_path / "theirs", tmp_path / "empty"
    with atomic_folder(mine, marker=".made-by-us") as tmp:
        (tmp / "a").write_text("1")
    assert sorted(p.name for p in mine.iterdir()) == [".made-by-us", "a"]
    with atomic_folder(mine, overwrite=True, marker=".made-by-us") as tmp:
        (tmp / "b").write_text("2")
    assert sorted(p.name for p in mine.iterdir()) == [".made-by-us", "b"]
    theirs.mkdir()
    (theirs / "photo.jpg").write_text("x")
    with pytest.raises(FileExistsError, match="refusing to replace it"):
        with atomic_folder(theirs, overwrite=True, marker=".made-by-us"):
            pytest.fail("must not start writing")
    assert [p.name for p in theirs.iterdir()] == ["photo.jpg"]
    empty.mkdir()
    with atomic_folder(empty, overwrite=True, marker=".made-by-us") as tmp:
        (tmp / "c").write_text("3")
    assert (empty / "c").read_text() == "3"


def test_overwriting_a_file_replaces_only_that_name(tmp_path):
    """A symlink named as the output is replaced by the new file; its target and the
    neighbours stay as they were."""
    target = tmp_path / "elsewhere.csv"
    target.write_text("precious")
    (tmp_path / "neighbour.csv").write_text("n")
    link = tmp_path / "out.csv"
    link.symlink_to(target)
    with atomic_file(link, overwrite=True) as tmp:
        tmp.write_text("new")
    assert not link.is_symlink() and link.read_text() == "new"
    assert target.read_text() == "precious"
    assert (tmp_path / "neighbour.csv").read_text() == "n"


def test_a_parent_that_is_a_file_or_a_dangling_link_is_refused_before_any_work(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    for folder in (True, False):
        with pytest.raises(NotADirectoryError) as info:
            check_output(afile / "sub" / "deeper", folder=folder)
        assert info.value.filename == str(afile)
    dangling = tmp_path / "link"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="dangling symbolic link"):
        check_output(dangling, folder=True, overwrite=True)
    with pytest.raises(FileNotFoundError, match="folder does not exist"):
        check_output(tmp_path / "new" / "sub", folder=True)
    assert check_output(tmp_path / "new", folder=True) == tmp_path / "new"
