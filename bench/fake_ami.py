"""A stand-in Asterisk Manager for load tests: it accepts any login, answers list actions with empty
lists and other actions with success, and writes the events it is given to every client. The
benchmarks use it to write AMI events at a known instant; the real Asterisk is in the tests."""

from __future__ import annotations

import asyncio
import time


def wire(event: dict[str, str]) -> bytes:
    return ("".join(f"{key}: {value}\r\n" for key, value in event.items()) + "\r\n").encode("utf-8")


class FakeAmi:
    LISTS = {"CoreShowChannels": "CoreShowChannelsComplete", "QueueStatus": "QueueStatusComplete", "QueueSummary": "QueueSummaryComplete"}

    def __init__(self) -> None:
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        for writer in self._writers:
            writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def clients(self) -> int:
        return len(self._writers)

    def send(self, *events: dict[str, str]) -> float:
        """Write the events to every client; return the instant (time.time()) they were written."""
        data = b"".join(wire(e) for e in events)
        for writer in self._writers:
            writer.write(data)
        return time.time()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        self._writers.append(writer)
        try:
            while True:
                block = await reader.readuntil(b"\r\n\r\n")
                fields = dict(
                    line.split(": ", 1) for line in block.decode("utf-8").split("\r\n") if ": " in line
                )
                self._answer(writer, fields.get("Action", ""), fields.get("ActionID", ""))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.remove(writer)

    def _answer(self, writer: asyncio.StreamWriter, action: str, action_id: str) -> None:
        complete = self.LISTS.get(action)
        if complete is None:
            writer.write(wire({"Response": "Success", "ActionID": action_id, "Message": f"{action} done"}))
            return
        writer.write(wire({"Response": "Success", "ActionID": action_id, "EventList": "start", "Message": "follows"}))
        writer.write(wire({"Event": complete, "ActionID": action_id, "EventList": "Complete", "ListItems": "0"}))
