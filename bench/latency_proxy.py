#!/usr/bin/env python3
"""A TCP proxy that holds every byte for DELAY ms in each direction: the database seems to be
2 x DELAY ms of round trip away, as a hosted one is from a laptop or a CI runner.

    latency_proxy.py LISTEN_PORT TARGET_PORT DELAY_MS

Listens on 127.0.0.1:LISTEN_PORT, forwards to 127.0.0.1:TARGET_PORT, prints "ready" on
stdout once listening, and runs until killed. Each chunk read leaves DELAY ms after it
arrived, in order; delays do not add up, so a client that sends several messages before it
reads (a pipeline) waits one round trip for all of them, as it would on a real link, while
a client that waits for each answer pays one round trip per message. asyncio's timers
round up to the millisecond, so a hop takes DELAY to DELAY + 1 ms. Bandwidth is not
limited. Standard library only.
"""

import asyncio
import sys


async def pump(reader, writer, delay):
    """Copies reader to writer, each chunk delay seconds after it came."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def receive():
        while True:
            try:
                data = await reader.read(65536)
            except (ConnectionError, OSError):
                data = b""
            queue.put_nowait((loop.time() + delay, data))
            if not data:
                return

    async def send():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                break
            try:
                writer.write(data)
                await writer.drain()
            except (ConnectionError, OSError):
                break
        writer.close()

    await asyncio.gather(receive(), send())


async def main():
    if len(sys.argv) != 4:
        sys.stderr.write("usage: latency_proxy.py LISTEN_PORT TARGET_PORT DELAY_MS\n")
        sys.exit(2)
    listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
    delay = float(sys.argv[3]) / 1000.0

    async def handle(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pump(client_reader, server_writer, delay),
                             pump(server_reader, client_writer, delay))

    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
