// A scripted fake WebSocket for the client's tests (not shipped).

import { PacketType, decodePackets, encodePacket, utf8Encode } from '../protocol.js';

/**
 * A fake WebSocket whose server side is scripted by the test: `server(socket)` receives the
 * socket; `socket.sent` collects decoded packets from the client; `socket.deliver(bytes)`
 * sends bytes to the client.
 *
 * The assertions of `server` reach the test through `FakeSocket.run(clientSide)`: it fails as
 * soon as a fake server throws (even while the client side still waits for that server), and
 * otherwise returns once the client side and every fake server have finished.
 */
export function fakeSocketClass(server) {
  const sockets = [];
  const served = [];
  let serverFailed;
  const failure = new Promise((_, reject) => {
    serverFailed = reject;
  });
  failure.catch(() => {}); // reported by `run`
  class FakeSocket {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.sent = [];
      this.waiters = [];
      sockets.push(this);
      queueMicrotask(() => {
        this.readyState = 1;
        this.onopen && this.onopen();
        const work = new Promise((resolve) => resolve(server(this)));
        work.catch(serverFailed);
        served.push(work);
      });
    }
    send(bytes) {
      const { packets } = decodePackets(bytes);
      for (const packet of packets) {
        this.sent.push(packet);
        for (const waiter of this.waiters.splice(0)) waiter();
      }
    }
    async next(type) {
      for (;;) {
        const index = this.sent.findIndex((packet) => packet.type === type);
        if (index >= 0) return this.sent.splice(index, 1)[0];
        await new Promise((resolve) => this.waiters.push(resolve));
      }
    }
    deliver(bytes) {
      this.onmessage && this.onmessage({ data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) });
    }
    /** Replies to the client's handshake with code 200, `sys` and, when given, `user`. */
    handshake(sys = {}, user = undefined) {
      this.deliver(encodePacket(PacketType.HANDSHAKE, utf8Encode(JSON.stringify({ code: 200, sys, user }))));
    }
    close(code = 1000) {
      if (this.readyState === 3) return;
      this.readyState = 3;
      this.onclose && this.onclose({ code, reason: '' });
    }
  }
  FakeSocket.sockets = sockets;
  FakeSocket.run = async (clientSide) => {
    await Promise.race([clientSide(), failure]);
    await Promise.race([Promise.all(served), failure]);
  };
  return FakeSocket;
}
