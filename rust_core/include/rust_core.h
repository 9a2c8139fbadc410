/*
 * C ABI of rust_core. This file is also the cffi `cdef` (server/core.py reads it), so it
 * holds declarations only: no preprocessor lines, no includes. C users include <stdint.h>
 * and <stddef.h> first.
 *
 * Conventions
 *   - Every export is named rc_<area>_<verb> and returns an rc_status: 0 on success, else an
 *     error code from the list below. Results come back through out-pointers.
 *   - On failure the message is kept per thread; rc_last_error_message() copies it out.
 *   - Byte buffers cross the boundary as (pointer, length). A buffer the core allocates is an
 *     rc_buf and must be released with rc_buf_free exactly once.
 *   - A Rust panic never unwinds into C: the landing pad turns it into RC_PANIC.
 */

typedef int32_t rc_status;

/* Error codes. Keep in step with src/ffi.rs (ErrorCode) and server/core.py. */
enum {
    RC_OK = 0,
    RC_PANIC = 1,
    RC_INVALID_ARGUMENT = 2,
    RC_BEATMAP_PARSE = 3,
    RC_TOO_LARGE = 4,
    RC_SUSPICIOUS_BEATMAP = 5,
    RC_CONVERSION = 6,
    RC_MSGPACK_DECODE = 7,
    RC_MSGPACK_ENCODE = 8,
    RC_FRAME = 9
};

typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
} rc_buf;

/* Free a buffer the core returned. Safe on a zeroed rc_buf. */
void rc_buf_free(rc_buf *buf);

/* Copy the calling thread's last error message (UTF-8) into *out. Empty if none. */
rc_status rc_last_error_message(rc_buf *out);

/* The crate version and the versions of what it embeds, as a UTF-8 string. */
rc_status rc_core_version(rc_buf *out);

/* Test hook: always panics inside the landing pad, so the wrapper's mapping can be tested. */
rc_status rc_core_panic_for_test(void);
