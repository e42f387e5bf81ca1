// nano-client.js: a browser ES module client for nano-rs (and any nano/Pomelo server).
//
//   import { NanoClient } from './nano-client.js';
//   const client = new NanoClient('ws://127.0.0.1:3250/nano', { user: { name: 'ann' } });
//   await client.connect();
//   client.on('onMessage', (body) => console.log(body));
//   const joined = await client.request('room.join', { name: 'ann' });
//   client.notify('room.message', { name: 'ann', content: 'hi' });
//
// See README.md next to this file for every option and event.

import {
  MessageType,
  PacketType,
  decodeMessage,
  decodePackets,
  encodeMessage,
  encodePacket,
  utf8Decode,
  utf8Encode,
} from './protocol.js';

export { MessageType, PacketType } from './protocol.js';

/** An error response from the server (`{"code": ..., "msg": ...}` by default), or a client-side failure. */
export class NanoError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'NanoError';
    this.code = code;
  }
}

/**
 * The payload codec used when the server announces no serializer, or `json`. A codec is
 * `{ encode(value, route) -> Uint8Array, decode(bytes, route) -> value }`; `route` lets a
 * protobuf codec pick the message type. A codec may also have `decodeError(bytes) -> value`
 * for the bodies of responses with the error flag (nano-rs's protobuf apps send
 * `nano.ErrorBody { code, msg }` there); without it, those bodies go through `decode`.
 */
export const json = Object.freeze({
  encode: (value) => utf8Encode(JSON.stringify(value)),
  decode: (bytes) => {
    const text = utf8Decode(bytes);
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  },
});

/**
 * nano-rs's error convention: a response whose body is `{"code": n, "msg": "..."}` with n other
 * than 0 and 200, or any response carrying pitaya's error flag. Replace it with the
 * `errorBody` option when the server's error bodies have another shape.
 */
export function nanoErrorBody(body, flagged) {
  const looksLikeError =
    body && typeof body === 'object' && Number.isInteger(body.code) && typeof body.msg === 'string';
  if (looksLikeError && body.code !== 0 && body.code !== 200) return new NanoError(body.code, body.msg);
  if (flagged) return new NanoError(500, typeof body === 'string' ? body : JSON.stringify(body));
  return null;
}

/** A route dictionary cache that lives as long as the client object (across reconnects). */
function memoryDictCache() {
  let entry;
  return { get: () => entry, set: (value) => (entry = value) };
}

const DEFAULTS = {
  user: undefined,
  requestTimeout: 10000,
  connectTimeout: 10000,
  maxBodyLen: 65536,
  reconnect: false,
  resume: true,
  WebSocket: undefined,
  serializers: {},
  errorBody: nanoErrorBody,
  dictCache: undefined,
};

const RECONNECT_DEFAULTS = { retries: Infinity, baseDelay: 500, maxDelay: 10000 };

