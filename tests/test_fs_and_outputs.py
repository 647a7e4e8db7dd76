"""Filesystem safety (only regular files opened, symlinks kept inside, unreadable = high, odd names kept),
outputs (atomic, regular files only), and the CLI's behaviour (quiet, exit codes, Ctrl-C and SIGTERM).
Issue 10, items 3, 4 and 6."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import builders
import pytest
from conftest import REAL

import aitrail
from aitrail import digest, inputs, output
from aitrail.cli import main
from aitrail.model import RelationshipKind

SILERO = REAL / "silero-vad" / "silero_vad" / "data" / "silero_vad.onnx"
ROOT = Path(__file__).resolve().parents[1]


def small_model(d: Path) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    builders.safetensors_file(d / "model.safetensors")
    (d / "config.json").write_text(json.dumps({"architectures": ["TinyModel"], "model_type": "tiny"}))
    (d / "README.md").write_text("---\nlicense: mit\n---\n# tiny\n\nA tiny model for tests.\n")
    return d


def cli(*args: str, timeout: float = 60, **kw) -> subprocess.CompletedProcess[str]:
    """The command in its own process, with a bound: a hang fails the test instead of the suite."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(
        [sys.executable, "-m", "aitrail.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        **kw,
    )


def rules(inv) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in inv.findings:
        out.setdefault(f.rule, []).append(f)
    return out


def paths(inv) -> set[str]:
    return {c.path for c in inv.components if c.path}


def no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.rglob("*") if p.name.endswith(".aitrail-tmp")]


# -- 1. only regular files are opened ----------------------------------------------------------------
def test_walk_reports_a_fifo_and_never_opens_it(tmp_path, monkeypatch):
    d = small_model(tmp_path / "m")
    (d / "config.json").unlink()
    os.mkfifo(d / "config.json")
    monkeypatch.setattr("builtins.open", lambda *a, **k: pytest.fail(f"walk opened {a[0]}"))
    files, findings = inputs.walk(inputs.Unit(root=d, prefix=""))
    assert d / "config.json" not in files
    [f] = findings
    assert (f.rule, f.severity, f.path) == ("scan.not-regular-file", "medium", "config.json")
    assert "never opened" in f.message


def test_fifo_named_config_json_hangs_no_command(tmp_path):
    d = small_model(tmp_path / "m")
    (d / "config.json").unlink()
    os.mkfifo(d / "config.json")
    for cmd in (["security", str(d), "-f", "json"], ["scan", str(d), "-f", "json"], ["check", str(d), "-f", "json"]):
        r = cli(*cmd, timeout=30)  # would block forever on open()
        assert r.returncode in (0, 1), r.stderr
        json.loads(r.stdout)
    doc = json.loads(cli("scan", str(d), "-f", "json").stdout)
    [f] = [f for f in doc["findings"] if f["rule"] == "scan.not-regular-file"]
    assert f["severity"] == "medium" and f["path"] == "config.json" and "never opened" in f["message"]


def test_a_socket_and_a_link_to_a_device_are_not_read(tmp_path):
    d = small_model(tmp_path / "m")
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(d / "s.sock"))
        os.symlink("/dev/zero", d / "zeros.bin")  # outside the folder, and a device
        inv = aitrail.scan(d, follow_symlinks=True)  # even when following links, a device is never read
    finally:
        sock.close()
    found = {f.path for f in rules(inv)["scan.not-regular-file"]}
    assert found == {"s.sock", "zeros.bin"}
    assert "zeros.bin" not in paths(inv)


@pytest.mark.parametrize("cmd", ["security", "scan", "check", "licenses", "openness"])
def test_a_device_target_exits_2_before_reading(cmd):
    r = cli(cmd, "/dev/zero")  # `security /dev/zero` used to read forever
    assert r.returncode == 2, r.stderr
    assert "/dev/zero" in r.stderr and "not a regular file" in r.stderr


def test_file_arguments_that_are_pipes_are_refused(tmp_path, capsys):
    d = small_model(tmp_path / "m")
    os.mkfifo(tmp_path / "policy.yaml")
    assert main(["check", str(d), "--policy", str(tmp_path / "policy.yaml")]) == 2
    assert "policy.yaml: a named pipe, not a regular file" in capsys.readouterr().err
    assert main(["license", "identify", str(tmp_path / "policy.yaml")]) == 2


