#!/usr/bin/env python3
"""The reference CycloneDX validator for Haechi's tests.

Every CycloneDX document Haechi emits (SBOMs, VEX) must validate against the official
CycloneDX JSON schema of the version it declares. The schemas, and the validator that
applies them, come from the CycloneDX project's own Python library, cyclonedx-python-lib
(pinned with its json-validation extra, installed by scripts/setup-test-tools), so the
tests do not depend on Haechi's reading of the specification. Validation is strict
(JsonStrictValidator: unknown properties are errors) and offline (the schemas the BOM
schema refers to -- SPDX licence ids, JSF, cryptography definitions -- are bundled).

    scripts/validate-cyclonedx.py FILE...

prints one JSON line per file,
    {"file": F, "specVersion": V, "isValid": bool,
     "errors": [{"instancePath": p, "message": m, "validator": kw, "schemaPath": s}, ...]}
(specVersion is null when the document does not declare one), and exits 0 if every file
is valid, 1 if any is not (or cannot be read or parsed, or declares a version the library
has no JSON schema for: JSON exists from CycloneDX 1.2 on), 2 if the library is missing
or no file was given.
"""
import json
import sys

MAX_MESSAGE = 1000  # jsonschema quotes whole sub-documents in some messages


def pointer(parts):
    """A JSON pointer (RFC 6901) from jsonschema's deque of path elements."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def main(argv):
    if not argv:
        print("usage: scripts/validate-cyclonedx.py FILE...", file=sys.stderr)
        return 2
    try:
        from cyclonedx.schema import SchemaVersion
        from cyclonedx.validation.json import JsonStrictValidator
        import jsonschema  # noqa: F401  (the json-validation extra)
        import referencing  # noqa: F401
    except ImportError as e:
        print(f"cyclonedx-python-lib[json-validation] is not installed ({e}); "
              "run scripts/setup-test-tools", file=sys.stderr)
        return 2

    # Exactly the versions the library has a JSON schema for ("1.2" ... ; not "1.6.0").
    versions = {}
    for sv in SchemaVersion:
        try:
            versions[sv.to_version()] = JsonStrictValidator(sv)
        except ValueError:  # 1.0 and 1.1 were XML only
            pass

    def validator_for(spec_version):
        return versions.get(spec_version)

    all_valid = True
    for path in argv:
        line = {"file": path, "specVersion": None, "isValid": False, "errors": []}
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
            doc = json.loads(text)
        except (OSError, UnicodeDecodeError, ValueError) as e:
            line["errors"].append({"instancePath": "", "message": f"{type(e).__name__}: {e}",
                                   "validator": "read" if isinstance(e, OSError) else "json",
                                   "schemaPath": ""})
        else:
            spec_version = doc.get("specVersion") if isinstance(doc, dict) else None
            line["specVersion"] = spec_version
            validator = validator_for(spec_version) if isinstance(spec_version, str) else None
            if validator is None:
                line["errors"].append({
                    "instancePath": "/specVersion",
                    "message": "the document declares no specVersion" if spec_version is None
                    else f"no CycloneDX JSON schema for specVersion {spec_version!r}",
                    "validator": "specVersion", "schemaPath": ""})
            else:
                errors = validator.validate_str(text, all_errors=True) or ()
                for err in errors:
                    e = err.data  # a jsonschema.ValidationError
                    message = e.message
                    if len(message) > MAX_MESSAGE:
                        message = message[:MAX_MESSAGE] + "..."
                    line["errors"].append({
                        "instancePath": pointer(e.absolute_path),
                        "message": message,
                        "validator": e.validator,
                        "schemaPath": pointer(e.absolute_schema_path),
                    })
                line["isValid"] = not line["errors"]
        all_valid = all_valid and line["isValid"]
        print(json.dumps(line), flush=True)
    return 0 if all_valid else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
