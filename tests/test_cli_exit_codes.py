"""Exit codes as cli.py's docstring and docs/ci.md promise: what could not be read or used is exit 2, never 0."""

from __future__ import annotations

import json

from test_check import model_dir

from aitrail.cli import main


def test_license_identify_on_a_missing_or_binary_file_is_exit_2(tmp_path, capsys):
    good = tmp_path / "LICENSE"
    good.write_text("Permission is hereby granted, free of charge, to any person obtaining a copy")
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\x00\x01\x02")
    assert main(["license", "identify", str(tmp_path / "missing")]) == 2
    capsys.readouterr()
    assert main(["license", "identify", str(good), str(binary), "-f", "json"]) == 2
    res = json.loads(capsys.readouterr().out)
    assert [bool(r.get("error")) for r in res] == [False, True]  # every result printed, then exit 2
    assert main(["license", "identify", str(good)]) == 0  # read, whatever it is identified as


def test_an_unusable_signature_key_is_exit_2_and_a_key_means_verify(tmp_path, capsys):
    d = model_dir(tmp_path)
    bad = tmp_path / "badkey.pem"
    bad.write_text("garbage")
    assert main(["check", str(d), "--signature-key", str(bad)]) == 2
    assert "--signature-key" in capsys.readouterr().err
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pub = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    key = tmp_path / "key.pub.pem"
    key.write_bytes(pub)
    # no signature beside the model: the user asked to verify with a key, so nothing verified fails
    code = main(["check", str(d), "--signature-key", str(key), "-f", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and [v["policy_key"] for v in doc["policy"]["violations"]] == ["signatures.required"]
