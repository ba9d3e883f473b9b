"""Schemathesis hooks for .ci/schemathesis (loaded through SCHEMATHESIS_HOOKS).

Each works around something a generator cannot do, never around a rule of the API; the dropped
failures are counted in the run's summary ("dropped by `filter_failure`").

1. File parts are judged by their content (docs/api.md §1.11); the OpenAPI document lists the
   accepted media types of each file field in its multipart `encoding`. Schemathesis has built-in
   files for some image types only, so each listed media type gets the smallest content the server
   recognises as that format.
2. A failure is kept only when the request actually sent agrees with its label. Schemathesis labels
   a case positive or negative by how it generated it, and two of its generators mislabel: the
   coverage phase fills required multipart fields of a "positive" body with empty strings whatever
   their schema says, and negative mutations of an `anyOf` ("at least one of" rules) or of the type
   of a multipart text part (every part is text on the wire) can leave a request that is valid as
   sent. Such a request is checked again against the document, as it went on the wire: an ST202
   (valid request refused) is dropped when the request sent was in fact invalid, an ST201 (invalid
   request accepted) when only the body was mutated and it was in fact valid.
3. Values a generator cannot know: a direct-upload result needs the Cloudinary media backend and a
   signature made with its secret (docs/api.md §3.11; this run uses the local backend, where every
   such value answers the documented 400), `oldPassword` must be the caller's current password
   (400 "Invalid old password", docs/api.md §3.3.4), and so must the `password` confirming an account
   deletion (400 "Invalid password", §3.3.10). Only those three answers are dropped.
4. Passwords are limited to 72 bytes of UTF-8 (bcrypt reads no further), which JSON Schema cannot
   say: the document has `maxLength: 72` (characters) and states the byte rule in the description.
   A 400 "<field> must be at most 72 bytes" is dropped only when the value sent for that field is
   indeed longer than 72 bytes.
5. Resumable uploads (docs/api.md §3.13, tus 1.0.0). Upload bytes (`application/offset+octet-stream`)
   are sent as raw bytes, like `application/octet-stream`. A field's size limit depends on the
   `field` named inside the base64 `Upload-Metadata`, and creation-with-upload bytes must fit the
   `Upload-Length` header, relations JSON Schema cannot state: on `POST /uploads/tus` a 413 is
   dropped only when the `Upload-Length` sent is above the limit of the field sent (default limits:
   5 MB for images, 2 GB for videos), or the bytes sent are more than `Upload-Length`. And a
   request whose only mutation is an extra, undocumented header (schemathesis' "unexpected
   properties" for header objects) is valid HTTP: servers ignore headers they do not know (tus
   clients send their own), so an ST201 for it is dropped; so is an ST201 answered 412 for a
   `Tus-Resumable` other than 1.0.0, the status tus 1.0.0 prescribes for it, whatever else the
   request lacks (the checks' lists of rejection statuses do not include 412).
6. Tags are one comma-separated string (docs/api.md §3.16.1): at most 15 distinct tags of 1 to 30
   characters each once trimmed, a leading `#` dropped and lowercased, which JSON Schema cannot say
   (the document states it in the description). A 400 with that rule's message is dropped only when
   the `tags` value sent indeed breaks it.
"""

import base64
import json
import os

import schemathesis
from hypothesis import strategies as st

# The signatures the server sniffs (src/media/sniff.rs), padded to a few bytes.
SAMPLES = {
    "image/jpeg": b"\xff\xd8\xff\xe0" + bytes(12),
    "image/png": b"\x89PNG\r\n\x1a\n" + bytes(8),
    "image/gif": b"GIF89a" + bytes(10),
    "image/webp": b"RIFF\x1a\x00\x00\x00WEBPVP8L" + bytes(4),
    "video/mp4": b"\x00\x00\x00\x18ftypisom" + bytes(12),
    "video/quicktime": b"\x00\x00\x00\x14ftypqt  " + bytes(12),
    "video/webm": b"\x1a\x45\xdf\xa3\x9f\x42\x82\x84webm" + bytes(8),
    "video/x-matroska": b"\x1a\x45\xdf\xa3\x9f\x42\x82\x88matroska" + bytes(8),
}

for media_type, sample in SAMPLES.items():
    schemathesis.openapi.media_type(media_type, st.just(sample))

schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")

# Default field limits of the run's server (docs/api.md §1.11), and the base64 of each field name.
TUS_FIELD_LIMITS = {"avatar": 5 * 1024 * 1024, "coverImage": 5 * 1024 * 1024, "thumbnail": 5 * 1024 * 1024,
                    "videoFile": 2 * 1024 * 1024 * 1024}
UNKNOWN_HEADERS = {"x-schemathesis-unknown-property", "schemathesis-unknown-property", "unknown-property-0"}

UNKNOWABLE = {
    "Direct uploads need the Cloudinary media backend, which is not configured",
    "Invalid old password",
    "Invalid password",
}

INVALID_TAGS = "tags must be at most 15, each 1 to 30 characters"

_ABSENT = object()