# -- 2. symbolic links stay inside the scanned folder ------------------------------------------------
def test_symlinks_out_of_the_tree_are_reported_not_followed(tmp_path, capsys):
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    d = small_model(tmp_path / "m")
    os.symlink(secret / "passwd", d / "notes.txt")
    os.symlink(secret, d / "more")
    os.symlink("/", d / "disk")  # must not walk the disk, even with --follow-symlinks
    os.symlink("model.safetensors", d / "alias.safetensors")  # inside: followed as before
    inv = aitrail.scan(d)
    outside = {f.path: f for f in rules(inv)["scan.symlink-outside"]}
    assert set(outside) == {"notes.txt", "more", "disk"}
    assert all(f.severity == "medium" for f in outside.values())
    assert str(secret / "passwd") in outside["notes.txt"].message  # names where it points
    assert "notes.txt" not in paths(inv) and not any(p.startswith(("more/", "disk/")) for p in paths(inv))
    assert "alias.safetensors" in paths(inv)

    followed = aitrail.scan(d, follow_symlinks=True)
    assert {"notes.txt", "more/passwd"} <= paths(followed)
    assert [f.path for f in rules(followed)["scan.symlink-outside"]] == ["disk"]
    assert not any(p.startswith("disk/") for p in paths(followed))

    out = tmp_path / "inv.json"
    assert main(["scan", str(d), "-f", "json", "-o", str(out), "--no-hash", "--follow-symlinks", "-q"]) == 0
    assert "more/passwd" in {c.get("path") for c in json.loads(out.read_text())["components"]}


def test_hf_cache_links_stay_in_their_repo_folder(tmp_path):
    rev = "0123456789abcdef0123456789abcdef01234567"
    hub = tmp_path / "hub"
    st = tmp_path / "st.safetensors"
    builders.safetensors_file(st)
    builders.hf_cache(hub, "acme/tiny", rev, {"model.safetensors": st.read_bytes(), "config.json": b"{}"})
    builders.hf_cache(hub, "acme/other", "f" * 40, {"config.json": b'{"model_type": "x"}', "secret.txt": b"x"})
    inv = aitrail.scan(hub)
    assert "scan.symlink-outside" not in rules(inv)  # snapshot -> ../../blobs of the same repo: followed
    assert f"models--acme--tiny/snapshots/{rev}/model.safetensors" in paths(inv)
    # a snapshot file linking into another repo's blobs leaves its repo folder
    other_blob = os.path.realpath(hub / "models--acme--other" / "snapshots" / ("f" * 40) / "secret.txt")
    os.symlink(other_blob, hub / "models--acme--tiny" / "snapshots" / rev / "stolen.txt")
    [f] = rules(aitrail.scan(hub))["scan.symlink-outside"]
    assert f.path.endswith("stolen.txt")
    # the snapshots folder itself is scanned as its repo's snapshots (its links leave it for ../blobs)
    inv = aitrail.scan(hub / "models--acme--tiny" / "snapshots")
    assert [m.name for m in inv.models()] == ["acme/tiny"] and f"{rev}/model.safetensors" in paths(inv)


# -- 3. unreadable files and folders fail the default policy -----------------------------------------
def _unreadable_sub(d: Path, monkeypatch) -> None:
    (d / "sub").mkdir()
    (d / "sub" / "extra.pt").write_bytes(b"\x80\x02}q\x00.")
    real_scandir = os.scandir

    def scandir(p="."):  # root reads everything: make one folder unreadable for everyone
        if Path(p) == d / "sub":
            raise PermissionError(errno.EACCES, "Permission denied", str(p))
        return real_scandir(p)

    monkeypatch.setattr(os, "scandir", scandir)


def test_an_unreadable_folder_is_a_high_finding(tmp_path, monkeypatch):
    d = small_model(tmp_path / "m")
    _unreadable_sub(d, monkeypatch)
    inv = aitrail.scan(d, hash_files=False)
    [f] = rules(inv)["scan.unreadable"]
    assert f.severity == "high" and f.path == "sub" and "Permission denied" in f.message


