// Types of the framerpc Node client (lib/index.js). Generated stubs (protoc-gen-frpcjs) import
// these as `framerpc`.
import type { Readable, Writable, Duplex } from 'stream';

/** A 64-bit integer as protobufjs decodes it (long.js). */
export interface Long {
  low: number;
  high: number;
  unsigned: boolean;
  toNumber(): number;
  toString(radix?: number): string;
}

/** A decoded protobufjs message. */
export interface Message {
  toJSON(): { [key: string]: unknown };
}

/** A message type (a protobufjs Type): T decoded, I the fields accepted to create or send one. */
export interface MessageType<T extends Message, I> {
  readonly fullName: string;
  create(properties?: I): T;
  fromObject(object: { [key: string]: unknown }): T;
  toObject(message: T, options?: { [key: string]: unknown }): { [key: string]: unknown };
  encode(message: T | I): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
  verify(message: { [key: string]: unknown }): string | null;
}

export declare const StatusCode: {
  readonly OK: 0; readonly CANCELLED: 1; readonly UNKNOWN: 2; readonly INVALID_ARGUMENT: 3;
  readonly DEADLINE_EXCEEDED: 4; readonly NOT_FOUND: 5; readonly ALREADY_EXISTS: 6;
  readonly PERMISSION_DENIED: 7; readonly RESOURCE_EXHAUSTED: 8; readonly FAILED_PRECONDITION: 9;
  readonly ABORTED: 10; readonly OUT_OF_RANGE: 11; readonly UNIMPLEMENTED: 12; readonly INTERNAL: 13;
  readonly UNAVAILABLE: 14; readonly DATA_LOSS: 15; readonly UNAUTHENTICATED: 16;
};
export type StatusCode = typeof StatusCode[keyof typeof StatusCode];
export declare function statusName(code: number): string;

/** A call that ended with a non-OK status: the canonical code and the exact status message. */
export declare class RpcError extends Error {
  constructor(code: number, message: string);
  readonly code: StatusCode;
  readonly codeName: string;
  /**
   * True when the call provably reached no handler: its connection could not be made, or the
   * server's GOAWAY refused it.
   */
  unsent?: boolean;
}
/** The frame codec rejected bytes or a frame. */
export declare class FrameError extends RpcError {}

/** Frame limits (docs/protocol.md §6). */
export declare class FrameLimits {
  constructor(limits?: { maxBodyBytes?: number; maxEnvelopeBytes?: number; maxMetadataBytes?: number });
  readonly maxBodyBytes: number;
  readonly maxEnvelopeBytes: number;
  readonly maxMetadataBytes: number;
}

export type Bytes = Uint8Array;
export type Metadata =
  | { [key: string]: string | Bytes }
  | Map<string | Bytes, string | Bytes>
  | Array<[string | Bytes, string | Bytes]>;

export interface CallOptions {
  /** Milliseconds from the start of the call. */
  timeout?: number;
  /** An absolute deadline (Date or epoch milliseconds); the sooner of the two applies. */
  deadline?: Date | number;
  metadata?: Metadata;
  /** Raw bytes sent beside the request message. */
  attachment?: Bytes;
  /** Aborting it cancels the call (CANCEL to the server; CANCELLED here). */
  signal?: AbortSignal;
}

export interface StreamOptions {
  timeout?: number;
  deadline?: Date | number;
  metadata?: Metadata;
  signal?: AbortSignal;
  /** This client's initial receive window in bytes (default 1 MiB). */
  window?: number;
}

export interface ServerStreamOptions extends StreamOptions {
  /** Raw bytes sent beside the one request message. */
  attachment?: Bytes;
}

export type MethodKindName = 'unary' | 'server_streaming' | 'client_streaming' | 'bidi_streaming';
export declare const MethodKind: {
  readonly UNARY: 'unary';
  readonly SERVER_STREAMING: 'server_streaming';
  readonly CLIENT_STREAMING: 'client_streaming';
  readonly BIDI_STREAMING: 'bidi_streaming';
};

