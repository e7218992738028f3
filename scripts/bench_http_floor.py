"""The HTTP stack's floor: a bare proxy (read the body, one upstream POST, relay the bytes)
with no pipeline, on seawall.net or on aiohttp, to price the stack alone.

    python scripts/bench_http_floor.py net 18622 [UPSTREAM_URL] &
    scripts/cpu_per_request.sh $! 18622
"""
import asyncio
import sys

import uvloop

HEADERS = {"content-type": "application/json", "authorization": "Bearer x"}


async def main(kind: str, port: int, upstream: str) -> None:
    loop = asyncio.get_running_loop()
    if kind == "aiohttp":
        import aiohttp
        from aiohttp import web

        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100),
                                        cookie_jar=aiohttp.DummyCookieJar(), skip_auto_headers=("User-Agent",))

        async def handler(request):
            body = await request.read()
            async with session.post(upstream, data=body, headers=HEADERS) as r:
                data = await r.read()
            return web.Response(body=data, content_type="application/json")

        await loop.create_server(web.Server(handler, handler_cancellation=True, access_log=None), "127.0.0.1", port)
    else:
        from seawall.net.client import Client
        from seawall.net.server import Response, Server

        client = Client(limit=100)

        async def handler(request):
            body = await request.read(1 << 20)
            r = await client.request("POST", upstream, body=body, headers=HEADERS)
            return Response(await r.read(), content_type="application/json")

        await loop.create_server(Server(handler), "127.0.0.1", port)
    await asyncio.Event().wait()


if __name__ == "__main__":
    uvloop.install()
    asyncio.run(main(sys.argv[1], int(sys.argv[2]),
                     sys.argv[3] if len(sys.argv) > 3 else "http://127.0.0.1:18000/v1/chat/completions"))