def test_an_unreadable_folder_fails_check(tmp_path, monkeypatch, capsys):
    d = small_model(tmp_path / "m")
    _unreadable_sub(d, monkeypatch)
    assert main(["check", str(d), "-f", "json", "-q"]) == 1  # fails closed under the default policy
    assert json.loads(capsys.readouterr().out)["policy"]["passed"] is False


def _can_run_as_nobody() -> bool:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return False
    try:
        import pwd

        pwd.getpwnam("nobody")
        r = subprocess.run([sys.executable, "-c", "import aitrail"], user="nobody", capture_output=True, timeout=60)
        return r.returncode == 0
    except (KeyError, OSError, subprocess.SubprocessError):
        return False


@pytest.mark.skipif(
    not _can_run_as_nobody() and (not hasattr(os, "geteuid") or os.geteuid() == 0),
    reason="running as root, and user nobody cannot run this interpreter (covered by the scandir test)",
)
def test_chmod_000_fails_check_for_an_unprivileged_user(tmp_path):
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="aitrail-perm-"))
    try:
        os.chmod(base, 0o755)
        d = small_model(base / "m")
        (d / "locked").mkdir()
        (d / "locked" / "x.txt").write_text("x")
        (d / "secret.bin").write_bytes(b"\x00" * 16)
        for p in (d, *d.rglob("*")):
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        os.chmod(d / "locked", 0)
        os.chmod(d / "secret.bin", 0)
        kw = {"user": "nobody"} if os.geteuid() == 0 else {}
        r = cli("check", str(d), "-f", "json", **kw)
        assert r.returncode == 1, r.stderr
        found = {(f["path"], f["severity"]) for f in json.loads(r.stdout)["inventory"]["findings"]}
        assert ("locked", "high") in found and ("secret.bin", "high") in found
    finally:
        for p in base.rglob("*"):
            os.chmod(p, 0o755)
        shutil.rmtree(base)


# -- 4. names that are not UTF-8 -------------------------------------------------------------------------
def test_non_utf8_names_are_kept_read_and_written_by_every_format(tmp_path, capsys):
    d = small_model(tmp_path / "m")
    odd = Path(os.fsdecode(os.fsencode(d) + b"/weights-\xff.safetensors"))
    builders.safetensors_file(tmp_path / "w.safetensors")
    os.rename(tmp_path / "w.safetensors", odd)
    (Path(os.fsdecode(os.fsencode(d) + b"/notes-\xe9\n.txt"))).write_text("a newline in a name cannot forge a line")
    inv = aitrail.scan(d)
    c = inv.component("file:weights-\\xff.safetensors")
    assert c is not None and c.sha256 == hashlib.sha256(odd.read_bytes()).hexdigest()  # read via the real path
    assert "notes-\\xe9\\x0a.txt" in paths(inv)
    for fmt in ("json", "cyclonedx", "spdx", "markdown", "terminal"):
        out = tmp_path / f"out.{fmt}"
        assert main(["scan", str(d), "-f", fmt, "-o", str(out), "-q"]) == 0, capsys.readouterr().err
        assert "\\xff.safetensors" in out.read_bytes().decode("utf-8")  # JSON doubles the backslash
    for fmt in ("json", "sarif", "markdown", "terminal"):
        out = tmp_path / f"check.{fmt}"
        assert main(["check", str(d), "-f", fmt, "-o", str(out), "--report", str(tmp_path / "r.html"), "-q"]) in (0, 1)
        text = out.read_bytes().decode("utf-8")
        assert fmt != "json" or "\\xff.safetensors" in text
    for fmt in ("json", "sarif", "text"):
        out = tmp_path / f"sec.{fmt}"
        assert main(["security", str(d), "-f", fmt, "-o", str(out), "-q"]) in (0, 1)
        out.read_bytes().decode("utf-8")
    assert "\\xff" in (tmp_path / "r.html").read_bytes().decode("utf-8")


