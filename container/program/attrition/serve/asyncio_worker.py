"""gunicorn's asyncio worker, mended where its defaults lose requests.

1. Its C HTTP/1 parser is given room for a whole request behind a kept-alive response. When a
client sends its next request on a kept-alive connection while gunicorn is still finishing the
previous answer, the parser holds those bytes until the connection loop comes back for them.
gunicorn_h1c keeps at most 64 KiB there (`limit_remaining`), and gunicorn closes a connection
whose held bytes were cut, unanswered: every request over 64 KiB that came right behind a
response was dropped (SageMaker's front end keeps connections alive, and Batch Transform sends
up to 6 MB). The pure-Python parser has no such cap but costs ~20 % of the single-row
throughput; this keeps the C parser and lets it hold one whole request up to the payload limit
(bodies are read whole before work anyway, so memory per connection stays of the same order).

2. Its listening socket keeps the configured backlog. The worker hands the socket to the event
loop's create_server, which listens again with asyncio's default backlog of 100: the 2,048
gunicorn set was lost as soon as a worker started, and a burst of 200 connections had ~15 % of
them wait a second for a retransmitted SYN.
"""

from gunicorn.asgi.protocol import ASGIProtocol

# Room for the request line and headers besides the body (gunicorn's own limits: 100 fields
# of at most 8,190 bytes, a request line of at most 4,094).
HEADER_ROOM = 1024 * 1024


def hold_whole_requests(max_payload_bytes: int) -> None:
    """Make every connection of this worker use a C parser that holds `max_payload_bytes`
    plus headers behind a completed request. Without gunicorn_h1c, nothing to do."""
    if not ASGIProtocol._check_h1c_protocol_available():
        return
    base = ASGIProtocol._h1c_protocol_class
    limit = max_payload_bytes + HEADER_ROOM

    class Parser(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("limit_remaining", limit)
            super().__init__(*args, **kwargs)

    ASGIProtocol._h1c_protocol_class = Parser


def keep_backlog(worker) -> None:
    """Have this worker's event loop listen with gunicorn's `backlog`, not asyncio's 100."""
    create_server = worker.loop.create_server

    async def create_server_keeping_backlog(*args, **kwargs):
        kwargs.setdefault("backlog", worker.cfg.backlog)
        return await create_server(*args, **kwargs)

    worker.loop.create_server = create_server_keeping_backlog
