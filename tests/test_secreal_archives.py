"""Archive members are judged by their content, whatever holds them (session 6, held-out hunt).

A NeMo ``.nemo`` is a tar of ``model_config.yaml`` and ``model_weights.ckpt`` (a torch.save zip that
NeMo torch.loads after extracting it). Tar members used to be walked only as raw pickles, so a
malicious checkpoint inside a .nemo — or a compressed member, a .npy, a zip or a tar inside a tar,
a tar.gz inside a zip — passed with no finding. The wrapped payloads here are the committed attack and
benign fixtures made by the real libraries (tests/data/security/, scripts/make_*_fixtures.py)."""

from __future__ import annotations

import bz2
import gzip
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from aitrail.analyze import security as S

DATA = Path(__file__).parent / "data" / "security"
EVIL_PT = DATA / "attacks" / "t01_torch_collect_env_run.pt"  # torch.save zip: collect_env.run(cmd)
EVIL_NPY = DATA / "attacks" / "n01_npy_structured_object_field.npy"
BENIGN_PT = DATA / "benign" / "torch" / "whole_bert_module.pt"
CONFIG = b"target: nemo.collections.asr.models.EncDecCTCModel\nsample_rate: 16000\n"
RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


def _tar(members: list[tuple[str, bytes]], mode: str = "w:") -> bytes:
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode=mode) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return b.getvalue()


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        for name, data in members:
            z.writestr(name, data)
    return b.getvalue()


def _worst(path: Path) -> tuple[str, list[str]]:
    rep = S.scan_file(path, path.name, hash_file=False)
    worst = max((f.severity for f in rep.findings), key=RANK.__getitem__, default="none")
    return worst, [f"{f.rule} {(f.evidence or {}).get('global', '')}" for f in rep.findings]


def _wrappings(payload: bytes, name: str) -> dict[str, bytes]:
    member = [("./model_config.yaml", CONFIG), (f"./{name}", payload)]
    return {
        "model.nemo": _tar(member),  # NeMo's own layout (uncompressed tar)
        "model_gz.nemo": _tar(member, "w:gz"),
        "gz_member.tar": _tar([(f"{name}.gz", gzip.compress(payload))]),
        "bz2_member.tar.gz": _tar([(name, bz2.compress(payload))], "w:gz"),
        "tar_in_tar.tar": _tar([("inner.nemo", _tar(member, "w:gz"))]),
        "zip_in_tar.tar.gz": _tar([("bundle.zip", _zip([(name, payload)]))], "w:gz"),
        "targz_in_zip.zip": _zip([("model.tar.gz", _tar(member, "w:gz"))]),
    }


@pytest.mark.parametrize("wrapper", list(_wrappings(b"", "x")))
def test_a_malicious_checkpoint_in_any_archive_is_critical(tmp_path, wrapper):
    path = tmp_path / wrapper
    path.write_bytes(_wrappings(EVIL_PT.read_bytes(), "model_weights.ckpt")[wrapper])
    worst, found = _worst(path)
    assert worst == "critical" and any("collect_env" in f for f in found), found


@pytest.mark.parametrize("wrapper", ["model.nemo", "gz_member.tar", "zip_in_tar.tar.gz"])
def test_an_object_npy_in_an_archive_is_judged(tmp_path, wrapper):
    path = tmp_path / wrapper
    path.write_bytes(_wrappings(EVIL_NPY.read_bytes(), "emb.npy")[wrapper])
    worst, found = _worst(path)
    assert RANK.get(worst, -1) >= RANK["high"], found


def test_a_benign_nemo_with_text_members_passes_without_notes(tmp_path):
    """Text members are not pickles: 'c__main__\\nFoo\\n' or 'config\\nvalue\\n' read as GLOBAL, and
    were each a medium 'pickle.user-class' note when every member was walked as a pickle."""
    path = tmp_path / "model.nemo"
    path.write_bytes(
        _tar(
            [
                ("./model_config.yaml", CONFIG),
                ("./notes.txt", b"c__main__\nFoo\n"),
                ("./tokenizer/vocab.txt", b"config\nvalue\n"),
                ("./model_weights.ckpt", BENIGN_PT.read_bytes()),
            ]
        )
    )
    worst, found = _worst(path)
    assert RANK.get(worst, -1) < RANK["medium"], found


def test_archives_nested_past_the_limit_are_a_finding(tmp_path):
    data = _tar([("m.pkl", EVIL_PT.read_bytes())])
    for i in range(6):
        data = _tar([(f"level{i}.tar", data)])
    path = tmp_path / "deep.tar"
    path.write_bytes(data)
    worst, found = _worst(path)
    assert worst == "high" and any(f.startswith("archive.nesting-limit") for f in found), found


