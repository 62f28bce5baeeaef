"""Code evidence: SPDX identifiers, package metadata, header notices, full texts, close variants."""

from __future__ import annotations

import pytest

from curation.document import Document
from curation.stages.license.code import first_comment_block, identifier_expression, metadata_expression
from curation.stages.license.stage import LicenseProcessor
from tests.license.conftest import code_doc, comment, reference_text

BODY = "\n\nimport os\n\n\ndef f():\n    return os.name\n"


def tag(proc: LicenseProcessor, doc: Document) -> Document:
    out = proc.process(doc)
    return out if isinstance(out, Document) else out.doc


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("# SPDX-License-Identifier: MIT", "MIT"),
        ("// SPDX-License-Identifier: MIT OR Apache-2.0", "MIT OR Apache-2.0"),
        (
            "/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */",
            "GPL-2.0-only WITH Linux-syscall-note",
        ),
        (
            "# SPDX-License-Identifier: (MPL-1.1 OR GPL-2.0-only) AND BSD-3-Clause",
            "(MPL-1.1 OR GPL-2.0-only) AND BSD-3-Clause",
        ),
        ("# SPDX-License-Identifier: gpl-2.0+", "GPL-2.0-or-later"),  # alias -> canonical id
        ("<!-- SPDX-License-Identifier: CC0-1.0 -->", "CC0-1.0"),
    ],
)
def test_spdx_identifier_lines(line: str, expected: str) -> None:
    assert identifier_expression(line + "\nx = 1\n", 10_000) == expected


def test_identifier_absent_or_unparsable() -> None:
    assert identifier_expression("x = 1\n# license: MIT\n", 10_000) is None
    assert identifier_expression("# SPDX-License-Identifier: (MIT AND\n", 10_000) is None


def test_several_identifier_lines_are_anded() -> None:
    text = "# SPDX-License-Identifier: MIT\n#x\n# SPDX-License-Identifier: Apache-2.0\n"
    assert identifier_expression(text, 10_000) == "MIT AND Apache-2.0"


def test_package_metadata_fields() -> None:
    pkg = '{\n  "name": "x",\n  "license": "MIT",\n  "version": "1.0.0"\n}\n'
    cargo = '[package]\nname = "x"\nlicense = "MIT OR Apache-2.0"\n'
    assert metadata_expression(pkg, "package.json", ("package.json", "Cargo.toml")) == "MIT"
    assert metadata_expression(cargo, "x/Cargo.toml", ("package.json", "Cargo.toml")) == "MIT OR Apache-2.0"
    assert metadata_expression(cargo, None, ("Cargo.toml",)) == "MIT OR Apache-2.0"  # recognised by shape
    assert metadata_expression(pkg, "src/data.json", ("package.json",)) is None  # not a manifest file


def test_first_comment_block_stops_at_code() -> None:
    text = "#!/usr/bin/env python\n# Copyright X\n# Licensed MIT\n\nimport os\n# later comment\n"
    block = first_comment_block(text, 10_000)
    assert "Licensed MIT" in block and "later comment" not in block
    doc = '"""Module.\n\nLicense text here.\n"""\nimport os\n'
    assert "License text here" in first_comment_block(doc, 10_000)
    c_block = "/*\n * Copyright\n * notice\n */\nint main() {}\n"
    assert "notice" in first_comment_block(c_block, 10_000) and "main" not in first_comment_block(
        c_block, 10_000
    )


def test_identifier_evidence_on_document(proc: LicenseProcessor) -> None:
    out = tag(proc, code_doc("# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception\n" + BODY))
    assert out.license == "Apache-2.0 WITH LLVM-exception"
    assert out.license_evidence == "identifier" and out.license_confidence == 1.0
    assert out.signals["license.category"] == "permissive"


@pytest.mark.parametrize(
    ("a", "b", "id_a", "id_b"),
    [
        ("bsd-new.LICENSE", "bsd-simplified.LICENSE", "BSD-3-Clause", "BSD-2-Clause"),
        ("mit.LICENSE", "isc.LICENSE", "MIT", "ISC"),
    ],
)
def test_full_text_close_variants(proc: LicenseProcessor, a: str, b: str, id_a: str, id_b: str) -> None:
    for name, expected in ((a, id_a), (b, id_b)):
        out = tag(proc, code_doc(reference_text(name), path="LICENSE"))
        assert out.license == expected, name
        assert out.license_evidence == "license_file"
        # the same text as a header comment of a source file
        out = tag(proc, code_doc(comment(reference_text(name)) + BODY))
        assert out.license == expected and out.license_evidence in ("license_text", "header")


def test_full_text_without_path_is_license_text(proc: LicenseProcessor) -> None:
    out = tag(proc, code_doc(reference_text("apache-2.0.LICENSE"), path=None))
    assert out.license == "Apache-2.0" and out.license_evidence == "license_text"


def test_gpl_only_vs_or_later_header(proc: LicenseProcessor) -> None:
    plus = reference_text("gpl-2.0-plus_1.RULE")
    only = plus.replace(", or\n    (at your option) any later version", "")
    assert only != plus
    assert tag(proc, code_doc(comment(plus) + BODY)).license == "GPL-2.0-or-later"
    out = tag(proc, code_doc(comment(only) + BODY))
    assert out.license == "GPL-2.0-only" and out.license_evidence == "header"


def test_apache_header_notice(proc: LicenseProcessor) -> None:
    out = tag(
        proc,
        code_doc("# Copyright 2020 Someone\n#\n" + comment(reference_text("apache-2.0_7.RULE"), "") + BODY),
    )
    assert out.license == "Apache-2.0" and out.license_evidence == "header"
    assert 0.5 < out.license_confidence <= 0.9


def test_license_text_in_a_string_literal_is_not_a_header(proc: LicenseProcessor) -> None:
    text = "import os\n\nMIT_TEXT = '''\n" + reference_text("mit.LICENSE") + "\n'''\n"
    out = tag(proc, code_doc(text, code_language="Python"))  # the language the reader gives pkg/mod.py
    assert out.license == "NOASSERTION" and out.license_evidence is None


def test_code_without_license_is_noassertion(proc: LicenseProcessor) -> None:
    out = tag(proc, code_doc("# Copyright 2021 ACME Corp.\n# Helper functions.\n" + BODY))
    assert out.license == "NOASSERTION"
    assert out.signals["license.category"] == "unknown"


def test_identifier_outranks_header_and_manifest(proc: LicenseProcessor) -> None:
    text = "# SPDX-License-Identifier: MIT\n" + comment(reference_text("apache-2.0_7.RULE"), "") + BODY
    doc = code_doc(text, license="GPL-3.0-only", license_evidence="manifest")
    out = tag(proc, doc)
    assert out.license == "MIT" and out.license_evidence == "identifier"
    cands = out.signals["license.candidates"]
    assert "header=Apache-2.0" in cands and "manifest=GPL-3.0-only" in cands


def test_manifest_used_when_no_evidence(proc: LicenseProcessor) -> None:
    out = tag(proc, code_doc("x = 1\n", license="MIT", license_evidence="manifest"))
    assert out.license == "MIT" and out.license_evidence == "manifest"
