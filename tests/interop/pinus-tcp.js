// A raw TCP connection framed by pinus-protocol (the independent codec): whole packets are
// split from the stream here (pinus' decoder wants whole packets) and decoded one by one.
'use strict';

const net = require('net');
const { Package } = require('pinus-protocol');

/**
 * Connects to `host:port`; `onFailure(error)` is called on a socket error, or when the server
 * closes the connection before `end()`.
 */
function connectPinus(host, port, onFailure) {
  const socket = net.connect(port, host);
  let buffer = Buffer.alloc(0);
  const waiting = [];
  const packets = [];
  const deliver = () => {
    while (waiting.length && packets.length) waiting.shift()(packets.shift());
  };
  socket.on('data', (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    while (buffer.length >= 4) {
      const length = (buffer[1] << 16) | (buffer[2] << 8) | buffer[3];
      if (buffer.length < 4 + length) break;
      packets.push(Package.decode(buffer.subarray(0, 4 + length)));
      buffer = buffer.subarray(4 + length);
    }
    deliver();
  });
  let ending = false;
  socket.on('error', onFailure);
  socket.on('close', () => ending || onFailure('the server closed the connection'));
  return {
    /** Sends one packet of `type` with `body`. */
    send: (type, body) => socket.write(Package.encode(type, body)),
    /** The next decoded packet. */
    next: () => new Promise((resolve) => { waiting.push(resolve); deliver(); }),
    /** Closes the connection (a close after this is not a failure). */
    end: () => { ending = true; socket.end(); },
  };
}

module.exports = { connectPinus };
