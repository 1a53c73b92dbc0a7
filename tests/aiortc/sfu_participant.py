"""A Noom participant whose WebRTC stack is aiortc, not a browser's: it joins a room over the
signaling WebSocket, answers every `sfu_offer` (docs/protocol.md, "Media through the server"),
sends a 320x240 orange picture with a white bar sweeping down it and a silent microphone, and
decodes what the server forwards from everyone else.

Usage: sfu_participant.py WS_URL ROOM NICKNAME

Prints one JSON object a line: {"event": "joined", ...} once, then a {"event": "report", ...}
twice a second with the frames it has decoded from each other participant, by peer id, and
whose tracks the latest offer (and `sfu_slots` since) brings.
It exits when its socket closes, on stdin's end, or after LIFETIME seconds.
"""

import asyncio
import json
import sys

import aioice.ice
import websockets
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError
from av import VideoFrame

# Tests reach only loopback, and aioice leaves 127.0.0.1 out of its host candidates.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

WIDTH, HEIGHT = 320, 240
# Y, Cb, Cr of the picture's orange (about rgb(229, 99, 15)); the bar is white.
ORANGE = (128, 64, 200)
BAR_ROWS = 16
# A test that forgets this process does not leave it running.
LIFETIME = 600


class OrangeCard(VideoStreamTrack):
    """The picture this participant sends: an encoder that sees motion keeps sending frames."""

    def __init__(self):
        super().__init__()
        self.frames = 0

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame(WIDTH, HEIGHT, "yuv420p")
        bar_top = (self.frames * 4) % HEIGHT
        self.frames += 1
        luma = frame.planes[0]
        rows = bytearray()
        for row in range(HEIGHT):
            value = 235 if bar_top <= row < bar_top + BAR_ROWS else ORANGE[0]
            rows += bytes([value]) * luma.line_size
        luma.update(bytes(rows))
        for plane, value in zip(frame.planes[1:], ORANGE[1:]):
            plane.update(bytes([value]) * plane.buffer_size)
        frame.pts = pts
        frame.time_base = time_base
        return frame


def say(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


class Participant:
    def __init__(self, socket):
        self.socket = socket
        self.peer_id = None
        self.media = None
        self.next_id = 0
        # By m-line: who it comes from (for others' lines) or what we send (our own lines).
        self.tracks = {}
        self.received = {}
        self.errors = []
        self.camera = OrangeCard()
        self.microphone = AudioStreamTrack()
        self.pc = self.new_connection()

    def new_connection(self):
        # No ICE servers: aiortc would otherwise ask a public STUN server. One transport for
        # all: with aiortc's default ("balanced", one per kind before bundling) the video of
        # the server's first offer never reaches the receivers.
        pc = RTCPeerConnection(
            RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        )
        pc.on("track", self.on_track)
        return pc

    async def send(self, kind, payload):
        self.next_id += 1
        await self.socket.send(
            json.dumps({"type": kind, "payload": payload, "id": self.next_id})
        )

    def on_track(self, track):
        mid = next(
            (t.mid for t in self.pc.getTransceivers() if t.receiver.track is track),
            None,
        )
        asyncio.ensure_future(self.decode(track, mid))

    async def decode(self, track, mid):
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            line = self.tracks.get(mid)
            if line is None or line["peer_id"] == self.peer_id:
                continue
            seen = self.received.setdefault(
                line["peer_id"],
                {"video_frames": 0, "width": 0, "height": 0, "audio_frames": 0},
            )
            if track.kind == "video":
                seen["video_frames"] += 1
                seen["width"], seen["height"] = frame.width, frame.height
            else:
                seen["audio_frames"] += 1

    async def answer(self, offer):
        self.tracks = {t["mid"]: t for t in offer["tracks"]}
        await self.pc.setRemoteDescription(
            RTCSessionDescription(sdp=offer["sdp"], type="offer")
        )
        for transceiver in self.pc.getTransceivers():
            line = self.tracks.get(transceiver.mid)
            if line is None or line["peer_id"] != self.peer_id:
                continue
            # Our own m-lines: we send on them (nothing on the screen's).
            transceiver.direction = "sendonly"
            if line["kind"] == "audio":
                transceiver.sender.replaceTrack(self.microphone)
            elif line["kind"] == "camera":
                transceiver.sender.replaceTrack(self.camera)
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        await self.send("sfu_answer", {"sdp": self.pc.localDescription.sdp})

    def move_slots(self, videos):
        """`sfu_slots`: our slots carry these cameras and screens now, and no others."""
        self.tracks = {
            mid: t
            for mid, t in self.tracks.items()
            if t["kind"] == "audio" or t["peer_id"] == self.peer_id
        }
        self.tracks.update({t["mid"]: t for t in videos})

    async def run(self, room, nickname):
        await self.send("join", {"room": room, "nickname": nickname})
        async for text in self.socket:
            message = json.loads(text)
            kind, payload = message["type"], message.get("payload", {})
            if kind == "welcome":
                self.peer_id = payload["peer_id"]
            elif kind == "joined":
                self.media = payload.get("media", "mesh")
                say("joined", peer_id=self.peer_id, media=self.media)
            elif kind == "media_changed":
                self.media = payload["media"]
            elif kind == "sfu_offer":
                await self.answer(payload)
            elif kind == "sfu_slots":
                self.move_slots(payload["tracks"])
            elif kind == "error":
                self.errors.append(payload.get("code"))

    async def report(self):
        while True:
            say(
                "report",
                media=self.media,
                connection=self.pc.connectionState,
                offered=sorted(
                    {t["peer_id"] for t in self.tracks.values()} - {self.peer_id}
                ),
                received=self.received,
                errors=self.errors,
            )
            await asyncio.sleep(0.5)


async def stdin_closed():
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)


async def main(url, room, nickname):
    async with websockets.connect(url) as socket:
        participant = Participant(socket)
        reporting = asyncio.ensure_future(participant.report())
        try:
            done, _ = await asyncio.wait(
                [
                    asyncio.ensure_future(participant.run(room, nickname)),
                    asyncio.ensure_future(stdin_closed()),
                ],
                timeout=LIFETIME,
                return_when=asyncio.FIRST_COMPLETED,
            )
            for task in done:
                task.result()
        finally:
            reporting.cancel()
            await participant.pc.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
