//! Writing msgpack primitives into a `Vec<u8>` with `rmp`, in the smallest form (as
//! MessagePack-CSharp and msgpack-python both do). Writes to a Vec cannot fail, so the
//! `rmp` results are discarded here once instead of at every call site.

use rmp::encode;

use super::reader::{Int, TIMESTAMP_EXT};

pub fn nil(out: &mut Vec<u8>) {
    let _ = encode::write_nil(out);
}

pub fn boolean(out: &mut Vec<u8>, value: bool) {
    let _ = encode::write_bool(out, value);
}

/// An integer in its smallest encoding; positive values use the unsigned forms.
pub fn int(out: &mut Vec<u8>, value: Int) {
    if value >= 0 {
        let _ = encode::write_uint(out, value as u64);
    } else {
        let _ = encode::write_sint(out, value as i64);
    }
}

pub fn f32(out: &mut Vec<u8>, value: f32) {
    let _ = encode::write_f32(out, value);
}

pub fn f64(out: &mut Vec<u8>, value: f64) {
    let _ = encode::write_f64(out, value);
}

pub fn str(out: &mut Vec<u8>, value: &str) {
    let _ = encode::write_str(out, value);
}

pub fn array_len(out: &mut Vec<u8>, len: usize) {
    let _ = encode::write_array_len(out, len as u32);
}

pub fn map_len(out: &mut Vec<u8>, len: usize) {
    let _ = encode::write_map_len(out, len as u32);
}

/// A Timestamp extension in the smallest of its three forms (msgpack spec): 32-bit when
/// there are no nanoseconds and the seconds fit u32, 64-bit while the seconds fit 34 bits,
/// else 96-bit (all negative instants, including .NET's 0001-01-01).
pub fn timestamp(out: &mut Vec<u8>, secs: i64, nanos: u32) {
    if secs >= 0 && secs >> 34 == 0 {
        if nanos == 0 && secs <= u32::MAX as i64 {
            let _ = encode::write_ext_meta(out, 4, TIMESTAMP_EXT);
            out.extend_from_slice(&(secs as u32).to_be_bytes());
        } else {
            let _ = encode::write_ext_meta(out, 8, TIMESTAMP_EXT);
            let packed = (u64::from(nanos) << 34) | secs as u64;
            out.extend_from_slice(&packed.to_be_bytes());
        }
    } else {
        let _ = encode::write_ext_meta(out, 12, TIMESTAMP_EXT);
        out.extend_from_slice(&nanos.to_be_bytes());
        out.extend_from_slice(&secs.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_use_smallest_forms() {
        let mut out = Vec::new();
        for v in [0, 127, 128, 255, 256, -1, -32, -33, -129, 1 << 40] {
            int(&mut out, v);
        }
        assert_eq!(
            out,
            vec![
                0x00, 0x7f, 0xcc, 0x80, 0xcc, 0xff, 0xcd, 0x01, 0x00, 0xff, 0xe0, 0xd0, 0xdf, 0xd1, 0xff, 0x7f, 0xcf,
                0, 0, 1, 0, 0, 0, 0, 0
            ]
        );
    }

    #[test]
    fn default_datetime_uses_96_bit_form() {
        let mut out = Vec::new();
        timestamp(&mut out, -62_135_596_800, 0);
        assert_eq!(&out[..3], &[0xc7, 12, 0xff]);
        assert_eq!(out.len(), 15);
    }
}