def test_lone_surrogates_from_json_never_crash_an_output(tmp_path):
    d = small_model(tmp_path / "m")
    (d / "config.json").write_text('{"architectures": ["Tiny\\ud800Model"], "model_type": "t\\udfffiny"}')
    (d / "README.md").write_text('---\nlicense: mit\nmodel_name: "x\\ud800y"\n---\n# tiny\n')
    for args in (
        ["check", str(d), "-f", "json"],
        ["check", str(d), "-f", "markdown"],
        ["check", str(d)],
        ["scan", str(d), "-f", "cyclonedx"],
        ["scan", str(d), "-f", "spdx"],
        ["licenses", str(d)],
        ["openness", str(d)],
    ):
        r = subprocess.run(
            [sys.executable, "-m", "aitrail.cli", *args],
            capture_output=True,
            timeout=60,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src"), "PYTHONIOENCODING": "ascii"},
        )
        assert r.returncode in (0, 1), (args, r.stderr.decode("utf-8", "replace"))
        r.stdout.decode("ascii")  # escaped to what the stream can encode
    out = tmp_path / "r.html"
    assert main(["check", str(d), "--report", str(out), "-q"]) in (0, 1)
    out.read_bytes().decode("utf-8")


# -- 5. outputs: atomic, regular files only ------------------------------------------------------------
@pytest.fixture
def model(tmp_path) -> Path:
    return small_model(tmp_path / "model")


@pytest.mark.parametrize("dest", ["/dev/full", "/dev/null"])
def test_devices_are_refused(model, dest, capsys):
    assert main(["scan", str(model), "-f", "json", "-o", dest, "--no-hash"]) == 2
    err = capsys.readouterr().err
    assert dest in err and "a device" in err
    assert stat.S_ISCHR(os.lstat(dest).st_mode)  # still a device, not a regular file


def test_folders_sockets_and_links_to_them_are_refused(model, tmp_path, capsys):
    (tmp_path / "dir").mkdir()
    os.symlink("/dev/null", tmp_path / "null-link")
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "s.sock"))
    try:
        for dest, says in (
            ("dir", "a folder"),
            ("null-link", "a symbolic link to a device"),
            ("dangling", "does not exist"),
            ("s.sock", "a socket"),
        ):
            assert main(["scan", str(model), "-f", "json", "-o", str(tmp_path / dest), "--no-hash"]) == 2
            err = capsys.readouterr().err
            assert str(tmp_path / dest) in err and says in err, err
    finally:
        sock.close()
    assert os.path.islink(tmp_path / "null-link") and os.path.islink(tmp_path / "dangling")


def test_a_fifo_output_is_refused_without_opening_it(model, tmp_path):
    os.mkfifo(tmp_path / "out.json")
    os.mkfifo(tmp_path / "out.md")
    for cmd in (
        ["scan", str(model), "-f", "json", "-o", str(tmp_path / "out.json")],
        ["check", str(model), "-f", "json", "--report", str(tmp_path / "out.md")],
        ["security", str(model), "-o", str(tmp_path / "out.json")],
        ["openness", str(model), "--badge", str(tmp_path / "out.json")],
    ):
        r = cli(*cmd)  # opening a pipe for writing blocks until a reader comes: never done
        assert r.returncode == 2 and "a named pipe" in r.stderr, r.stderr
    assert stat.S_ISFIFO(os.lstat(tmp_path / "out.json").st_mode)