export interface MethodDescriptor {
  readonly name: string;
  readonly path: string;
  readonly kind: MethodKindName;
  readonly requestType: MessageType<any, any> | null;
  readonly responseType: MessageType<any, any> | null;
}
export declare function method(spec: {
  name?: string; path: string; kind: MethodKindName;
  requestType?: MessageType<any, any> | null; responseType?: MessageType<any, any> | null;
}): MethodDescriptor;

/** The response message's promise, with the call's other results and controls. */
export declare class UnaryCall<T> extends Promise<T> {
  /** CANCELLED "cancelled by the client", CANCEL to the server; false once the call has ended. */
  cancel(): boolean;
  readonly callId: number;
  /** The response's attachment, once the promise has resolved. */
  readonly responseAttachment: Buffer;
}

/** A message and its raw attachment, as an item of a request stream. */
export interface WithAttachment<T> {
  readonly message: T;
  readonly attachment: Bytes;
}
export declare function withAttachment<T>(message: T, attachment: Bytes): WithAttachment<T>;
export type RequestInput<T> = Iterable<T | WithAttachment<T>> | AsyncIterable<T | WithAttachment<T>>;

interface StreamBase {
  readonly callId: number;
  readonly done: boolean;
  readonly error: RpcError | null;
  /** CANCELLED "cancelled by the client"; false once the call has ended. */
  cancel(): boolean;
}

interface Reading<Res> {
  /** The next message, or null once the call has ended OK; rejects with the call's RpcError. */
  read(): Promise<Res | null>;
  readWithAttachment(): Promise<{ message: Res; attachment: Buffer } | null>;
  /** Leaving the loop early cancels an unfinished call. */
  [Symbol.asyncIterator](): AsyncIterator<Res>;
  readable(): Readable;
}

interface Writing<Req> {
  /** Resolves true once the message is handed to the connection (after waiting for credit). */
  write(message: Req, attachment?: Bytes): Promise<boolean>;
  /** Half-closes after the writes already queued. */
  end(): void;
  writable(): Writable;
}

export interface ServerStream<Res> extends StreamBase, Reading<Res> {
  readonly finished: Promise<void>;
  finish(): Promise<void>;
}

export interface ClientStream<Req, Res> extends StreamBase, Writing<Req> {
  /** The reply, once the call has ended OK. */
  readonly finished: Promise<Res>;
  readonly responseAttachment: Buffer;
  /** end(), then the reply. */
  finish(): Promise<Res>;
}

export interface BidiStream<Req, Res> extends StreamBase, Reading<Res>, Writing<Req> {
  readonly finished: Promise<void>;
  finish(): Promise<void>;
  duplex(): Duplex;
}

export type StreamCall = ServerStream<any> & ClientStream<any, any> & BidiStream<any, any>;

/**
 * TLS for a channel (docs/security.md). The connection offers ALPN "framerpc/1" and is refused
 * unless the server selects it. A refused handshake fails the calls with UNAVAILABLE
 * "TLS handshake with <target> failed: <cause>".
 */
export interface TlsOptions {
  /** PEM CAs the server's certificate must chain to; default: Node's bundled CAs. */
  caFile?: string;
  /** A client certificate (PEM chain) and its key, for mutual TLS; both or neither. */
  certFile?: string;
  keyFile?: string;
  /** The name the server's certificate must carry; default: the target's host. A Unix-socket target needs one. */
  serverName?: string;
  /** No verification at all: anyone on the path can read and change everything. For trying things out. */
  insecure?: boolean;
  /** '1.3' (default) or '1.2'. */
  minVersion?: '1.2' | '1.3';
  /** A tls.SecureContext of your own (CAs and certificates set in it); caFile, certFile and insecure must then be left out. */
  secureContext?: import('tls').SecureContext;
}

export interface ChannelOptions {
  limits?: FrameLimits | { maxBodyBytes?: number; maxEnvelopeBytes?: number; maxMetadataBytes?: number };
  /** Milliseconds; default 5000. Under TLS it covers the handshake. */
  connectTimeout?: number;
  /** TLS: true for the default CAs, or its options. Default: plaintext. */
  tls?: boolean | TlsOptions;
}

