#!/usr/bin/env python3
"""Check a suivi audit export (JSON) without suivi and without its database.

    python3 verify_export.py EXPORT.json PUBLIC_KEY.pem

Needs Python 3.9+ and the `cryptography` package (pip install cryptography); nothing else.
PUBLIC_KEY.pem is the key the association handed you (`suivi audit public-key`), not the one
inside the file: a forger could put their own there.

What it checks, in this order (exit 0 when all hold, 1 naming the first that does not):
1. each event's `digest` is the SHA-256 of the event as written (every key but `digest`);
2. each case's `digest` is the SHA-256 of the case as written (every key but `digest`);
3. the manifest's `content_sha256` is the SHA-256 of the whole `cases` list;
4. the counts in the manifest are those of the file;
5. the manifest's `signature` is a valid Ed25519 signature, by your key, of the manifest
   without its `signature` key.
"Written as" means canonical JSON: keys sorted, no spaces, UTF-8 (not \\u escapes).

The `hash` of each event is its link in the association's hash chain: keep the last one of
each case (`head`) and the manifest's `checkpoint.digest`; a later export or the association's
checkpoints must still contain them, unchanged.
"""

import base64
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import load_pem_public_key


def canonical(value):
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sha256(value):
    return hashlib.sha256(canonical(value).encode("utf-8")).hexdigest()


def without(mapping, key):
    return {k: v for k, v in mapping.items() if k != key}


def problems(doc, public_key):
    manifest, cases = doc["manifest"], doc["cases"]
    events = 0
    for case in cases:
        for event in case["events"]:
            if sha256(without(event, "digest")) != event["digest"]:
                return f"dossier {case['case']}, événement n° {event['seq']} : modifié"
        if sha256(without(case, "digest")) != case["digest"]:
            return f"dossier {case['case']} : modifié (hors événements)"
        events += len(case["events"])
    if sha256(cases) != manifest["content_sha256"]:
        return "contenu modifié : dossier ajouté, retiré ou réordonné"
    if (manifest["counts"]["cases"], manifest["counts"]["events"]) != (len(cases), events):
        return "manifeste : les nombres de dossiers ou d'événements diffèrent"
    message = canonical(without(manifest, "signature")).encode("utf-8")
    try:
        public_key.verify(base64.b64decode(manifest["signature"]), message)
    except (InvalidSignature, ValueError):
        return "signature invalide : manifeste modifié, ou signé par une autre clé"
    return None


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    with open(sys.argv[1], encoding="utf-8") as file:
        try:
            doc = json.load(file)
        except json.JSONDecodeError as error:
            print(f"Export ALTÉRÉ : JSON illisible ({error})")
            sys.exit(1)
    with open(sys.argv[2], "rb") as file:
        public_key = load_pem_public_key(file.read())
    found = problems(doc, public_key)
    if found:
        print(f"Export ALTÉRÉ : {found}")
        sys.exit(1)
    manifest = doc["manifest"]
    print(f"Export intègre : {manifest['landlord']['name']}, du {manifest['period']['from']} "
          f"au {manifest['period']['to']}, {manifest['counts']['cases']} dossier(s), "
          f"{manifest['counts']['events']} événement(s), signé par la clé {manifest['key_id']}.")


if __name__ == "__main__":
    main()
