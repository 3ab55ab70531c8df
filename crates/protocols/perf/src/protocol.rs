//! The perf wire format without I/O: the 8-byte request header, and the big zero buffer both
//! sides send from and the sizes of their read buffers.

/// The protocol id.
pub const PROTOCOL: &str = "/perf/1.0.0";

/// Length of the request header: the requested download size as a big-endian u64.
pub const REQUEST_LEN: usize = 8;

/// Size of the chunks written (from [`ZEROS`]) and of the buffers read into.
pub const CHUNK: usize = 256 * 1024;

/// What both sides send: content is arbitrary, so one static buffer of zeros serves every
/// stream with no allocation and no per-byte work.
pub static ZEROS: [u8; CHUNK] = [0; CHUNK];

/// The request header asking the server for `download` bytes.
pub fn encode_request(download: u64) -> [u8; REQUEST_LEN] {
    download.to_be_bytes()
}

/// The number of bytes a request header asks for.
pub fn decode_request(header: [u8; REQUEST_LEN]) -> u64 {
    u64::from_be_bytes(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_header_is_big_endian_u64() {
        // Spec example: ask for 1 MiB back.
        assert_eq!(encode_request(1 << 20), [0, 0, 0, 0, 0, 0x10, 0, 0]);
        assert_eq!(decode_request([0, 0, 0, 0, 0, 0x10, 0, 0]), 1 << 20);
        assert_eq!(decode_request(encode_request(u64::MAX)), u64::MAX);
        assert_eq!(decode_request(encode_request(0)), 0);
    }
}
