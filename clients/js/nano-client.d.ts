// Types of nano-client.js.

export { MessageType, PacketType } from './protocol.js';

/** An error response from the server, or a client-side failure (`code` -1). */
export declare class NanoError extends Error {
  constructor(code: number, message: string);
  readonly name: 'NanoError';
  code: number;
}

/**
 * A payload codec. `route` is the message's route, for codecs (protobuf) whose message type
 * depends on it.
 */
export interface Codec {
  encode(value: unknown, route: string): Uint8Array;
  decode(bytes: Uint8Array, route: string): unknown;
  /**
   * Decodes the body of a response with the error flag (nano-rs's protobuf apps send
   * `nano.ErrorBody { code, msg }` there, see nano-core/proto/nano.proto). Without it, such
   * bodies go through `decode` with the request's route.
   */
  decodeError?(bytes: Uint8Array): unknown;
}

/** The built-in JSON codec (a body that is not JSON decodes to its text). */
export declare const json: Codec;

/** Which responses are errors: `null` for a success. */
export type ErrorBody = (body: unknown, flagged: boolean) => NanoError | null;

/** nano-rs's convention: `{"code": n, "msg": "..."}` with n not 0 or 200, or pitaya's flag. */
export declare const nanoErrorBody: ErrorBody;

/** A route dictionary as cached between connections. */
export interface CachedDictionary {
  version: string;
  routeToCode: Record<string, number>;
}

/** Where the route dictionary is kept between connections (localStorage, say). */
export interface DictCache {
  get(): CachedDictionary | undefined;
  set(entry: CachedDictionary): void;
}

export interface ReconnectPolicy {
  /** Attempts after a drop (default Infinity). */
  retries?: number;
  /** ms before the first attempt, doubled each time (default 500). */
  baseDelay?: number;
  /** ms at most between attempts (default 10000). */
  maxDelay?: number;
}

export interface NanoClientOptions {
  /** The handshake's `user` object, for the server's handshake validator. */
  user?: unknown;
  requestTimeout?: number;
  connectTimeout?: number;
  maxBodyLen?: number;
  reconnect?: boolean | ReconnectPolicy;
  /**
   * With `reconnect`, resume the session after a drop when the server offers it (default
   * true): the token and push count go in the handshake's `user.resume`, and the requests
   * without a response wait for the resume instead of rejecting.
   */
  resume?: boolean;
  /** A WebSocket constructor (default: the global one). */
  WebSocket?: new (url: string) => WebSocket;
  /** Codecs by the name a server announces in `sys.serializer`; JSON is built in. */
  serializers?: Record<string, Codec>;
  errorBody?: ErrorBody;
  dictCache?: DictCache;
}

/** The server's handshake reply. */
export interface HandshakeReply {
  code: number;
  sys?: {
    heartbeat?: number;
    dict?: Record<string, number>;
    routeToCode?: Record<string, number>;
    codeToRoute?: Record<string, string>;
    dictVersion?: string;
    useDict?: boolean;
    serializer?: string;
    [field: string]: unknown;
  };
  user?: unknown;
}

/** Why the server did not resume the session (`user.resume.refused`): 4102 `expired`, say. */
export interface ResumeRefusal {
  code: number;
  reason: string;
}

/** The `resume` event: the dropped session was resumed; `replayed` pushes follow. */
export interface ResumeEvent {
  session: number;
  replayed: number;
}

/** The `reconnect` event: the connection is back, with its session or a fresh one. */
export interface ReconnectEvent {
  /** The session (with its state and memberships) carried on; false for a fresh session. */
  resumed: boolean;
  /** The session now current, when the server resumes sessions. */
  session: number | null;
  /** Why a resume the client asked for was refused; absent when resumed or not asked for. */
  refused?: ResumeRefusal;
  reply: HandshakeReply;
}

/** The client's own events, besides push routes. */
export interface NanoClientEvents {
  connect: HandshakeReply;
  reconnect: ReconnectEvent;
  resume: ResumeEvent;
  reconnecting: { attempt: number; delay: number };
  kick: { reason: string };
  close: { code?: number; reason: string };
  'heartbeat-timeout': undefined;
  error: Error;
}

export declare class NanoClient {
  constructor(url: string, options?: NanoClientOptions);
  readonly url: string;
  /** The current session's id when the server resumes sessions; `null` otherwise or once it ended. */
  readonly sessionId: number | null;
  /** Opens the socket and completes the handshake. */
  connect(): Promise<HandshakeReply>;
  /** Resolves with the response body; rejects with a `NanoError`. Waits while a resume is attempted. */
  request<Response = unknown>(route: string, body?: unknown): Promise<Response>;
  /** A one-way message; `false` when not connected. */
  notify(route: string, body?: unknown): boolean;
  on<E extends keyof NanoClientEvents>(name: E, fn: (value: NanoClientEvents[E]) => void): () => void;
  /** A push route's bodies. */
  on<Body = unknown>(route: string, fn: (body: Body) => void): () => void;
  off(name: string, fn: (value: never) => void): void;
  /** Closes for good (no reconnect) and ends the session (no resume). */
  close(): void;
}
