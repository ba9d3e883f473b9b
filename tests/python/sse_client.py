"""A published SSE client (httpx-sse) on videotube's notification stream (docs/api.md §3.17.3).

Usage: sse_client.py <stream URL> <access token> <deadline seconds>

Prints "ready" once the stream answered 200 with text/event-stream (the server has registered it
by then), then one line per `notification` event: {"id": ..., "event": ..., "data": <parsed JSON>},
and exits after the first one. Exits 1 if none arrives before the deadline.
"""

import json
import os
import sys
import threading

import httpx
from httpx_sse import connect_sse


def give_up() -> None:
    print(json.dumps({"deadline": True}), flush=True)
    os._exit(1)


def main() -> int:
    url, token, deadline = sys.argv[1], sys.argv[2], float(sys.argv[3])
    # The stream stays open: give up after the deadline whatever the client is doing.
    threading.Timer(deadline, give_up).start()
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=httpx.Timeout(deadline, read=deadline)) as client:
        with connect_sse(client, "GET", url, headers=headers) as source:
            source.response.raise_for_status()
            content_type = source.response.headers.get("content-type", "")
            print(json.dumps({"ready": True, "contentType": content_type}), flush=True)
            for sse in source.iter_sse():
                if sse.event == "notification":
                    print(json.dumps({"id": sse.id, "event": sse.event, "data": json.loads(sse.data)}), flush=True)
                    os._exit(0)
    return 1


if __name__ == "__main__":
    sys.exit(main())
