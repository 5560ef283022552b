"""CycloneDX 1.6 (JSON) through cyclonedx-python-lib: the scanned project as the BOM's
subject, each matched source file as a component with its license, copyright, SWHID and
where in the project it occurs (evidence occurrences)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, TextIO

from cyclonedx.model import ExternalReference, ExternalReferenceType, Property, XsUri
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType, Swhid
from cyclonedx.model.component_evidence import ComponentEvidence, Occurrence
from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output.json import JsonV1Dot6

from attribution.core.obligations import NOASSERTION
from attribution.scan.reports.common import Finding, findings, tool_info
from attribution.scan.session import ScanResult

PREFIX = "attribution:"


def _licenses(expression: str) -> list[LicenseExpression | DisjunctiveLicense]:
    if not expression or expression == NOASSERTION:
        return []
    if " " not in expression and not expression.startswith("LicenseRef-"):
        return [DisjunctiveLicense(id=expression)]
    if " " not in expression:
        return [DisjunctiveLicense(name=expression)]
    return [LicenseExpression(expression)]


def _occurrence(f: Finding) -> Occurrence:
    m = f.match
    q, s = m["query_lines"], m["source_lines"]
    context = (
        f"lines {q[0]}-{q[1]} match source lines {s[0]}-{s[1]} "
        f"({m['match_type']}, {m['tokens']} tokens, score {m['score']:.2f})"
    )
    policy = m.get("policy")
    if policy:
        context += f"; policy {policy['status']}: {policy['reason']}"
    offset = int(m["query_bytes"][0]) - 1 if m.get("query_bytes") else None
    return Occurrence(
        location=f.record.path, line=int(q[0]), offset=offset, additional_context=context
    )


def _component(source: dict[str, Any], occurrences: list[Occurrence]) -> Component:
    refs = []
    url = source.get("url")
    if url and url.startswith(("http://", "https://")):
        refs.append(ExternalReference(type=ExternalReferenceType.VCS, url=XsUri(url)))
    copyright_ = "\n".join(source.get("copyright") or []) or None
    props = [
        Property(name=PREFIX + "license_type", value=source["license_type"]),
        Property(name=PREFIX + "source_id", value=source["id"]),
        Property(name=PREFIX + "blob_id", value=source["blob_id"]),
    ]
    return Component(
        type=ComponentType.FILE,
        name=f"{source['repo_name']}/{source['path']}",
        group=source["repo_name"],
        bom_ref=f"source-{source['id']}",
        licenses=_licenses(source["license"]),
        copyright=copyright_,
        swhids=[Swhid(source["swhid"])],
        external_references=refs,
        properties=props,
        evidence=ComponentEvidence(occurrences=occurrences),
        description="; ".join(source.get("authors") or [])[:500] or None,
    )


def build(scan: ScanResult) -> Bom:
    """The BOM of a scan: one component per matched source."""
    sources: dict[str, tuple[dict[str, Any], list[Occurrence]]] = {}
    for f in findings(scan):
        source = f.source
        sources.setdefault(source["id"], (source, []))[1].append(_occurrence(f))
    info = tool_info()
    subject = Component(
        type=ComponentType.APPLICATION, name=", ".join(scan.paths), bom_ref="scanned-project"
    )
    tool = Component(type=ComponentType.APPLICATION, name=info["name"], version=info["version"])
    started = dt.datetime.strptime(scan.started, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    metadata = BomMetaData(
        tools=ToolRepository(components=[tool]),
        component=subject,
        timestamp=started,
        properties=[Property(name=PREFIX + "verdict", value=scan.verdict)],
    )
    serial = uuid.uuid5(uuid.NAMESPACE_URL, f"{'|'.join(scan.paths)}|{scan.started}")
    bom = Bom(metadata=metadata, serial_number=serial)
    components = [_component(s, occ) for s, occ in sources.values()]
    for component in components:
        bom.components.add(component)
    bom.register_dependency(subject, components)
    return bom


def render(scan: ScanResult) -> str:
    """The BOM as CycloneDX 1.6 JSON."""
    return str(JsonV1Dot6(build(scan)).output_as_string(indent=2))


def write(scan: ScanResult, out: TextIO) -> None:
    out.write(render(scan) + "\n")
