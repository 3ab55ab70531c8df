"""A py-libp2p 0.8.1 peer speaking ONLY secio (+ yamux) over TCP: the secio interop partner of chain-node.

Modes (run with the virtualenv's python, see .ci/run and tests/py/requirements.txt):

  peer.py listen [--port N] [--timeout S] [--key-type ed25519|secp256k1] [--seed N]
      prints its full multiaddr (.../p2p/<id>) as the first stdout line, then one JSON line per
      connection event; serves /ipfs/ping/1.0.0; runs until killed or --timeout seconds.
  peer.py id [--key-type ...] [--seed N]
      prints the PeerId of that identity and exits.
  peer.py ping ADDR COUNT [--timeout S] [--key-type ...] [--seed N]
      dials ADDR (must end in /p2p/<id>), pings COUNT times on one stream and prints one JSON line per
      ping: {"op":"ping","peer_id":"...","rtt_us":N}; exits 0, or 1 after {"error":"..."} on stdout.

Identity: --seed N gives a deterministic key (Ed25519: the 32-byte secret is N little-endian in bytes
0-7, zeros after, the same convention as `chain-node --seed N`; Secp256k1: the secret is N as a 32-byte
big-endian integer). Without --seed the key is random. Logs go to stderr.
"""

import argparse
import json
import logging
import secrets
import sys
import time

import multiaddr
import trio

from libp2p import new_host
from libp2p.crypto import ed25519, secp256k1
from libp2p.custom_types import TProtocol
from libp2p.host.ping import ID as PING_ID, PING_LENGTH
from libp2p.io.utils import read_exactly
from libp2p.abc import INotifee
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.security.secio import transport as secio
from libp2p.stream_muxer.yamux.yamux import PROTOCOL_ID as YAMUX_PROTOCOL_ID, Yamux


def emit(obj: dict) -> None:
    """One JSON object per stdout line, flushed at once (the test reads it live)."""
    print(json.dumps(obj), flush=True)


def make_key_pair(key_type: str, seed: int | None):
    if key_type == "ed25519":
        if seed is None:
            return ed25519.create_new_key_pair()
        return ed25519.create_new_key_pair(seed.to_bytes(8, "little") + bytes(24))
    if key_type == "secp256k1":
        if seed is None:
            return secp256k1.create_new_key_pair()
        return secp256k1.create_new_key_pair(seed.to_bytes(32, "big"))
    raise ValueError(f"unknown key type {key_type!r}")


def make_host(key_pair, listen_addrs=None):
    """A host whose only security protocol is /secio/1.0.0 and whose only muxer is /yamux/1.0.0."""
    return new_host(
        key_pair=key_pair,
        sec_opt={TProtocol(secio.ID): secio.Transport(key_pair)},
        muxer_opt={TProtocol(YAMUX_PROTOCOL_ID): Yamux},
        listen_addrs=listen_addrs,
    )


class ConnectionPrinter(INotifee):
    """Prints a JSON line when a connection opens or closes (used by the listener)."""

    async def opened_stream(self, network, stream) -> None:
        pass

    async def closed_stream(self, network, stream) -> None:
        pass

    async def connected(self, network, conn) -> None:
        emit({"event": "connection", "peer_id": str(conn.muxed_conn.peer_id)})

    async def disconnected(self, network, conn) -> None:
        emit({"event": "connection_closed", "peer_id": str(conn.muxed_conn.peer_id)})

    async def listen(self, network, multiaddr) -> None:
        pass

    async def listen_close(self, network, multiaddr) -> None:
        pass


async def run_listen(args) -> int:
    key_pair = make_key_pair(args.key_type, args.seed)
    listen = multiaddr.Multiaddr(f"/ip4/127.0.0.1/tcp/{args.port}")
    host = make_host(key_pair, [listen])
    host.get_network().register_notifee(ConnectionPrinter())
    with trio.move_on_after(args.timeout):
        async with host.run(listen_addrs=[listen]):
            addrs = [a for a in host.get_addrs() if "/ip4/127.0.0.1/tcp/" in str(a)]
            if not addrs:
                emit({"error": f"no 127.0.0.1 listen address in {host.get_addrs()}"})
                return 1
            print(str(addrs[0]), flush=True)
            await trio.sleep_forever()
    return 0


async def run_ping(args) -> int:
    key_pair = make_key_pair(args.key_type, args.seed)
    host = make_host(key_pair)
    info = info_from_p2p_addr(multiaddr.Multiaddr(args.addr))
    try:
        with trio.fail_after(args.timeout):
            async with host.run(listen_addrs=[]):
                await host.connect(info)
                stream = await host.new_stream(info.peer_id, [PING_ID])
                for _ in range(args.count):
                    payload = secrets.token_bytes(PING_LENGTH)
                    start = time.perf_counter_ns()
                    await stream.write(payload)
                    pong = await read_exactly(stream, PING_LENGTH)
                    rtt_us = (time.perf_counter_ns() - start) // 1000
                    if pong != payload:
                        raise ValueError(f"pong {pong.hex()} != ping {payload.hex()}")
                    emit({"op": "ping", "peer_id": str(info.peer_id), "rtt_us": rtt_us})
                await stream.close()
    except Exception as e:  # any failure: the JSON error contract, exit 1
        logging.getLogger("peer").exception("ping failed")
        emit({"error": f"{type(e).__name__}: {e}"})
        return 1
    return 0


def main() -> int:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--key-type", choices=["ed25519", "secp256k1"], default="ed25519")
    common.add_argument("--seed", type=int, default=None)
    common.add_argument("--timeout", type=float, default=120.0)
    common.add_argument("--log", default="WARNING", help="python log level (stderr)")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    listen = sub.add_parser("listen", parents=[common])
    listen.add_argument("--port", type=int, default=0)
    sub.add_parser("id", parents=[common])
    ping = sub.add_parser("ping", parents=[common])
    ping.add_argument("addr")
    ping.add_argument("count", type=int)
    args = parser.parse_args()
    logging.basicConfig(level=args.log.upper(), stream=sys.stderr)
    if args.mode == "id":
        print(str(ID.from_pubkey(make_key_pair(args.key_type, args.seed).public_key)), flush=True)
        return 0
    if args.mode == "listen":
        return trio.run(run_listen, args)
    return trio.run(run_ping, args)


if __name__ == "__main__":
    sys.exit(main())
