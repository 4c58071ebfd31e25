"""Drives Haechi's TAXII 2.1 server as two partner organisations would, with the OASIS
taxii2-client (pinned by scripts/setup-test-tools).

Reads a JSON description of the hub on standard input (written by the Rust test
crates/haechi/tests/taxii_server.rs, which also starts the server and prepares it) and
asserts what each partner may see and do. Prints one `ok:` line per check; any failure is
an AssertionError or an HTTP error with its message, and a non-zero exit.
"""

import json
import sys
import uuid

import requests
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

MEDIA = "application/taxii+json;version=2.1"

hub = json.load(sys.stdin)
url = hub["url"]
ids = hub["ids"]
acme = (hub["acme"]["user"], hub["acme"]["password"])
beta = (hub["beta"]["user"], hub["beta"]["password"])


def ok(what):
    print("ok:", what, flush=True)


def status_of(call):
    """The HTTP status of a taxii2-client call that is expected to fail."""
    try:
        call()
    except requests.exceptions.HTTPError as e:
        return e.response.status_code
    raise AssertionError("the call succeeded but should have been refused")


def read_all(collection, **filters):
    """Every object of a collection, two per page, through as_pages (limit and next)."""
    objects = []
    for envelope in as_pages(collection.get_objects, per_request=2, **filters):
        objects.extend(envelope.get("objects", []))
    return objects


# Discovery and the API root.
server = Server(url + "/taxii2/", user=acme[0], password=acme[1])
assert server.title == "Haechi sharing hub", server.title
assert len(server.api_roots) == 1 and server.default is not None
root = server.default
assert MEDIA in root.versions, root.versions
assert root.max_content_length > 0
ok("discovery and API root")

# acme sees the two collections granted to it, never the third.
by_alias = {c.alias: c for c in root.collections}
assert set(by_alias) == {"shared", "inbox"}, sorted(by_alias)
shared, inbox = by_alias["shared"], by_alias["inbox"]
assert shared.can_read and not shared.can_write
assert inbox.can_read and inbox.can_write
ok("acme sees only its collections, with its permissions")

# TLP: acme (up to GREEN) receives CLEAR and GREEN; never AMBER, AMBER+STRICT, RED or
# unmarked (which counts as AMBER).
got = {o["id"] for o in read_all(shared)}
assert ids["clear"] in got and ids["green"] in got, got
for level in ("amber", "strict", "red", "unmarked"):
    assert ids[level] not in got, f"acme received the {level} object"
assert ids["multi"] in got
manifest = shared.get_manifest()
assert {r["id"] for r in manifest["objects"]} == got, "the manifest lists what objects lists"
ok(f"acme receives {len(got)} objects, all within TLP:GREEN, through paged reads")

assert status_of(lambda: shared.get_object(ids["red"])) == 404
assert status_of(lambda: shared.get_object(ids["amber"])) == 404
ok("a RED or AMBER object is not found for acme")

# Versions: the newest by default, every one on request, the version list.
versions = shared.object_versions(ids["multi"])["versions"]
assert len(versions) == 3, versions
newest = shared.get_object(ids["multi"])["objects"]
assert len(newest) == 1 and newest[0]["modified"] == max(versions), newest
every = shared.get_object(ids["multi"], version="all")["objects"]
assert len(every) == 3
first = shared.get_object(ids["multi"], version="first")["objects"]
assert first[0]["modified"] == min(versions)
ok("object versions: last, first, all and the version list")

# Filters: type and id, and added_after (nothing after the last date_added).
only = shared.get_objects(type="threat-actor").get("objects", [])
assert only and all(o["type"] == "threat-actor" for o in only)
one = shared.get_objects(id=ids["green"])["objects"]
assert [o["id"] for o in one] == [ids["green"]]
last_added = max(r["date_added"] for r in manifest["objects"])
assert shared.get_objects(added_after=last_added).get("objects", []) == []
ok("match[type], match[id] and added_after")

# Writing: acme adds to its inbox; one valid object (marked RED: its own), one invalid.
mine = f"indicator--{uuid.uuid4()}"
envelope = {
    "objects": [
        {
            "type": "indicator", "spec_version": "2.1", "id": mine,
            "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z",
            "pattern": "[domain-name:value = 'update-check.example']", "pattern_type": "stix",
            "valid_from": "2026-11-01T00:00:00Z",
            "object_marking_refs": ["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"],
        },
        {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}"},
    ]
}
status = inbox.add_objects(envelope)
assert status.status == "complete", status.status
assert (status.total_count, status.success_count, status.failure_count) == (2, 1, 1)
assert status.successes[0]["id"] == mine
assert "required" in status.failures[0]["message"], status.failures
again = root.get_status(status.id)
assert again.id == status.id and again.success_count == 1
ok("acme posts an envelope: one stored, one refused with the reason, status resource kept")

