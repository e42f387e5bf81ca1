// Types of protocol.js: the nano/Pomelo wire protocol as plain functions over Uint8Array.

/** Packet types (the first byte of every packet). */
export declare const PacketType: Readonly<{
  HANDSHAKE: 1;
  HANDSHAKE_ACK: 2;
  HEARTBEAT: 3;
  DATA: 4;
  KICK: 5;
}>;

/** Message types (bits 1-3 of a Data packet's flag byte). */
export declare const MessageType: Readonly<{
  REQUEST: 0;
  NOTIFY: 1;
  RESPONSE: 2;
  PUSH: 3;
}>;

export type PacketTypeValue = (typeof PacketType)[keyof typeof PacketType];
export type MessageTypeValue = (typeof MessageType)[keyof typeof MessageType];

/** One decoded packet. */
export interface Packet {
  type: PacketTypeValue;
  body: Uint8Array;
}

/** A message to encode; `route` is a number when compressed through the dictionary. */
export interface OutgoingMessage {
  type: MessageTypeValue;
  id?: number;
  route?: string | number;
  body?: Uint8Array;
}

/** A decoded message; a compressed route comes back as its number. */
export interface DecodedMessage {
  type: MessageTypeValue;
  id: number;
  route: string | number;
  compressed: boolean;
  /** pitaya's error flag (bit 5 of the flag byte). */
  error: boolean;
  body: Uint8Array;
}

export declare function utf8Encode(text: string): Uint8Array;
export declare function utf8Decode(bytes: Uint8Array): string;

/** Encodes one packet: `[type][length: 3 bytes, big-endian][body]`. */
export declare function encodePacket(type: PacketTypeValue, body?: Uint8Array): Uint8Array;

/** Splits bytes into whole packets and the rest of an incomplete one; throws on bad input. */
export declare function decodePackets(
  bytes: Uint8Array,
  maxBodyLen?: number,
): { packets: Packet[]; rest: Uint8Array };

export declare function encodeMessage(message: OutgoingMessage): Uint8Array;

/** Decodes a message; throws on malformed input. */
export declare function decodeMessage(bytes: Uint8Array): DecodedMessage;
