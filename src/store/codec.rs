//! Versioned record encoding: a big-endian `u16` version tag, then the
//! record's bincode 2 body (standard config). Records are positional, so a
//! changed layout is a new version with a migration, never a skipped field.

use crate::error::{Error, Result};

const CFG: bincode::config::Configuration = bincode::config::standard();

pub fn encode<T: bincode::Encode>(version: u16, rec: &T) -> Vec<u8> {
    let mut out = version.to_be_bytes().to_vec();
    // Writing into a Vec cannot fail for the record types of this crate.
    bincode::encode_into_std_write(rec, &mut out, CFG).expect("encode into Vec");
    out
}

/// Splits off the version tag.
pub fn version(bytes: &[u8]) -> Result<(u16, &[u8])> {
    if bytes.len() < 2 {
        return Err(Error::store("record shorter than its version tag"));
    }
    Ok((u16::from_be_bytes([bytes[0], bytes[1]]), &bytes[2..]))
}

pub fn body<T: bincode::Decode<()>>(bytes: &[u8]) -> Result<T> {
    let (v, used) = bincode::decode_from_slice::<T, _>(bytes, CFG)
        .map_err(|e| Error::store(format!("undecodable record: {e}")))?;
    if used != bytes.len() {
        return Err(Error::store("record has trailing bytes"));
    }
    Ok(v)
}

/// Decodes a record that has only ever had one layout, version `want`.
pub fn decode<T: bincode::Decode<()>>(want: u16, bytes: &[u8]) -> Result<T> {
    let (v, rest) = version(bytes)?;
    if v != want {
        return Err(Error::store(format!("record version {v}, expected {want}")));
    }
    body(rest)
}

pub fn u64_key(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

pub fn key_u64(k: &[u8]) -> Result<u64> {
    let arr: [u8; 8] = k.try_into().map_err(|_| Error::store("bad u64 key"))?;
    Ok(u64::from_be_bytes(arr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(bincode::Encode, bincode::Decode, Debug, PartialEq)]
    struct R {
        a: u32,
        b: String,
        c: Option<i64>,
    }

    #[test]
    fn round_trip_with_version_tag() {
        let r = R {
            a: 7,
            b: "池".into(),
            c: Some(-3),
        };
        let bytes = encode(3, &r);
        assert_eq!(&bytes[..2], &[0, 3]);
        assert_eq!(decode::<R>(3, &bytes).unwrap(), r);
    }

    #[test]
    fn wrong_version_or_garbage_is_an_error_not_a_panic() {
        let bytes = encode(
            1,
            &R {
                a: 1,
                b: "x".into(),
                c: None,
            },
        );
        assert!(decode::<R>(2, &bytes).is_err());
        assert!(decode::<R>(1, &bytes[..3]).is_err());
        assert!(decode::<R>(1, &[0]).is_err());
        let mut long = bytes.clone();
        long.push(0);
        assert!(decode::<R>(1, &long).is_err());
    }

    #[test]
    fn u64_keys_sort_numerically() {
        let mut keys = [u64_key(300), u64_key(2), u64_key(1 << 40), u64_key(10)];
        keys.sort();
        let back: Vec<u64> = keys.iter().map(|k| key_u64(k).unwrap()).collect();
        assert_eq!(back, vec![2, 10, 300, 1 << 40]);
    }
}
