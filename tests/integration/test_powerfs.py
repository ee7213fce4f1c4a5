"""powerfs itself (tests/tools/powerfs): what survives a power cut is exactly
what fsync, fdatasync and directory fsync made durable; after a cut every
operation fails until the next mount; the failure injections behave as a full
disk and a failed Linux writeback do."""
import errno
import os
import subprocess

import pytest

from arborlab import wait_for
from powerfs import PowerFS, nosync_env


@pytest.fixture
def disk(lab):
    return PowerFS(lab, os.path.join(lab.mkdtemp("powerfs-mnt-"), "m"))


def put(path, data, sync=False, mode="wb"):
    with open(path, mode) as f:
        f.write(data)
        f.flush()
        if sync:
            os.fsync(f.fileno())


def sync_dir(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def after_cut(disk, torn=None):
    disk.cut(torn)
    disk.remount()
    return disk.mountpoint


def test_unsynced_write_vanishes_synced_stays(disk):
    m = disk.mountpoint
    put(f"{m}/a", b"durable", sync=True)
    sync_dir(m)
    put(f"{m}/a", b" lost", mode="ab")
    assert read(f"{m}/a") == b"durable lost", "programs see the page cache"
    after_cut(disk)
    assert read(f"{m}/a") == b"durable"


def test_fdatasync_makes_data_and_size_durable(disk):
    m = disk.mountpoint
    put(f"{m}/j", b"", sync=True)
    sync_dir(m)
    fd = os.open(f"{m}/j", os.O_WRONLY | os.O_APPEND)
    os.write(fd, b"one\n")
    os.fdatasync(fd)
    os.write(fd, b"two\n")
    os.close(fd)
    after_cut(disk)
    assert read(f"{m}/j") == b"one\n"


def test_new_file_needs_a_directory_fsync(disk):
    m = disk.mountpoint
    put(f"{m}/synced-data-only", b"x", sync=True)
    after_cut(disk)
    assert not os.path.exists(f"{m}/synced-data-only"), "fsync of a file does not make its name durable"
    put(f"{m}/named", b"x", sync=True)
    sync_dir(m)
    after_cut(disk)
    assert read(f"{m}/named") == b"x"


def test_name_without_data_is_an_empty_file(disk):
    m = disk.mountpoint
    put(f"{m}/f", b"never synced")
    sync_dir(m)
    after_cut(disk)
    assert read(f"{m}/f") == b"", "the name was durable, the data was not"


def test_rename_before_directory_fsync_vanishes(disk):
    m = disk.mountpoint
    put(f"{m}/state", b"old", sync=True)
    sync_dir(m)
    put(f"{m}/.tmp", b"new", sync=True)
    os.rename(f"{m}/.tmp", f"{m}/state")
    assert read(f"{m}/state") == b"new"
    after_cut(disk)
    assert read(f"{m}/state") == b"old" and sorted(os.listdir(m)) == ["state"]
    put(f"{m}/.tmp", b"new", sync=True)
    os.rename(f"{m}/.tmp", f"{m}/state")
    sync_dir(m)
    after_cut(disk)
    assert read(f"{m}/state") == b"new" and sorted(os.listdir(m)) == ["state"]


def test_rename_of_unsynced_data_is_the_classic_empty_file(disk):
    """The bug the atomic-replace protocol exists for: rename and directory
    fsync without fsync of the new file's data."""
    m = disk.mountpoint
    put(f"{m}/state", b"old", sync=True)
    sync_dir(m)
    put(f"{m}/.tmp", b"new")
    os.rename(f"{m}/.tmp", f"{m}/state")
    sync_dir(m)
    after_cut(disk)
    assert read(f"{m}/state") == b""


def test_unlink_before_directory_fsync_comes_back(disk):
    m = disk.mountpoint
    put(f"{m}/f", b"x", sync=True)
    sync_dir(m)
    os.unlink(f"{m}/f")
    after_cut(disk)
    assert read(f"{m}/f") == b"x"
    os.unlink(f"{m}/f")
    sync_dir(m)
    after_cut(disk)
    assert not os.path.exists(f"{m}/f")


def test_directories_links_and_symlinks(disk):
    m = disk.mountpoint
    os.mkdir(f"{m}/d")
    put(f"{m}/d/f", b"data", sync=True)
    os.link(f"{m}/d/f", f"{m}/d/g")
    os.symlink("f", f"{m}/d/s")
    sync_dir(f"{m}/d")
    after_cut(disk)
    assert not os.path.exists(f"{m}/d"), "the new directory's own name was never synced"
    os.mkdir(f"{m}/d")
    put(f"{m}/d/f", b"data", sync=True)
    os.link(f"{m}/d/f", f"{m}/d/g")
    os.symlink("f", f"{m}/d/s")
    sync_dir(f"{m}/d")
    sync_dir(m)
    after_cut(disk)
    assert read(f"{m}/d/g") == b"data" and os.readlink(f"{m}/d/s") == "f"
    assert os.stat(f"{m}/d/f").st_ino == os.stat(f"{m}/d/g").st_ino and os.stat(f"{m}/d/f").st_nlink == 2
    with pytest.raises(OSError) as e:
        os.rmdir(f"{m}/d")
    assert e.value.errno == errno.ENOTEMPTY
    with pytest.raises(OSError) as e:
        os.rename(f"{m}/d/f", f"{m}/f")
    assert e.value.errno == errno.EXDEV, "renames between directories are refused (see model.h)"


def test_io_is_refused_after_the_cut_until_remounted(disk):
    m = disk.mountpoint
    put(f"{m}/f", b"x", sync=True)
    sync_dir(m)
    fd = os.open(f"{m}/f", os.O_WRONLY | os.O_APPEND)
    disk.cut()
    for attempt in (lambda: os.write(fd, b"y"), lambda: os.fsync(fd), lambda: os.listdir(m),
                    lambda: open(f"{m}/new", "w"), lambda: os.statvfs(m)):
        with pytest.raises(OSError) as e:
            attempt()
        assert e.value.errno == errno.EIO
    with pytest.raises(OSError):
        os.close(fd)  # its flush fails too; the descriptor is closed anyway
    assert disk.counters()["dead"] == 1
    with pytest.raises(OSError):
        disk.cut()
    disk.remount()
    assert read(f"{m}/f") == b"x" and disk.counters()["dead"] == 0


def test_clean_unmount_keeps_everything(disk):
    m = disk.mountpoint
    put(f"{m}/f", b"unsynced")
    disk.remount()
    assert read(f"{m}/f") == b"unsynced"


def test_torn_cut_keeps_a_prefix_of_the_unsynced_writes(disk):
    m = disk.mountpoint
    line = b"".join(b"%05d\n" % i for i in range(2000))
    kept = set()
    for seed in range(1, 9):
        put(f"{m}/log", b"head\n", sync=True)
        sync_dir(m)
        put(f"{m}/log", line, mode="ab")
        after_cut(disk, torn=seed)
        got = read(f"{m}/log")
        assert got.startswith(b"head\n") and (b"head\n" + line).startswith(got), "a prefix, nothing else"
        kept.add(len(got))
    assert len(kept) > 3, f"the cut point varies with the seed: {sorted(kept)}"


def test_full_disk_gives_a_short_write_then_enospc(disk):
    m = disk.mountpoint
    fd = os.open(f"{m}/f", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.write(fd, b"0123")
    disk.command("full 6")
    assert os.write(fd, b"abcdefghij") == 6, "what fits is written"
    with pytest.raises(OSError) as e:
        os.write(fd, b"x")
    assert e.value.errno == errno.ENOSPC
    os.ftruncate(fd, 4)  # space comes back by truncating
    assert os.write(fd, b"ab") == 2
    disk.command("full off")
    assert os.write(fd, b"cdefghijklmnop") == 14
    os.close(fd)
    assert read(f"{m}/f") == b"0123abcdefghijklmnop"
    assert disk.counters()["enospc"] == 1


def test_faults_aimed_at_one_file(disk):
    m = disk.mountpoint
    put(f"{m}/target", b"", sync=True)
    put(f"{m}/other", b"", sync=True)
    disk.command("full 2 target")
    put(f"{m}/other", b"unlimited")
    fd = os.open(f"{m}/target", os.O_WRONLY | os.O_APPEND)
    assert os.write(fd, b"abc") == 2
    os.close(fd)
    disk.command("full off")
    disk.command("fail-sync 1 target")
    put(f"{m}/other", b"synced", sync=True)
    with pytest.raises(OSError) as e:
        put(f"{m}/target", b"x", sync=True)
    assert e.value.errno == errno.EIO
    with pytest.raises(OSError) as e:
        disk.command("full 1 no/such/file")
    assert e.value.errno == errno.EINVAL


def test_failed_sync_loses_its_data_like_linux(disk):
    """After a failed writeback Linux marks the pages clean: the next fsync
    succeeds, yet the data never reached the disk, and the file size did."""
    m = disk.mountpoint
    put(f"{m}/j", b"first\n", sync=True)
    sync_dir(m)
    fd = os.open(f"{m}/j", os.O_WRONLY | os.O_APPEND)
    os.write(fd, b"second\n")
    disk.command("fail-sync 1")
    with pytest.raises(OSError) as e:
        os.fdatasync(fd)
    assert e.value.errno == errno.EIO
    os.fdatasync(fd)  # nothing left to write: it succeeds
    os.write(fd, b"third\n")
    os.fdatasync(fd)
    os.close(fd)
    assert read(f"{m}/j") == b"first\nsecond\nthird\n", "the page cache still shows it"
    after_cut(disk)
    assert read(f"{m}/j") == b"first\n" + bytes(7) + b"third\n", "a hole where the lost write was"


def test_nosync_shim_makes_fsync_a_no_op(disk):
    """The control runs' shim: the same program, with the shim, loses its data;
    with fdatasync alone disabled, it keeps what fsync made durable."""
    m = disk.mountpoint
    code = ("import os,sys\nfd=os.open(sys.argv[1],os.O_WRONLY|os.O_CREAT,0o644)\nos.write(fd,b'synced')\n"
            "os.fsync(fd)\nos.write(fd,b' datasynced')\nos.fdatasync(fd)\nos.close(fd)\n"
            "d=os.open(os.path.dirname(sys.argv[1]),os.O_RDONLY)\nos.fsync(d)\n")
    subprocess.run(["/usr/bin/python3", "-c", code, f"{m}/with"], check=True)
    subprocess.run(["env", *nosync_env(), "/usr/bin/python3", "-c", code, f"{m}/without"], check=True)
    subprocess.run(["env", *nosync_env("fdatasync"), "/usr/bin/python3", "-c", code, f"{m}/fsync-only"], check=True)
    after_cut(disk)
    assert read(f"{m}/with") == b"synced datasynced" and read(f"{m}/fsync-only") == b"synced"
    assert read(f"{m}/without") == b"", "its name is durable (the others synced the directory), its data never was"


def test_backing_directory_is_the_disk(lab):
    """What a mount starts from: the backing directory's files, links and modes."""
    backing = lab.mkdtemp("powerfs-disk-")
    os.mkdir(f"{backing}/sub", 0o750)
    put(f"{backing}/sub/f", b"on disk")
    os.link(f"{backing}/sub/f", f"{backing}/sub/g")
    os.chmod(f"{backing}/sub/f", 0o640)
    disk = PowerFS(lab, os.path.join(lab.mkdtemp("powerfs-mnt-"), "m"), backing=backing)
    m = disk.mountpoint
    assert read(f"{m}/sub/g") == b"on disk"
    assert os.stat(f"{m}/sub/f").st_mode & 0o777 == 0o640 and os.stat(f"{m}/sub").st_mode & 0o777 == 0o750
    put(f"{m}/sub/h", b"new")
    disk.cut()
    wait_for(lambda: sorted(os.listdir(f"{backing}/sub")) == ["f", "g"], 5, "the disk to hold the durable state")
    assert os.stat(f"{backing}/sub/f").st_ino == os.stat(f"{backing}/sub/g").st_ino