export class NanoClient {
  /**
   * @param {string} url `ws://host:port/path` or `wss://...`
   * @param {object} [options]
   * @param {object} [options.user] handshake user data, for the server's validator
   * @param {number} [options.requestTimeout=10000] ms a request waits for its response
   * @param {number} [options.connectTimeout=10000] ms to open the socket and handshake
   * @param {boolean|object} [options.reconnect=false] `true`, or `{ retries, baseDelay, maxDelay }`
   * @param {boolean} [options.resume=true] with `reconnect`, resume the session after a drop when
   *   the server offers it (the session resume extension)
   * @param {Function} [options.WebSocket] a WebSocket constructor (default: the global one)
   * @param {object} [options.serializers] codecs by the name a server announces in
   *   `sys.serializer` (`msgpack`, `protobuf`, ...); JSON is built in
   * @param {Function} [options.errorBody] `(body, flagged) => NanoError | null`: which responses
   *   are errors (default `nanoErrorBody`)
   * @param {object} [options.dictCache] `{ get(), set(entry) }`: where the route dictionary is
   *   kept between connections (default: in memory, for this client object)
   */
  constructor(url, options = {}) {
    this.url = url;
    this.options = { ...DEFAULTS, ...options };
    this.dictCache = this.options.dictCache || memoryDictCache();
    this.serializer = json;
    if (this.options.reconnect === true) this.options.reconnect = { ...RECONNECT_DEFAULTS };
    else if (this.options.reconnect) this.options.reconnect = { ...RECONNECT_DEFAULTS, ...this.options.reconnect };
    this.listeners = new Map();
    this.pending = new Map();
    this.nextId = 1;
    this.dict = new Map();
    this.codes = new Map();
    this.heartbeatMs = 0;
    this.socket = null;
    this.buffer = new Uint8Array(0);
    this.state = 'idle'; // idle | connecting | open | closed
    this.closedByUser = false;
    this.attempt = 0;
    this.timers = { beat: null, liveness: null, reconnect: null };
    this.handshakeReply = null;
    this.isReconnect = false; // the connection being opened is an automatic reconnect
    this.session = null; // { id, token, received } while the server offers to resume the session
    this.resuming = false; // the session dropped and a resume is attempted: its requests wait
  }

  /** The current session's id, when the server resumes sessions; `null` otherwise or once it ended. */
  get sessionId() {
    return this.session ? this.session.id : null;
  }

  /** Opens the connection and completes the handshake; resolves with the server's reply. */
  connect() {
    this.closedByUser = false;
    this.isReconnect = false;
    return this.open();
  }

  open() {
    const Socket = this.options.WebSocket || globalThis.WebSocket;
    if (!Socket) return Promise.reject(new NanoError(-1, 'no WebSocket implementation available'));
    this.state = 'connecting';
    this.buffer = new Uint8Array(0);
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (fn, value) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        fn(value);
      };
      const deadline = setTimeout(() => {
        settle(reject, new NanoError(-1, 'connect timed out'));
        this.dropSocket();
      }, this.options.connectTimeout);

