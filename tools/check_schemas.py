"""Validate YAML files, every document of each (``---``), against a JSON Schema.

    python tools/check_schemas.py SCHEMA FILE...

check-jsonschema validates one document per file; Cloud Deploy's declarative
files hold several (a pipeline and its targets), so `make lint` runs this for
them, with the schemas in ``schemas/`` (written from the Cloud Deploy and
Skaffold references for the fields a Cloud Run pipeline uses; unknown keys fail).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import yaml


def main(argv: list[str]) -> int:
    schema = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    failed = 0
    for path in argv[1:]:
        documents = list(yaml.safe_load_all(Path(path).read_text(encoding="utf-8")))
        for index, document in enumerate(documents, 1):
            errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
            for error in errors:
                where = "/".join(str(p) for p in error.absolute_path) or "(top)"
                print(f"{path}: document {index}: {where}: {error.message}", file=sys.stderr)
            failed += bool(errors)
        if not failed:
            print(f"schema ok: {path} ({len(documents)} documents)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
