"""SPDX 2.3 (JSON) through spdx-tools: the scanned project as a package, each file with
findings as a file, each finding as a snippet with byte and line ranges, the matched
source's license as its concluded license and its copyright text."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any, TextIO

from license_expression import get_spdx_licensing
from spdx_tools.spdx.model import (
    Actor,
    ActorType,
    Checksum,
    ChecksumAlgorithm,
    CreationInfo,
    Document,
    ExtractedLicensingInfo,
    File,
    Package,
    Relationship,
    RelationshipType,
    Snippet,
    SpdxNoAssertion,
)
from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream

from attribution.core.obligations import NOASSERTION
from attribution.scan.reports.common import Finding, findings, one_line, source_location, tool_info
from attribution.scan.session import ScanResult

_REF = re.compile(r"LicenseRef-[\w.+-]+")
_ID_SAFE = re.compile(r"[^A-Za-z0-9.-]+")


class _Builder:
    """Collects files, snippets and the LicenseRef-s they use."""

    def __init__(self) -> None:
        self.files: dict[str, File] = {}
        self.snippets: list[Snippet] = []
        self.refs: dict[str, str] = {}  # LicenseRef id -> where it was seen

    def add(self, f: Finding) -> None:
        record = f.record
        file_id = self._file(f)
        m, s = f.match, f.source
        license_ = self._license(s["license"], s["repo_name"])
        copyright_ = "\n".join(s.get("copyright") or []) or SpdxNoAssertion()
        byte_range = m.get("query_bytes") or [1, max(record.size, 1)]
        self.snippets.append(
            Snippet(
                spdx_id=f"SPDXRef-Snippet-{len(self.snippets) + 1}",
                file_spdx_id=file_id,
                byte_range=(int(byte_range[0]), int(byte_range[1])),
                line_range=(int(m["query_lines"][0]), int(m["query_lines"][1])),
                license_concluded=license_,
                license_info_in_snippet=[license_],
                copyright_text=copyright_,
                comment=one_line(f),
                name=f"{s['repo_name']}/{s['path']}",
                attribution_texts=[f"{source_location(s)} lines {_lines(m['source_lines'])}"],
            )
        )

    def _file(self, f: Finding) -> str:
        record = f.record
        existing = self.files.get(record.path)
        if existing is not None:
            return existing.spdx_id
        spdx_id = f"SPDXRef-File-{len(self.files) + 1}-{_ID_SAFE.sub('-', record.path)[-60:]}"
        self.files[record.path] = File(
            name="./" + record.path.lstrip("/"),
            spdx_id=spdx_id.rstrip("-"),
            checksums=[Checksum(ChecksumAlgorithm.SHA1, record.sha1)],
            license_concluded=SpdxNoAssertion(),
            license_info_in_file=[SpdxNoAssertion()],
            copyright_text=SpdxNoAssertion(),
            comment=f"git blob {record.sha}",
        )
        return self.files[record.path].spdx_id

    def _license(self, expression: str, repo: str) -> Any:
        if not expression or expression == NOASSERTION:
            return SpdxNoAssertion()
        for ref in _REF.findall(expression):
            self.refs.setdefault(ref, repo)
        return get_spdx_licensing().parse(expression)


def _lines(lines: list[int]) -> str:
    return f"{lines[0]}-{lines[1]}"


def build(scan: ScanResult) -> Document:
    """The SPDX document of a scan."""
    b = _Builder()
    for f in findings(scan):
        b.add(f)
    creation = _creation(scan)
    package = Package(
        spdx_id="SPDXRef-Package-scanned",
        name=", ".join(scan.paths),
        download_location=SpdxNoAssertion(),
        files_analyzed=True,
        license_concluded=SpdxNoAssertion(),
        license_declared=SpdxNoAssertion(),
        copyright_text=SpdxNoAssertion(),
    )
    relationships = [
        Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, package.spdx_id)
    ] + [
        Relationship(package.spdx_id, RelationshipType.CONTAINS, f.spdx_id)
        for f in b.files.values()
    ]
    extracted = [
        ExtractedLicensingInfo(
            license_id=ref,
            extracted_text=f"License of {repo} as recorded in the attribution index: {ref}",
            license_name=ref.removeprefix("LicenseRef-"),
        )
        for ref, repo in sorted(b.refs.items())
    ]
    return Document(
        creation, [package], list(b.files.values()), b.snippets, [], relationships, extracted
    )


def _creation(scan: ScanResult) -> CreationInfo:
    info = tool_info()
    name = "attribution scan of " + ", ".join(scan.paths)
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"{name}|{scan.started}")
    return CreationInfo(
        spdx_version="SPDX-2.3",
        spdx_id="SPDXRef-DOCUMENT",
        name=name,
        document_namespace=f"https://spdx.org/spdxdocs/attribution-scan-{namespace}",
        creators=[Actor(ActorType.TOOL, f"{info['name']}-{info['version']}")],
        created=_created(scan.started),
        creator_comment="Third-party code found by attribution scan; snippets locate it.",
    )


def _created(started: str) -> dt.datetime:
    return dt.datetime.strptime(started, "%Y-%m-%dT%H:%M:%SZ")


def write(scan: ScanResult, out: TextIO) -> None:
    """The document as SPDX JSON, validated by spdx-tools while it is written."""
    write_document_to_stream(build(scan), out, validate=True)