      const socket = new Socket(this.url);
      socket.binaryType = 'arraybuffer';
      this.socket = socket;
      socket.onopen = () => {
        const sys = { type: 'nano-rs-js', version: '0.1.0' };
        const cached = this.dictCache.get();
        if (cached && typeof cached.version === 'string') sys.dictVersion = cached.version;
        const hello = { sys, user: this.helloUser() };
        this.sendPacket(PacketType.HANDSHAKE, utf8Encode(JSON.stringify(hello)));
      };
      socket.onmessage = (event) => {
        try {
          this.onBytes(new Uint8Array(event.data), (reply) => settle(resolve, reply), (err) => settle(reject, err));
        } catch (err) {
          this.emit('error', err);
          settle(reject, err);
          this.dropSocket();
        }
      };
      socket.onerror = () => this.emit('error', new NanoError(-1, 'socket error'));
      socket.onclose = (event) => {
        settle(reject, new NanoError(-1, `connection closed (${event && event.code})`));
        this.onClosed({ code: event && event.code, reason: (event && event.reason) || 'closed' });
      };
    });
  }

  onBytes(bytes, onReady, onFail) {
    const joined = new Uint8Array(this.buffer.length + bytes.length);
    joined.set(this.buffer);
    joined.set(bytes, this.buffer.length);
    const { packets, rest } = decodePackets(joined, this.options.maxBodyLen);
    this.buffer = rest.slice();
    this.refreshLiveness();
    for (const packet of packets) this.onPacket(packet, onReady, onFail);
  }

  onPacket({ type, body }, onReady, onFail) {
    switch (type) {
      case PacketType.HANDSHAKE:
        return this.onHandshake(JSON.parse(utf8Decode(body)), onReady, onFail);
      case PacketType.HEARTBEAT:
        return;
      case PacketType.DATA:
        return this.onMessage(decodeMessage(body));
      case PacketType.KICK: {
        let reason = '';
        try {
          reason = JSON.parse(utf8Decode(body)).reason || '';
        } catch {
          reason = utf8Decode(body);
        }
        this.closedByUser = true; // a kicked client does not come back on its own
        this.session = null; // and its session ended: never resumed
        this.emit('kick', { reason });
        return;
      }
      default:
        throw new NanoError(-1, `unexpected packet type ${type}`);
    }
  }

  /** The server's handshake reply: a refusal, or the session (fresh or resumed) now open. */
  onHandshake(reply, onReady, onFail) {
    if (reply.code !== 200) return this.onRefused(reply.code, onFail);
    try {
      this.applySys(reply.sys || {});
    } catch (err) {
      onFail(err);
      this.closedByUser = true; // reconnecting would meet the same reply
      this.dropSocket();
      return;
    }
    this.sendPacket(PacketType.HANDSHAKE_ACK);
    this.state = 'open';
    this.attempt = 0;
    this.handshakeReply = reply;
    this.startHeartbeats();
    const outcome = this.settleSession(reply);
    onReady(reply);
    this.emit('connect', reply);
    if (outcome.resumed) this.emit('resume', { session: this.sessionId, replayed: outcome.replayed });
    if (!this.isReconnect) return;
    const event = { resumed: outcome.resumed, session: this.sessionId, reply };
    if (outcome.refused) event.refused = outcome.refused;
    this.emit('reconnect', event);
  }

  /** A handshake code other than 200: fails the connect, and stops reconnecting but after a 503. */
  onRefused(code, onFail) {
    onFail(new NanoError(code, code === 501 ? 'client too old' : 'handshake refused'));
    // 503: the server is shutting down and asks to be tried again later; any other refusal
    // would be met again, so the client does not reconnect into it.
    if (!(code === 503 && this.isReconnect)) this.closedByUser = true;
    this.dropSocket();
  }

  /** Takes the handshake's `sys`: the route dictionary and the serializer. Throws when unusable. */
  applySys(sys) {
    const table = routeTable(sys, this.dictCache.get());
    this.serializer = this.serializerFor(sys.serializer);
    if (table.fresh) this.dictCache.set(table.fresh);
    this.dict = table.routeToCode;
    this.codes = table.codeToRoute;
    this.heartbeatMs = (sys.heartbeat || 0) * 1000;
  }

  /** The handshake's `user`: the app's, with the resume token and push count when resuming. */
  helloUser() {
    const user = this.options.user ?? {};
    if (!this.resuming) return user;
    const { token, received } = this.session;
    return { ...user, resume: { token, received } };
  }

  /**
   * Takes the session the handshake reply names. A resumed one keeps its push count and gets
   * its unanswered requests sent again, with their ids; otherwise the session is fresh and the
   * requests that waited for a resume reject. Returns `{ resumed, replayed?, refused? }`.
   */
  settleSession(reply) {
    const offer = resumeOffer(reply);
    const presented = this.resuming;
    this.resuming = false;
    if (presented && offer && offer.resumed === true) {
      this.session = { id: sessionOf(offer), token: offer.token, received: this.session.received };
      this.resendPending();
      return { resumed: true, replayed: Number(offer.replayed) || 0 };
    }
    this.session = offer ? { id: sessionOf(offer), token: offer.token, received: 0 } : null;
    if (!presented) return { resumed: false };
    const refused = offer && offer.refused ? { code: offer.refused.code, reason: offer.refused.reason } : undefined;
    const error = refused
      ? new NanoError(refused.code, `the session was not resumed (${refused.reason}): no response will come`)
      : new NanoError(-1, 'the session was not resumed (the server does not resume sessions): no response will come');
    this.rejectPending(error);
    return { resumed: false, refused };
  }

  /** Sends again, with their ids and in their order, the requests that have no response yet. */
  resendPending() {
    for (const [id, waiting] of this.pending) {
      this.sendMessage({ type: MessageType.REQUEST, id, route: this.wireRoute(waiting.route), body: waiting.bytes });
    }
  }

  /** Rejects every request still waiting for its response with `error`. */
  rejectPending(error) {
    for (const [, waiting] of this.pending) {
      clearTimeout(waiting.timer);
      waiting.reject(error);
    }
    this.pending.clear();
  }

  onMessage(message) {
    if (message.type === MessageType.RESPONSE) {
      const waiting = this.pending.get(message.id);
      if (!waiting) return;
      this.pending.delete(message.id);
      clearTimeout(waiting.timer);
      // A flagged error body has the serializer's error shape, not the route's answer type
      // (protobuf: `nano.ErrorBody`), when the codec can say how to read it.
      const body =
        message.error && this.serializer.decodeError
          ? this.serializer.decodeError(message.body)
          : this.decodeBody(message.body, waiting.route);
      const error = this.options.errorBody(body, message.error);
      if (error) waiting.reject(error);
      else waiting.resolve(body);
      return;
    }
    if (message.type === MessageType.PUSH) {
      // Counted before anything can fail, so that a resume never replays a push seen here.
      if (this.session) this.session.received += 1;
      const route = typeof message.route === 'number' ? this.codes.get(message.route) : message.route;
      if (route === undefined) return this.emit('error', new NanoError(-1, `unknown route code ${message.route}`));
      this.emit(route, this.decodeBody(message.body, route));
    }
  }

  /**
   * Sends a request; resolves with the response body, rejects with a `NanoError`. While a
   * dropped session is being resumed, the request waits and goes out once it is.
   */
  request(route, body = {}) {
    if (this.state !== 'open' && !this.resuming) return Promise.reject(new NanoError(-1, 'not connected'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const bytes = this.encodeBody(body, route);
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new NanoError(-1, `no response to ${route} within ${this.options.requestTimeout} ms`));
      }, this.options.requestTimeout);
      this.pending.set(id, { resolve, reject, timer, route, bytes });
      if (this.state === 'open') this.sendMessage({ type: MessageType.REQUEST, id, route: this.wireRoute(route), body: bytes });
    });
  }

  /** Sends a notify (no response). Returns false when not connected. */
  notify(route, body = {}) {
    if (this.state !== 'open') return false;
    const bytes = this.encodeBody(body, route);
    this.sendMessage({ type: MessageType.NOTIFY, route: this.wireRoute(route), body: bytes });
    return true;
  }

  /** Listens to a push route or an event; returns a function that stops listening. */
  on(name, fn) {
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    this.listeners.get(name).add(fn);
    return () => this.off(name, fn);
  }

  off(name, fn) {
    const set = this.listeners.get(name);
    if (set) set.delete(fn);
  }

  emit(name, value) {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(value);
      } catch (err) {
        if (name !== 'error') this.emit('error', err);
      }
    }
  }

  /** Closes the connection for good (no reconnect) and ends the session (no resume). */
  close() {
    this.closedByUser = true;
    this.session = null;
    this.resuming = false;
    clearTimeout(this.timers.reconnect);
    this.dropSocket();
    this.rejectPending(new NanoError(-1, 'connection closed')); // those that waited for a resume
  }

  /** The codec for the serializer the server announced; throws when none was given for it. */
  serializerFor(name) {
    if (name === undefined || name === 'json') return json;
    const codec = this.options.serializers[name];
    if (!codec) {
      throw new NanoError(-1, `the server speaks "${name}": pass a codec for it in options.serializers`);
    }
    return codec;
  }

  encodeBody(body, route) {
    return body instanceof Uint8Array ? body : this.serializer.encode(body, route);
  }

  /** An empty body is `null` whatever the serializer (a raw empty answer). */
  decodeBody(bytes, route) {
    return bytes.length === 0 ? null : this.serializer.decode(bytes, route);
  }

  wireRoute(route) {
    return this.dict.has(route) ? this.dict.get(route) : route;
  }

  sendMessage(message) {
    this.sendPacket(PacketType.DATA, encodeMessage(message));
  }

  sendPacket(type, body) {
    if (this.socket && this.socket.readyState === 1) this.socket.send(encodePacket(type, body));
  }

  startHeartbeats() {
    this.stopHeartbeats();
    if (!this.heartbeatMs) return;
    this.timers.beat = setInterval(() => this.sendPacket(PacketType.HEARTBEAT), this.heartbeatMs);
    this.refreshLiveness();
  }

  refreshLiveness() {
    if (!this.heartbeatMs) return;
    clearTimeout(this.timers.liveness);
    this.timers.liveness = setTimeout(() => {
      this.emit('heartbeat-timeout');
      this.dropSocket();
    }, this.heartbeatMs * 2);
  }

  stopHeartbeats() {
    clearInterval(this.timers.beat);
    clearTimeout(this.timers.liveness);
  }

  dropSocket() {
    const socket = this.socket;
    if (socket && socket.readyState <= 1) socket.close();
    else if (this.state !== 'closed') this.onClosed({ code: 1006, reason: 'closed' });
  }

  onClosed(event) {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.socket = null;
    this.stopHeartbeats();
    this.resuming = this.canResume();
    if (!this.resuming) this.rejectPending(new NanoError(-1, 'connection closed'));
    this.emit('close', event);
    this.scheduleReconnect();
  }

  /** Whether a reconnect will follow the drop now. */
  willReconnect() {
    const policy = this.options.reconnect;
    return Boolean(policy) && !this.closedByUser && this.attempt < policy.retries;
  }

  /** Whether the reconnect that follows a drop now can present the session's resume token. */
  canResume() {
    const user = this.options.user;
    const mergeable = user == null || (typeof user === 'object' && !Array.isArray(user));
    return Boolean(this.options.resume && this.session && mergeable) && this.willReconnect();
  }

  scheduleReconnect() {
    if (!this.willReconnect()) return;
    const policy = this.options.reconnect;
    const delay = Math.min(policy.baseDelay * 2 ** this.attempt, policy.maxDelay) * (0.5 + Math.random() / 2);
    this.attempt += 1;
    this.emit('reconnecting', { attempt: this.attempt, delay });
    this.timers.reconnect = setTimeout(() => {
      this.isReconnect = true;
      this.open().catch(() => {}); // a failed attempt closes, and the close schedules the next
    }, delay);
  }
}