def _tags_break_the_rule(raw):
    """Whether a `tags` string breaks docs/api.md §3.16.1 (as `Tags::parse` applies it)."""
    if not raw.strip():
        return False
    tags = []
    for piece in raw.split(","):
        piece = piece.strip()
        tag = (piece[1:] if piece.startswith("#") else piece).strip().lower()
        if not 1 <= len(tag) <= 30:
            return True
        if tag not in tags:
            tags.append(tag)
    return len(tags) > 15


def _part_text(value):
    """A multipart value as the server reads it: text, or a file as that many bytes."""
    if isinstance(value, list):
        # Repeated parts: the first one wins (docs/api.md §1.2); none sent when empty.
        return _part_text(value[0]) if value else _ABSENT
    data = getattr(value, "data", value)
    if isinstance(data, (bytes, bytearray)):
        return "x" * len(data)
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _body_as_sent(case):
    body = getattr(case.body, "body", case.body)
    if not isinstance(body, dict) or case.media_type != "multipart/form-data":
        return body
    sent = {}
    for name, value in body.items():
        text = _part_text(value)
        if text is not _ABSENT:
            sent[name] = text
    return sent


def _sent_body_is_valid(case):
    """Whether the body sent validates against the document, or `None` when that cannot be told."""
    parameter = case.operation.get_body_for_media_type(case.media_type)
    if parameter is None:
        return None
    try:
        return parameter.is_valid(_body_as_sent(case))
    except Exception:
        return None


def _negative_locations(case):
    return {location for location, info in case.meta.components.items() if info.mode.is_negative}


def _log(reason, failure, case, response):
    """Appends each dropped failure to $SCHEMATHESIS_DROPPED_LOG, when set, for review."""
    path = os.environ.get("SCHEMATHESIS_DROPPED_LOG")
    if path:
        with open(path, "a") as log:
            body = _body_as_sent(case)
            line = {"reason": reason, "code": failure.code, "operation": case.operation.label,
                    "media_type": case.media_type, "status": response.status_code,
                    "response": response.content[:300].decode("utf-8", "replace"), "body": repr(body)[:400]}
            log.write(json.dumps(line) + "\n")


@schemathesis.hook
def filter_failure(context, failure, case, response):
    keep = _keep(failure, case, response)
    if keep is not True:
        _log(keep, failure, case, response)
    return keep is True


def _header(case, name):
    for key, value in (case.headers or {}).items():
        if key.lower() == name.lower():
            return str(value).strip()
    return None


def _tus_size_relation(case, response):
    """A 413 of tus creation that only the relation between headers (and body) explains."""
    if response.status_code != 413 or case.operation.label != "POST /api/v1/uploads/tus":
        return False
    length = _header(case, "Upload-Length") or ""
    if not length.isdigit():
        return False
    # The bytes as they went on the wire.
    sent = getattr(getattr(response, "request", None), "body", None)
    if isinstance(sent, str):
        sent = sent.encode("utf-8", "surrogatepass")
    if isinstance(sent, (bytes, bytearray)) and len(sent) > int(length):
        return True
    pairs = dict(pair.strip().partition(" ")[::2] for pair in (_header(case, "Upload-Metadata") or "").split(","))
    try:
        field = base64.b64decode(pairs.get("field", "")).decode()
    except ValueError:
        return False
    return field in TUS_FIELD_LIMITS and int(length) > TUS_FIELD_LIMITS[field]


def _keep(failure, case, response):
    if _tus_size_relation(case, response):
        return "tus size relation"
    if response.status_code == 412 and _header(case, "Tus-Resumable") != "1.0.0":
        return "tus version refused with the protocol's 412"
    if failure.code == "ST201" and case.meta is not None:
        only_headers = {location.value for location in _negative_locations(case)} == {"header"}
        if only_headers and any(key.lower() in UNKNOWN_HEADERS for key in (case.headers or {})):
            return "unknown header"
    if failure.code == "ST202":
        if case.meta is not None and _sent_body_is_valid(case) is False:
            return "sent body invalid"
        try:
            message = json.loads(response.content).get("message")
        except (ValueError, AttributeError):
            return True
        if response.status_code == 400 and message in UNKNOWABLE:
            return "unknowable value"
        if response.status_code == 400 and message == INVALID_TAGS:
            sent = _body_as_sent(case)
            value = sent.get("tags") if isinstance(sent, dict) else None
            if isinstance(value, str) and _tags_break_the_rule(value):
                return "tags break the rule"
        if response.status_code == 400 and isinstance(message, str) and message.endswith(" must be at most 72 bytes"):
            field = message.split(" ", 1)[0]
            sent = _body_as_sent(case)
            value = sent.get(field) if isinstance(sent, dict) else None
            if isinstance(value, str) and len(value.encode("utf-8", "surrogatepass")) > 72:
                return "over 72 bytes"
        return True
    if failure.code == "ST201" and case.meta is not None:
        only_body = {location.value for location in _negative_locations(case)} == {"body"}
        return "sent body valid" if only_body and _sent_body_is_valid(case) is True else True
    return True
