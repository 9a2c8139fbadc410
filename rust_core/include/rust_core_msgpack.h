/* SignalR framing and lazer's MessagePack conventions. Declarations only: see rust_core.h.
 *
 * Messages in and out are single hub messages; every rc_msgpack_encode_* and the relay
 * return them FRAMED (VarInt length prefix), ready to send as one WebSocket binary message.
 * Spans in the structs below are (start, length) into the caller's input bytes.
 */

/* Per-connection splitter of the incoming byte stream. Not thread-safe: one owner. */
typedef struct rc_frame_splitter rc_frame_splitter;

/* max_message_len: a declared length above it fails with RC_TOO_LARGE. */
rc_status rc_msgpack_splitter_new(size_t max_message_len, rc_frame_splitter **out);
void rc_msgpack_splitter_free(rc_frame_splitter *splitter);
/* Feed bytes; complete messages come back concatenated in *payloads, their lengths as
 * little-endian uint32 in *lengths. Bad prefix: RC_FRAME; over the cap: RC_TOO_LARGE; after
 * either the splitter refuses all further input with RC_FRAME. */
rc_status rc_msgpack_splitter_feed(rc_frame_splitter *splitter, const uint8_t *data, size_t len,
                                   rc_buf *payloads, rc_buf *lengths);
/* Bytes held over from earlier feeds (an unfinished prefix or message). */
rc_status rc_msgpack_splitter_buffered(const rc_frame_splitter *splitter, size_t *out);
/* Prefix one message with its VarInt length. */
rc_status rc_msgpack_frame(const uint8_t *data, size_t len, rc_buf *out);

typedef struct {
    int32_t message_type;     /* 1 Invocation ... 7 Close */
    int32_t completion_kind;  /* Completion: 1 error, 2 void, 3 result; else 0 */
    int32_t allow_reconnect;  /* Close */
    int32_t has_invocation_id;
    int32_t has_target;
    int32_t has_payload;
    int32_t has_error;
    size_t invocation_id_start; /* UTF-8 text */
    size_t invocation_id_len;
    size_t target_start;        /* UTF-8 text */
    size_t target_len;
    size_t payload_start;       /* Invocation: raw arguments array; Completion 3 / StreamItem: raw result */
    size_t payload_len;
    size_t error_start;         /* Completion 1 / Close: UTF-8 text */
    size_t error_len;
} rc_hub_envelope;

/* Parse one unframed hub message without decoding its arguments. The arguments are located,
 * not walked (APIMod settings make them unwalkable without the schema): they run to the end
 * of the message less the stream ids, which must be [] (osu has no streams). Their content
 * is checked when decoded by type. Bad envelope: RC_MSGPACK_DECODE. */
rc_status rc_msgpack_parse_envelope(const uint8_t *data, size_t len, rc_hub_envelope *out);

/* [1, {}, nil, target, args, []]; args is one encoded array (from rc_msgpack_encode),
 * spliced in unchanged; only its first byte is checked. */
rc_status rc_msgpack_encode_invocation(const uint8_t *target, size_t target_len,
                                       const uint8_t *args, size_t args_len, rc_buf *out);
/* kind 1: payload is UTF-8 error text; 2: void, payload empty; 3: payload is one encoded
 * value (from rc_msgpack_encode), spliced in unchanged. */
rc_status rc_msgpack_encode_completion(const uint8_t *invocation_id, size_t invocation_id_len,
                                       int32_t kind, const uint8_t *payload, size_t payload_len,
                                       rc_buf *out);
/* [6], framed: 02 91 06. */
rc_status rc_msgpack_encode_ping(rc_buf *out);
/* [7, error|nil, allowReconnect]. */
rc_status rc_msgpack_encode_close(int32_t has_error, const uint8_t *error, size_t error_len,
                                  int32_t allow_reconnect, rc_buf *out);

typedef struct {
    int32_t has_score_token;
    int64_t score_token;
    size_t bundle_start;  /* the FrameDataBundle's bytes within the input message */
    size_t bundle_len;
    size_t out_len;       /* bytes written to out */
} rc_frame_relay;

/* SendFrameDataV2(token, bundle) / SendFrameData(bundle) -> framed
 * UserSentFrames(user_id, bundle) with the bundle bytes copied, not decoded, into the
 * caller's buffer (len + 16 bytes always suffice; too small: RC_TOO_LARGE).
 * validate != 0 also checks the bundle against the FrameDataBundle schema (a full walk,
 * several times the cost of the relay); 0 checks only that it is an array of >= 2. */
rc_status rc_msgpack_relay_frames(const uint8_t *data, size_t len, int32_t user_id,
                                  int32_t validate, uint8_t *out, size_t out_cap,
                                  rc_frame_relay *info);

/* *debug_assertions = 1 in a debug build (bench/ refuses those). */
rc_status rc_msgpack_build_info(int32_t *debug_assertions);

/* Typed values. type_name is a schema type ("SpectatorState", "int?", "APIMod[]") or an
 * argument list ("long?,FrameDataBundle"; "int," has one argument, "," none), whose
 * count must match. decode: lazer wire bytes -> plain msgpack
 * (objects as maps by field name, unions as maps with "type", DateTimeOffset as a UTC
 * timestamp). encode: the reverse. Bad wire input: RC_MSGPACK_DECODE; bad plain input:
 * RC_MSGPACK_ENCODE; unknown type: RC_INVALID_ARGUMENT. */
rc_status rc_msgpack_decode(const uint8_t *type_name, size_t type_name_len,
                            const uint8_t *data, size_t len, rc_buf *out);
rc_status rc_msgpack_encode(const uint8_t *type_name, size_t type_name_len,
                            const uint8_t *data, size_t len, rc_buf *out);
/* The schema table as plain msgpack (for tests and Python model checks). */
rc_status rc_msgpack_schema(rc_buf *out);
/* An array header for `count` items followed by `data`: `count` already-encoded values
 * back to back (e.g. a user id and a stored SpectatorState), copied unchanged. */
rc_status rc_msgpack_splice_array(uint32_t count, const uint8_t *data, size_t len, rc_buf *out);
