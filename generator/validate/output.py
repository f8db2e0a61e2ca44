"""A report as text (one line per finding, grouped by file, then a summary) or as JSON."""

from __future__ import annotations

import json

from generator.validate.model import Report


def as_text(report: Report) -> str:
    lines = [str(f) for f in report.sorted_findings()]
    if report.unchecked:
        kinds = ", ".join(f"{kind} ({count})" for kind, count in sorted(report.unchecked.items()))
        lines.append(f"not checked against a schema: {kinds}")
    lines.append(report.summary())
    return "\n".join(lines) + "\n"


def as_json(report: Report, strict: bool) -> str:
    document = {
        "ok": not report.failed(strict),
        "findings": [f.as_json() for f in report.sorted_findings()],
        "summary": {
            "errors": report.errors,
            "warnings": report.warnings,
            "files": report.files,
            "resources": report.resources,
            "kustomizations": report.kustomizations,
            "unchecked": dict(sorted(report.unchecked.items())),
        },
    }
    return json.dumps(document, indent=2) + "\n"
