// Types of msgpack.js.
import type { Codec } from './nano-client.js';

/** The MessagePack codec, for servers that announce `sys.serializer: "msgpack"`. */
export declare const msgpack: Codec;
