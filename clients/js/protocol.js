// The nano/Pomelo wire protocol: packets and messages, as plain functions over Uint8Array.
// No dependencies; runs in browsers and in Node.

export const PacketType = Object.freeze({
  HANDSHAKE: 1,
  HANDSHAKE_ACK: 2,
  HEARTBEAT: 3,
  DATA: 4,
  KICK: 5,
});

export const MessageType = Object.freeze({
  REQUEST: 0,
  NOTIFY: 1,
  RESPONSE: 2,
  PUSH: 3,
});

const HEADER_LEN = 4;
const MAX_BODY_LEN = 0xffffff;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8Encode(text) {
  return encoder.encode(text);
}

export function utf8Decode(bytes) {
  return decoder.decode(bytes);
}

/** Encodes one packet: `[type][length: 3 bytes, big-endian][body]`. */
export function encodePacket(type, body = new Uint8Array(0)) {
  if (body.length > MAX_BODY_LEN) throw new RangeError(`packet body of ${body.length} bytes is too long`);
  const out = new Uint8Array(HEADER_LEN + body.length);
  out[0] = type;
  out[1] = (body.length >> 16) & 0xff;
  out[2] = (body.length >> 8) & 0xff;
  out[3] = body.length & 0xff;
  out.set(body, HEADER_LEN);
  return out;
}

/**
 * Splits bytes into packets. Returns `{ packets, rest }`: the whole packets, and the bytes of
 * an incomplete one to keep for the next read. Throws on an unknown packet type or a body over
 * `maxBodyLen`.
 */
export function decodePackets(bytes, maxBodyLen = 65536) {
  const packets = [];
  let offset = 0;
  while (bytes.length - offset >= HEADER_LEN) {
    const type = bytes[offset];
    if (type < PacketType.HANDSHAKE || type > PacketType.KICK) throw new Error(`unknown packet type ${type}`);
    const length = (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3];
    if (length > maxBodyLen) throw new Error(`packet body of ${length} bytes exceeds ${maxBodyLen}`);
    if (bytes.length - offset - HEADER_LEN < length) break;
    const start = offset + HEADER_LEN;
    packets.push({ type, body: bytes.subarray(start, start + length) });
    offset = start + length;
  }
  return { packets, rest: bytes.subarray(offset) };
}

function varintLength(id) {
  let length = 1;
  while (id >= 128) {
    id = Math.floor(id / 128);
    length += 1;
  }
  return length;
}

/**
 * Encodes a message. `route` is a string, or a number when compressed through the dictionary.
 * `id` is used by requests and responses only.
 */
export function encodeMessage({ type, id = 0, route = '', body = new Uint8Array(0) }) {
  const hasId = type === MessageType.REQUEST || type === MessageType.RESPONSE;
  const hasRoute = type !== MessageType.RESPONSE;
  const compressed = hasRoute && typeof route === 'number';
  const routeBytes = hasRoute && !compressed ? utf8Encode(route) : null;
  if (routeBytes && routeBytes.length > 255) throw new RangeError(`route "${route}" is longer than 255 bytes`);
  if (compressed && (route < 0 || route > 0xffff)) throw new RangeError(`route code ${route} out of range`);
  if (hasId && (!Number.isSafeInteger(id) || id < 0)) throw new RangeError(`invalid message id ${id}`);

  let length = 1 + body.length;
  if (hasId) length += varintLength(id);
  if (hasRoute) length += compressed ? 2 : 1 + routeBytes.length;
  const out = new Uint8Array(length);
  let offset = 0;
  out[offset++] = (type << 1) | (compressed ? 1 : 0);
  if (hasId) {
    let rest = id;
    do {
      let byte = rest % 128;
      rest = Math.floor(rest / 128);
      if (rest > 0) byte |= 0x80;
      out[offset++] = byte;
    } while (rest > 0);
  }
  if (hasRoute) {
    if (compressed) {
      out[offset++] = (route >> 8) & 0xff;
      out[offset++] = route & 0xff;
    } else {
      out[offset++] = routeBytes.length;
      out.set(routeBytes, offset);
      offset += routeBytes.length;
    }
  }
  out.set(body, offset);
  return out;
}

/**
 * Decodes a message. A compressed route comes back as a number (resolve it with the
 * dictionary). Throws on malformed input.
 */
export function decodeMessage(bytes) {
  if (bytes.length < 1) throw new Error('empty message');
  let offset = 0;
  const flag = bytes[offset++];
  const type = (flag >> 1) & 0x07;
  if (type > MessageType.PUSH) throw new Error(`invalid message type ${type}`);
  const compressed = (flag & 1) === 1;
  let id = 0;
  if (type === MessageType.REQUEST || type === MessageType.RESPONSE) {
    let multiplier = 1;
    for (let i = 0; ; i++) {
      if (offset >= bytes.length) throw new Error('message truncated inside the id');
      if (i >= 8) throw new Error('message id too large');
      const byte = bytes[offset++];
      id += (byte & 0x7f) * multiplier;
      multiplier *= 128;
      if (byte < 0x80) break;
    }
  }
  let route = null;
  if (type !== MessageType.RESPONSE) {
    if (compressed) {
      if (offset + 2 > bytes.length) throw new Error('message truncated inside the route code');
      route = (bytes[offset] << 8) | bytes[offset + 1];
      offset += 2;
    } else {
      if (offset >= bytes.length) throw new Error('message truncated before the route');
      const length = bytes[offset++];
      if (offset + length > bytes.length) throw new Error('route runs past the end of the message');
      route = utf8Decode(bytes.subarray(offset, offset + length));
      offset += length;
    }
  }
  return { type, id, route, compressed, error: (flag & 0x20) !== 0, body: bytes.subarray(offset) };
}
