"""Drives videotube's resumable uploads (docs/api.md §3.13) with tuspy, a published tus 1.0.0 client,
as a real client would: a whole upload in chunks, and an upload interrupted after a few chunks and
finished by a new client instance from the offset the server reports. Each finished upload is
published through POST /api/v1/videos (videoFileUpload) and the stored video compared byte for byte
with the file sent.

Usage: python3 .ci/tus_clients.py <base URL> <access token>  (started by .ci/tus-clients)
"""

import os
import struct
import sys
import tempfile

import requests
from tusclient import client as tus

CHUNK = 64 * 1024


def mp4(size: int) -> bytes:
    """A file the server sniffs as MP4: an `ftyp` box, then random bytes in an `mdat` box."""
    ftyp = struct.pack(">I", 24) + b"ftypisom" + struct.pack(">I", 0x200) + b"isomiso2"
    body = os.urandom(size - len(ftyp) - 8)
    return ftyp + struct.pack(">I", len(body) + 8) + b"mdat" + body


def jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0" + b"\x00" * 60 + b"\xff\xd9"


def publish(base: str, token: str, location: str, title: str) -> dict:
    response = requests.post(
        f"{base}/api/v1/videos",
        headers={"Authorization": f"Bearer {token}"},
        data={"title": title, "description": "sent with tuspy", "videoFileUpload": location},
        files={"thumbnail": ("thumb.jpg", jpeg(), "image/jpeg")},
        timeout=60,
    )
    assert response.status_code == 201, (response.status_code, response.text)
    return response.json()["data"]


def stored_bytes(url: str) -> bytes:
    response = requests.get(url, timeout=60)
    assert response.status_code == 200, (url, response.status_code)
    return response.content


def check_consumed(base: str, token: str, location: str) -> None:
    head = requests.head(location, headers={"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"})
    assert head.status_code == 404, ("a published upload is consumed", head.status_code)


def whole_upload(base: str, token: str, path: str, sent: bytes) -> None:
    client = tus.TusClient(f"{base}/api/v1/uploads/tus", headers={"Authorization": f"Bearer {token}"})
    uploader = client.uploader(path, chunk_size=CHUNK, metadata={"field": "videoFile", "filename": "whole.mp4"})
    uploader.upload()
    assert uploader.offset == len(sent), uploader.offset
    video = publish(base, token, uploader.url, "whole")
    assert stored_bytes(video["videoFile"]) == sent, "the stored video differs from the file sent"
    check_consumed(base, token, uploader.url)
    print(f"whole upload: {len(sent)} bytes in {-(-len(sent) // CHUNK)} PATCHes, published, bytes equal")


def interrupted_upload(base: str, token: str, path: str, sent: bytes) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    first = tus.TusClient(f"{base}/api/v1/uploads/tus", headers=headers)
    uploader = first.uploader(path, chunk_size=CHUNK, metadata={"field": "videoFile", "filename": "resumed.mp4"})
    uploader.upload(stop_at=3 * CHUNK)
    location = uploader.url
    assert uploader.offset == 3 * CHUNK, uploader.offset
    del uploader, first  # the first client is gone; only the upload URL survives

    second = tus.TusClient(f"{base}/api/v1/uploads/tus", headers=headers)
    resumed = second.uploader(path, url=location, chunk_size=CHUNK)
    assert resumed.offset == 3 * CHUNK, ("the new client starts from the server's offset", resumed.offset)
    resumed.upload()
    assert resumed.offset == len(sent), resumed.offset
    video = publish(base, token, location, "resumed")
    assert stored_bytes(video["videoFile"]) == sent, "the stored video differs from the file sent"
    check_consumed(base, token, location)
    print(f"interrupted upload: stopped at {3 * CHUNK}, resumed by a new client from the server's offset, bytes equal")


def main() -> None:
    base, token = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as directory:
        for name, scenario, size in [("whole", whole_upload, 700_001), ("resumed", interrupted_upload, 500_000)]:
            sent = mp4(size)
            path = os.path.join(directory, f"{name}.mp4")
            with open(path, "wb") as file:
                file.write(sent)
            scenario(base, token, path, sent)


if __name__ == "__main__":
    main()