# A partner cannot version what another source shared (it would replace it for all).
takeover = {"objects": [{
    "type": "indicator", "spec_version": "2.1", "id": ids["center_inbox"],
    "created": "2026-10-01T00:00:00.000Z", "modified": "2026-12-01T00:00:00.000Z",
    "pattern": "[ipv4-addr:value = '192.0.2.1']", "pattern_type": "stix",
    "valid_from": "2026-10-01T00:00:00Z", "revoked": True,
}]}
refused = inbox.add_objects(takeover)
assert (refused.success_count, refused.failure_count) == (0, 1), refused.failures
assert "another source" in refused.failures[0]["message"], refused.failures
center_copy = inbox.get_object(ids["center_inbox"])["objects"][0]
assert center_copy["modified"] == "2026-10-01T00:00:00.000Z" and not center_copy.get("revoked")
ok("acme cannot supersede or revoke the center's object")

# Deleting takes every version of one's own object.
two = f"indicator--{uuid.uuid4()}"
for month in ("11", "12"):
    version = dict(envelope["objects"][0], id=two, modified=f"2026-{month}-15T00:00:00.000Z")
    version.pop("object_marking_refs")
    assert inbox.add_objects({"objects": [version]}).success_count == 1
assert len(inbox.object_versions(two)["versions"]) == 2
inbox.delete_object(two)
assert status_of(lambda: inbox.get_object(two)) == 404
assert status_of(lambda: inbox.object_versions(two)) == 404
ok("a delete removes every version of acme's own object")

# A partner always sees what it shared, whatever its TLP.
assert mine in {o["id"] for o in read_all(inbox)}
assert ids["center_inbox"] in {o["id"] for o in read_all(inbox)}
ok("acme reads back its own RED object")

# Writing where it may only read is refused by the server (403), not just by the client.
r = requests.post(
    shared.url + "objects/", auth=acme, data=json.dumps(envelope),
    headers={"Accept": MEDIA, "Content-Type": MEDIA},
)
assert r.status_code == 403, (r.status_code, r.text)
assert r.headers["Content-Type"].replace(" ", "") == MEDIA
assert json.loads(r.text)["http_status"] == "403"
ok("a POST to a read-only collection is 403 with a TAXII error resource")

# Deleting: acme takes back its own object, never the center's.
assert status_of(lambda: inbox.delete_object(ids["center_inbox"])) == 404
inbox.delete_object(mine)
assert status_of(lambda: inbox.get_object(mine)) == 404
ok("acme deletes its own object and not the center's")

# beta: AMBER entitled, shared only; it never sees acme's inbox or RED.
beta_root = ApiRoot(root.url, user=beta[0], password=beta[1])
assert {c.alias for c in beta_root.collections} == {"shared"}
beta_shared = beta_root.collections[0]
got = {o["id"] for o in read_all(beta_shared)}
for level in ("clear", "green", "amber", "unmarked"):
    assert ids[level] in got, f"beta did not receive the {level} object"
assert ids["strict"] not in got and ids["red"] not in got
hidden = Collection(inbox.url, user=beta[0], password=beta[1])
assert status_of(lambda: hidden.get_objects()) == 404
assert status_of(lambda: beta_root.get_status(status.id)) == 404, "acme's status is acme's"
ok("beta (AMBER) receives AMBER and unmarked, not AMBER+STRICT or RED; acme's inbox is 404")

# Media types and credentials.
r = requests.get(root.url, auth=acme, headers={"Accept": "application/json"})
assert r.status_code == 406, r.status_code
r = requests.get(root.url, auth=(acme[0], "wrong-password"), headers={"Accept": MEDIA})
assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic")
r = requests.post(
    inbox.url + "objects/", auth=acme, data=json.dumps(envelope),
    headers={"Accept": MEDIA, "Content-Type": "application/json"},
)
assert r.status_code == 415, r.status_code
ok("406 for a wrong Accept, 415 for a wrong Content-Type, 401 for a wrong password")
print("all TAXII checks passed")
