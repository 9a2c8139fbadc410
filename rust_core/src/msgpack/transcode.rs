//! Transcoding between lazer's wire form and plain msgpack.
use crate::ffi::{CoreError, ErrorCode};

pub fn decode(_ty: &str, _data: &[u8]) -> Result<Vec<u8>, CoreError> {
    Err(CoreError::new(ErrorCode::MsgpackDecode, "not implemented"))
}

pub fn encode(_ty: &str, _data: &[u8]) -> Result<Vec<u8>, CoreError> {
    Err(CoreError::new(ErrorCode::MsgpackEncode, "not implemented"))
}