def test_a_link_to_a_regular_file_replaces_its_target(model, tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    os.chmod(target, 0o640)
    os.symlink(target, tmp_path / "link.json")
    assert main(["scan", str(model), "-f", "json", "-o", str(tmp_path / "link.json"), "--no-hash", "-q"]) == 0
    assert os.path.islink(tmp_path / "link.json")  # the link is kept
    assert json.loads(target.read_text())["components"]
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640  # the file's permissions are kept
    assert no_temp_files(tmp_path)


def test_missing_folders_are_not_created_unless_asked(model, tmp_path, capsys):
    out = tmp_path / "a" / "b" / "inv.json"
    assert main(["scan", str(model), "-f", "json", "-o", str(out), "--no-hash"]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and str(out) in err and "--mkdirs" in err
    assert not (tmp_path / "a").exists()
    assert main(["check", str(model), "--report", str(tmp_path / "r" / "r.md"), "-q"]) == 2
    assert main(["scan", str(model), "-f", "json", "-o", str(out), "--no-hash", "--mkdirs", "-q"]) == 0
    assert json.loads(out.read_text())["components"]
    (tmp_path / "file").write_text("")
    assert main(["scan", str(model), "-o", str(tmp_path / "file" / "x.json"), "--no-hash"]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_a_failed_write_leaves_the_old_file_and_names_the_users_path(model, tmp_path, monkeypatch, capsys):
    out = tmp_path / "inv.json"
    out.write_text("previous")
    real_write = os.write

    def full(fd, data):  # the disk fills after the first few bytes
        real_write(fd, bytes(data[:10]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    assert main(["scan", str(model), "-f", "json", "-o", str(out), "--no-hash"]) == 3
    err = capsys.readouterr().err
    assert f"cannot write {out}: No space left on device" in err and "aitrail-tmp" not in err
    assert out.read_text() == "previous" and no_temp_files(tmp_path)
    monkeypatch.undo()

    real_open = os.open

    def denied(path, flags, mode=0o777, **kw):
        if str(path).endswith(".aitrail-tmp"):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, flags, mode, **kw)

    monkeypatch.setattr(os, "open", denied)
    assert main(["check", str(model), "--report", str(tmp_path / "r.html"), "-q"]) == 3
    err = capsys.readouterr().err
    assert f"cannot write {tmp_path / 'r.html'}: Permission denied" in err and "aitrail-tmp" not in err


def test_terminal_format_to_a_file_is_atomic_and_plain(model, tmp_path, capsys):
    out = tmp_path / "summary.txt"
    assert main(["scan", str(model), "-o", str(out), "-f", "terminal", "--no-hash", "-q"]) == 0
    text = out.read_text()
    assert "TinyModel" in text or "model" in text.lower()
    assert "\x1b[" not in text and no_temp_files(tmp_path)
    assert main(["check", str(model), "-o", str(tmp_path / "check.txt"), "-q"]) in (0, 1)
    assert (tmp_path / "check.txt").read_text() and no_temp_files(tmp_path)


def test_writer_removes_its_temporary_file_on_any_exception(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        output.write(tmp_path / "x.json", "{}")
    assert not (tmp_path / "x.json").exists() and no_temp_files(tmp_path) and not output._PENDING


# -- 6. Ctrl-C and SIGTERM -----------------------------------------------------------------------------
def _hashing(pid: int, big: Path) -> bool:
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}") == str(big) for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc to see when hashing starts")
@pytest.mark.parametrize("sig,code,word", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_a_signal_stops_check_while_it_hashes_a_large_file(tmp_path, sig, code, word):
    d = small_model(tmp_path / "m")
    big = d / "big.bin"
    with open(big, "wb") as fh:
        fh.truncate(16 << 30)  # sparse: costs no disk, takes many seconds to hash
    out, report = tmp_path / "out.json", tmp_path / "r.html"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cmd = [sys.executable, "-m", "aitrail.cli", "check", str(d), "-f", "json", "-o", str(out), "--report", str(report)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while not _hashing(proc.pid, big):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "hashing never started"
            time.sleep(0.05)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=10)  # generous: it stops at the next 1 MiB chunk
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code
    assert stderr.strip() == f"aitrail: {word}" and stdout == ""
    assert not out.exists() and not report.exists() and no_temp_files(tmp_path)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(
    not Path("/proc/self/task").exists() or (os.cpu_count() or 1) < 2,
    reason="needs /proc to see the worker processes, and two cores for security to start them",
)
def test_ctrl_c_stops_security_worker_processes(tmp_path):
    """Large pickle walks run in worker processes: Ctrl-C terminates them too, with one line on stderr
    (no traceback from a worker, no warning from multiprocessing's resource tracker)."""
    import collections
    import pickle

    data = pickle.dumps([collections.OrderedDict()] + [(i, i + 1) for i in range(3_000_000)], protocol=2)
    for name in ("a.pkl", "b.pkl", "c.pkl"):  # 3 x 48 MB: over the size that starts worker processes
        (tmp_path / name).write_bytes(data)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "aitrail.cli", "security", str(tmp_path), "--no-digest"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while len(_children(proc.pid)) < 3:  # the resource tracker and two workers
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no worker processes started"
            time.sleep(0.05)
        kids = _children(proc.pid)
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C does: the whole process group
        stdout, stderr = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130 and stderr == "aitrail: interrupted\n" and stdout == ""
    deadline = time.monotonic() + 10
    while any(_running(k) for k in kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_running(k) for k in kids)


def test_closing_background_digests_does_not_read_files_to_the_end(tmp_path):
    big = tmp_path / "big.bin"
    with open(big, "wb") as fh:
        fh.truncate(64 << 30)
    bg = digest.Background([big], workers=1)
    bg.close()  # an interrupted scan unwinds through here: it must not wait for 64 GiB
    job = bg._jobs[big]
    assert job.cancelled() or isinstance(job.exception(), digest.Cancelled)


# -- 7, 8. quiet and exit codes -------------------------------------------------------------------------
def test_quiet_prints_nothing_but_errors(model, tmp_path, capsys):
    runs = [
        ["scan", str(model), "-f", "json", "-o", str(tmp_path / "a.json")],
        ["check", str(model), "-o", str(tmp_path / "b.json"), "-f", "json", "--report", str(tmp_path / "b.md")],
        ["security", str(model), "-o", str(tmp_path / "c.json"), "-f", "json"],
        ["openness", str(model), "--badge", str(tmp_path / "d.svg"), "--export-mof", str(tmp_path / "d.yml")],
        ["licenses", str(model)],
    ]
    for args in runs:
        assert main([*args, "-q"]) in (0, 1)
        err = capsys.readouterr().err
        assert err == "", (args, err)
    assert main(["scan", str(model), "-o", str(tmp_path / "e.json"), "--no-hash"]) == 0
    assert "wrote json" in capsys.readouterr().err  # not quiet: the note is there
    assert main(["scan", str(tmp_path / "missing"), "-q"]) == 2
    assert "no such file" in capsys.readouterr().err  # errors still print


@pytest.mark.parametrize("what", ["empty", "text", "unrelated"])
@pytest.mark.parametrize("cmd", ["scan", "security", "check"])
def test_nothing_recognisable_is_exit_2_with_a_clear_message(tmp_path, cmd, what, capsys):
    d = tmp_path / "target"
    d.mkdir()
    target = d
    if what == "text":
        target = d / "notes.txt"
        target.write_text("just some notes\n")
    elif what == "unrelated":
        (d / "main.c").write_text("int main(void) { return 0; }\n")
        (d / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)
    assert main([cmd, str(target), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("aitrail: error: ") and str(target) in err and "recognisable" in err and err.count("\n") == 1


def test_an_aitrail_bug_is_exit_3_and_says_how_to_get_the_traceback(model, monkeypatch, capsys):
    from aitrail import scanner

    def boom(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(scanner, "scan", boom)
    monkeypatch.delenv("AITRAIL_DEBUG", raising=False)
    assert main(["scan", str(model)]) == 3
    err = capsys.readouterr().err
    assert "RuntimeError: boom" in err and "AITRAIL_DEBUG=1" in err and err.count("\n") == 1
    monkeypatch.setenv("AITRAIL_DEBUG", "1")
    with pytest.raises(RuntimeError):
        main(["scan", str(model)])


def test_signal_handlers_are_restored_after_a_command(model, capsys):
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    main(["scan", str(model), "--no-hash", "-q"])
    capsys.readouterr()
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


# -- 9. linear work ---------------------------------------------------------------------------------------
def test_package_folders_are_listed_once_for_many_models(tmp_path, monkeypatch):
    site = tmp_path / "site-packages"
    pkg = site / "zoo"
    n = 200
    for i in range(n):
        (pkg / f"m{i:03}").mkdir(parents=True)
        (pkg / f"m{i:03}" / "config.json").write_text("{}")
    info = site / "zoo-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: zoo\nVersion: 1.0\nLicense: MIT\n")
    (info / "RECORD").write_text("".join(f"zoo/m{i:03}/config.json,,\n" for i in range(n)))
    listed: dict[Path, int] = {}
    real_iterdir = Path.iterdir

    def iterdir(self):
        listed[self] = listed.get(self, 0) + 1
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    units = inputs.resolve(pkg)
    assert len(units) == n and all(u.extra_files == [info / "METADATA"] for u in units)
    assert max(listed.values()) <= 2  # was once per model folder: quadratic in the number of models


def test_ten_thousand_model_folders_resolve(tmp_path):
    """One pass over sorted paths (the old code compared every file with every model folder)."""
    code = f"""
import os, sys, time
from pathlib import Path
from aitrail import inputs
root = Path({str(tmp_path)!r}) / "zoo"
for i in range(10000):
    d = root / f"org{{i % 100:02}}" / f"m{{i:05}}"
    os.makedirs(d)
    (d / "config.json").write_text("{{}}")
flat = root / "flat"
flat.mkdir()
for i in range(20000):
    (flat / f"f{{i:05}}.txt").write_bytes(b"")
t = time.perf_counter()
units = inputs.resolve(root)
print(len(units), sum(len(u.files) for u in units), round(time.perf_counter() - t, 2))
"""
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert r.returncode == 0, r.stderr
    n_units, n_files, _seconds = r.stdout.split()
    assert int(n_units) == 10001 and int(n_files) == 30000  # 10,000 models and one unit of orphans


# -- 10. one model per independent weights file ---------------------------------------------------------
def _package_with_onnx(tmp_path: Path, names: list[str]) -> Path:
    data = tmp_path / "silero_vad" / "data"
    data.mkdir(parents=True)
    (data / "__init__.py").write_text("")
    for n in names:
        shutil.copyfile(SILERO, data / n)
    return tmp_path / "silero_vad"


def _models_and_weights(inv) -> dict[str, list[str]]:
    return {
        m.name: sorted(c.path for c in inv.related(m.id, RelationshipKind.CONTAINS) if c.path) for m in inv.models()
    }


def test_independent_onnx_files_are_one_model_each(tmp_path):
    pkg = _package_with_onnx(tmp_path, ["silero_vad.onnx", "silero_vad_16k_op15.onnx", "silero_vad_half.onnx"])
    inv = aitrail.scan(pkg, hash_files=False)
    models = _models_and_weights(inv)
    assert sorted(sum(models.values(), [])) == [
        "data/silero_vad.onnx",
        "data/silero_vad_16k_op15.onnx",
        "data/silero_vad_half.onnx",
    ]
    assert len(models) == 3 and all(len(v) == 1 for v in models.values())
    assert "data/__init__.py" in paths(inv)  # the rest is still inventoried


def test_a_config_a_card_or_an_index_ties_weights_into_one_model(tmp_path):
    pkg = _package_with_onnx(tmp_path / "a", ["encoder.onnx", "decoder.onnx"])
    (pkg / "data" / "config.json").write_text('{"model_type": "whisper"}')
    assert len(aitrail.scan(pkg, hash_files=False).models()) == 1

    two = tmp_path / "two"
    two.mkdir()
    builders.safetensors_file(two / "a.safetensors")
    builders.safetensors_file(two / "b.safetensors")
    assert len(aitrail.scan(two, hash_files=False).models()) == 2

    shards = tmp_path / "shards"
    shards.mkdir()
    builders.safetensors_file(shards / "model-00001-of-00002.safetensors")
    builders.safetensors_file(shards / "model-00002-of-00002.safetensors")
    assert len(aitrail.scan(shards, hash_files=False).models()) == 1

    hf = small_model(tmp_path / "hf")
    builders.safetensors_file(hf / "extra.safetensors")
    assert len(aitrail.scan(hf, hash_files=False).models()) == 1

    carded = tmp_path / "carded"
    carded.mkdir()
    (carded / "README.md").write_text("---\nlicense: mit\n---\n# One model, two exports\n")
    shutil.copyfile(SILERO, carded / "model.onnx")
    builders.safetensors_file(carded / "model.safetensors")
    assert len(aitrail.scan(carded, hash_files=False).models()) == 1


def test_escape_keeps_ordinary_names_and_escapes_the_rest():
    assert inputs.escape("model-ü.safetensors") == "model-ü.safetensors"
    assert inputs.escape(os.fsdecode(b"a\xff")) == "a\\xff"
    assert inputs.escape("a\nb\x1b[31m") == "a\\x0ab\\x1b[31m"
    assert inputs.escape("\ud800") == "\\ud800"


def test_json_is_streamed_in_blocks_with_the_same_bytes(tmp_path):
    """A large check document is written from json's iterencode pieces, never joined whole."""
    from aitrail import output
    from aitrail.cli import _json_chunks

    doc = {"a": ["x" * 1000] * 3000, "s": "\ud800 é"}  # > 1 MiB: several blocks; a lone surrogate escaped
    out = tmp_path / "doc.json"
    output.write(out, _json_chunks(doc))
    want = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8", "backslashreplace")
    assert out.read_bytes() == want
    assert len(list(output._blocks(_json_chunks(doc)))) >= 2