/** One multiplexed connection to "host:port", "[v6]:port" or "unix:/path", opened lazily. */
export declare class Channel {
  constructor(target: string, options?: ChannelOptions);
  readonly target: string;
  readonly limits: FrameLimits;
  unaryCall(method: string, request: Bytes, options?: CallOptions): UnaryCall<Buffer>;
  unaryCall<T = any>(method: MethodDescriptor, request: object, options?: CallOptions): UnaryCall<T>;
  serverStreamingCall(method: string | MethodDescriptor, request: any, options?: ServerStreamOptions): ServerStream<any>;
  clientStreamingCall(method: string | MethodDescriptor, input?: RequestInput<any> | StreamOptions, options?: StreamOptions): ClientStream<any, any>;
  bidiStreamingCall(method: string | MethodDescriptor, input?: RequestInput<any> | StreamOptions, options?: StreamOptions): BidiStream<any, any>;
  /** Fails every call with CANCELLED "channel closed" and closes the connections. */
  close(): Promise<void>;
}

export interface BalancedChannelOptions extends ChannelOptions {
  /** 'pick_first' (default) or 'round_robin'. */
  policy?: 'pick_first' | 'round_robin';
  /** How long a server whose call failed UNAVAILABLE is passed over, in ms (doubling); 1000. */
  ejectTime?: number;
}

/**
 * A channel over several servers: 'ipv4:a:p,b:p', 'a:p,b:p' or 'dns:///host:port'. Unary calls
 * that never left the client (RpcError.unsent) go to the next server at once (balanced.js).
 */
export declare class BalancedChannel {
  constructor(target: string, options?: BalancedChannelOptions);
  readonly target: string;
  readonly endpoints: string[];
  unaryCall(method: string, request: Bytes, options?: CallOptions): UnaryCall<Buffer>;
  unaryCall<T = any>(method: MethodDescriptor, request: object, options?: CallOptions): UnaryCall<T>;
  serverStreamingCall(method: string | MethodDescriptor, request: any, options?: ServerStreamOptions): ServerStream<any>;
  clientStreamingCall(method: string | MethodDescriptor, input?: RequestInput<any> | StreamOptions, options?: StreamOptions): ClientStream<any, any>;
  bidiStreamingCall(method: string | MethodDescriptor, input?: RequestInput<any> | StreamOptions, options?: StreamOptions): BidiStream<any, any>;
  close(): Promise<void>;
}

/** The base class of generated clients. */
export declare class Client {
  constructor(channel: Channel | BalancedChannel);
  readonly $channel: Channel | BalancedChannel;
}

export declare function parseAddress(text: string): { text: string; path?: string; host?: string; port?: number; family?: number };

export declare const INITIAL_WINDOW: number;
export declare const MAX_WINDOW: number;
export declare const registry: { define(fileName: string, json: object): unknown };
export declare const codec: any;
export declare const envelope: any;
export declare const protobuf: any;

/** A running hash of the file service's checksums (checksum.js). */
export interface Hasher {
  update(data: Uint8Array): Hasher;
  /** The digest: 16 bytes (XXH3-128, canonical form) or 32 (SHA-256). Call once. */
  digest(): Buffer;
}

export type ChecksumName = 'xxh3' | 'sha256';

/** The file service's checksums: XXH3-128 by default, SHA-256 on request. */
export declare const checksum: {
  readonly ChecksumAlgorithm: { readonly CHECKSUM_UNSPECIFIED: 0; readonly CHECKSUM_SHA256: 1; readonly CHECKSUM_XXH3_128: 2 };
  readonly NAMES: readonly ChecksumName[];
  createHasher(name: ChecksumName): Promise<Hasher>;
  protoValue(name: ChecksumName): number;
  title(name: ChecksumName): string;
  /** The trailer's algorithm, from the download header's `checksum` and the one asked for. */
  answered(headerChecksum: number | undefined, asked: ChecksumName): ChecksumName;
  trailerDigest(trailer: { sha256?: Uint8Array; checksum?: { digest?: Uint8Array } }, headerChecksum: number | undefined): Buffer;
};
