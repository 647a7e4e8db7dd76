"""Provenance you can verify: OpenSSF model signing (sign, verify) and lineage.

Signing (``aitrail sign`` / ``aitrail verify``, docs/signing.md)::

    from aitrail.provenance import sign, verify
    signed = sign.sign("model/", private_pem)        # bundle + attestations, not yet written
    verdict = verify.verify("model/", "model/model.sig", key_pem=public_pem)

:mod:`.oms` is the one reader and writer of OMS v1.0 bundles (``aitrail check --signature-key``
uses it too); :mod:`.files` lists and hashes a model the way the spec does. Modules are imported
on use: importing this package is free.
"""