def test_joblibs_sdist_as_one_archive_passes():
    """The same compatibility pickles judged inside joblib's sdist (a .tar.gz), not extracted: each
    member is read as the file would be (joblib's framing for what joblib wrote or compressed), so
    none is a 'malformed pickle' (they were high, read without the framing)."""
    sdist = Path(__file__).resolve().parents[1] / "benchmarks" / "work" / "wheels" / "joblib-1.4.2.tar.gz"
    if not sdist.exists():
        pytest.skip("joblib's sdist is not cached (tests/test_security_wrapped.py downloads it)")
    worst, found = _worst(sdist)
    assert RANK.get(worst, -1) < RANK["high"] and not any(f.startswith("pickle.malformed") for f in found), found


BENIGN = DATA / "benign"
JOBLIB_FILES = sorted(p for d in ("joblib", "sklearn") for p in (BENIGN / d).iterdir() if p.is_file())


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
@pytest.mark.parametrize("rename", [False, True])
def test_joblib_and_sklearn_files_in_an_archive_pass(tmp_path, kind, rename):
    """joblib.dump's files (raw array bytes after each wrapper, every compressor) zipped or tarred, under
    their own names or all renamed *.pkl: zip members were walked without joblib's framing (high
    'calls <unknown>.dtype' and indirect calls on the array bytes; compressed *.pkl members not inflated)."""
    members = [(f"m/{i}_{p.name.split('.')[0]}.pkl" if rename else f"m/{p.name}", p.read_bytes())
               for i, p in enumerate(JOBLIB_FILES)]
    path = tmp_path / f"models.{kind}"
    path.write_bytes(_zip(members) if kind == "zip" else _tar(members, "w:gz"))
    worst, found = _worst(path)
    assert RANK.get(worst, -1) < RANK["high"], [f for f in found if not f.startswith("pickle.user-class")]


def test_a_joblib_attack_in_a_zip_stays_critical(tmp_path):
    evil = DATA / "attacks" / "c09_joblib_object_array_record.joblib"
    path = tmp_path / "models.zip"
    path.write_bytes(_zip([("m/model.joblib", evil.read_bytes()), ("m/model.pkl", evil.read_bytes())]))
    worst, found = _worst(path)
    assert worst == "critical", found


@pytest.mark.parametrize("codec", ["gz", "bz2", "xz"])
def test_a_compressed_torch_checkpoint_is_judged(tmp_path, codec):
    """torch.load(gzip.open("model.pt.gz")) reads the torch zip inside (GzipFile seeks): such a file was
    'nothing recognisable' alone and silently passed in a model folder."""
    import lzma

    pack = {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}[codec]
    evil = tmp_path / "evil" / f"model.pt.{codec}"
    evil.parent.mkdir()
    evil.write_bytes(pack(EVIL_PT.read_bytes()))
    (evil.parent / "config.json").write_text('{"model_type": "bert"}')
    rep = S.scan(evil.parent, hash_files=False)
    assert rep["max_severity"] == "critical", rep
    benign = tmp_path / f"bert.pt.{codec}"
    benign.write_bytes(pack(BENIGN_PT.read_bytes()))
    worst, found = _worst(benign)
    assert RANK.get(worst, -1) < RANK["medium"], found


def test_a_tar_past_the_member_limit_is_a_finding(tmp_path, monkeypatch):
    """A 1 MB tar.gz can hold 200,000 members (15 s, and tarfile keeps each one): past the limit the
    rest is not read, and that is a finding (the malicious member after it is not reached)."""
    from aitrail.analyze.security import pickles as SP

    monkeypatch.setattr(SP, "MAX_TAR_MEMBERS", 10)
    path = tmp_path / "many.tar.gz"
    path.write_bytes(_tar([(f"t/{i}.txt", b"hello\n") for i in range(20)] + [("z.pkl", EVIL_PT.read_bytes())], "w:gz"))
    worst, found = _worst(path)
    assert worst == "high" and "archive.member-limit " in found, found


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
@pytest.mark.parametrize("name", ["data.txt", "frame", "weights.bin.1"])
def test_a_protocol_0_member_is_judged_under_any_name(tmp_path, kind, name):
    """pandas.read_pickle("x.zip" / "x.tar.gz") unpickles the archive's only member, whatever it is called."""
    import os
    import pickle

    class Evil:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (os.system, ("echo pwned",))

    members = [(name, pickle.dumps(Evil(), protocol=0))]
    path = tmp_path / f"frame.{kind}"
    path.write_bytes(_zip(members) if kind == "zip" else _tar(members, "w:gz"))
    worst, found = _worst(path)
    assert worst == "critical", found


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_text_members_that_read_as_globals_add_nothing(tmp_path, kind):
    members = [("requirements.txt", b"click\nnumpy\n"), ("notes.md", b"c__main__\nFoo\n")]
    path = tmp_path / f"docs.{kind}"
    path.write_bytes(_zip(members) if kind == "zip" else _tar(members, "w:gz"))
    worst, found = _worst(path)
    assert worst == "none", found
