//! The base-128 varint used for message ids.
//!
//! Least significant 7-bit group first; the high bit of each byte says "more bytes follow".
//! 1 is `01`, 127 is `7f`, 128 is `80 01`, 300 is `ac 02`.

use bytes::BufMut;

use super::ProtocolError;

/// The most bytes a `u64` varint can take (10 × 7 bits ≥ 64 bits).
pub const MAX_VARINT_LEN: usize = 10;

/// Number of bytes [`encode`] writes for `value`.
pub const fn encoded_len(value: u64) -> usize {
    // One byte per started 7-bit group; zero still takes one byte.
    let bits = 64 - (value | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Appends `value` as a varint to `dst`.
pub fn encode(mut value: u64, dst: &mut impl BufMut) {
    while value >= 0x80 {
        // Truncation is the point: keep the low 7 bits and set the continuation bit.
        #[allow(clippy::cast_possible_truncation)]
        dst.put_u8((value as u8) | 0x80);
        value >>= 7;
    }
    #[allow(clippy::cast_possible_truncation)]
    dst.put_u8(value as u8);
}

/// Reads a varint from the front of `src`, returning the value and how many bytes it took.
///
/// # Errors
///
/// - [`ProtocolError::TruncatedId`] when `src` ends before the last byte (high bit clear).
/// - [`ProtocolError::VarintOverflow`] when the value needs more than 64 bits, which includes
///   any encoding longer than [`MAX_VARINT_LEN`] bytes.
pub fn decode(src: &[u8]) -> Result<(u64, usize), ProtocolError> {
    let mut value: u64 = 0;
    for (index, &byte) in src.iter().enumerate() {
        if index == MAX_VARINT_LEN {
            return Err(ProtocolError::VarintOverflow);
        }
        let group = u64::from(byte & 0x7f);
        let shift = 7 * index;
        // The 10th byte holds bit 63 only: anything above it does not fit.
        if index == MAX_VARINT_LEN - 1 && group > 1 {
            return Err(ProtocolError::VarintOverflow);
        }
        value |= group << shift;
        if byte & 0x80 == 0 {
            return Ok((value, index + 1));
        }
    }
    Err(ProtocolError::TruncatedId)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(value: u64) -> Vec<u8> {
        let mut buf = Vec::new();
        encode(value, &mut buf);
        assert_eq!(buf.len(), encoded_len(value), "encoded_len({value})");
        assert_eq!(decode(&buf).unwrap(), (value, buf.len()));
        buf
    }

    #[test]
    fn known_encodings() {
        assert_eq!(roundtrip(0), [0x00]);
        assert_eq!(roundtrip(1), [0x01]);
        assert_eq!(roundtrip(127), [0x7f]);
        assert_eq!(roundtrip(128), [0x80, 0x01]);
        assert_eq!(roundtrip(300), [0xac, 0x02]);
        assert_eq!(roundtrip(16_383), [0xff, 0x7f]);
        assert_eq!(roundtrip(16_384), [0x80, 0x80, 0x01]);
        assert_eq!(roundtrip(1 << 32), [0x80, 0x80, 0x80, 0x80, 0x10]);
        assert_eq!(roundtrip(u64::MAX).len(), MAX_VARINT_LEN);
    }

    #[test]
    fn overflow_is_rejected() {
        // Eleven bytes, all saying "more".
        assert!(matches!(
            decode(&[0xff; 11]),
            Err(ProtocolError::VarintOverflow)
        ));
        // Ten bytes whose last group carries more than bit 63.
        let mut too_big = [0xff; 10];
        too_big[9] = 0x02;
        assert!(matches!(
            decode(&too_big),
            Err(ProtocolError::VarintOverflow)
        ));
        // Bit 63 alone still fits.
        let mut max = [0xff; 10];
        max[9] = 0x01;
        assert_eq!(decode(&max).unwrap(), (u64::MAX, 10));
    }

    #[test]
    fn truncation_is_rejected() {
        assert!(matches!(decode(&[]), Err(ProtocolError::TruncatedId)));
        assert!(matches!(decode(&[0x80]), Err(ProtocolError::TruncatedId)));
        assert!(matches!(
            decode(&[0xff, 0xff]),
            Err(ProtocolError::TruncatedId)
        ));
    }
}