/** The reply's `user.resume` when it carries a token (the server resumes sessions), else null. */
function resumeOffer(reply) {
  const offer = reply.user && typeof reply.user === 'object' ? reply.user.resume : undefined;
  return offer && typeof offer === 'object' && typeof offer.token === 'string' ? offer : null;
}

/** The session an offer names: its `session` field, or the id its token starts with. */
function sessionOf(offer) {
  return offer.session ?? Number(offer.token.split('.')[0]);
}

/**
 * The route dictionary of a handshake reply: pomelo's `routeToCode`/`codeToRoute` or nano's
 * `dict`; with `useDict` and no maps (the client's `dictVersion` was current), the cached one.
 * `fresh` is what to cache, when the reply brought a dictionary.
 */
function routeTable(sys, cached) {
  const map = sys.routeToCode || sys.dict;
  if (map && typeof map === 'object') {
    const routeToCode = new Map(Object.entries(map));
    const codeToRoute = new Map([...routeToCode].map(([route, code]) => [code, route]));
    for (const [code, route] of Object.entries(sys.codeToRoute || {})) codeToRoute.set(Number(code), route);
    const fresh = typeof sys.dictVersion === 'string' ? { version: sys.dictVersion, routeToCode: map } : undefined;
    return { routeToCode, codeToRoute, fresh };
  }
  if (sys.useDict && cached && cached.routeToCode) return routeTable({ routeToCode: cached.routeToCode }, undefined);
  if (sys.useDict) throw new NanoError(-1, 'the server uses a route dictionary but sent none, and none is cached');
  return { routeToCode: new Map(), codeToRoute: new Map(), fresh: undefined };
}
