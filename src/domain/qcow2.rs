//! qcow2 header inspection, without qemu: the fields that make an image
//! reach other files (backing file name and format, the "external data
//! file" feature and its name, encryption) and the rules that decide
//! whether an image is self-contained or its backing file stays inside a
//! given directory. Byte layout: qemu's `docs/interop/qcow2.txt`.

use std::fmt;
use std::path::{Component, Path, PathBuf};

pub const MAGIC: &[u8; 4] = b"QFI\xfb";

/// Bytes to read from the start of a file so that everything `parse`
/// looks at is inside: qemu keeps the header, its extensions and the
/// backing file name in the first cluster (at most 2 MiB).
pub const HEAD_MAX: usize = (2 << 20) + 1024;

/// Incompatible feature bit 2: the guest data lives in an external file.
const INCOMPAT_DATA_FILE: u64 = 1 << 2;
const EXT_END: u32 = 0;
const EXT_BACKING_FORMAT: u32 = 0xe279_2aca;
const EXT_DATA_FILE: u32 = 0x4441_5441;
/// qemu refuses longer backing file names.
const BACKING_NAME_MAX: u64 = 1023;

/// What the header says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub version: u32,
    pub cluster_bits: u32,
    /// The virtual size in bytes.
    pub size: u64,
    pub crypt_method: u32,
    pub incompatible: u64,
    /// The backing file name, as stored.
    pub backing: Option<Vec<u8>>,
    /// The backing format extension (`qcow2`, `raw`, …).
    pub backing_format: Option<Vec<u8>>,
    /// The external data file name extension.
    pub data_file: Option<Vec<u8>>,
}

/// Why bytes are not a qcow2 header qemu would open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Malformed {
    TooShort,
    NotQcow2,
    Version(u32),
    ClusterBits(u32),
    HeaderLength(u32),
    BackingOffset,
    Extension(u32),
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Malformed::TooShort => write!(f, "the file is too short for a qcow2 header"),
            Malformed::NotQcow2 => write!(f, "the file is not a qcow2 image (no QFI magic)"),
            Malformed::Version(v) => write!(f, "qcow2 version {v} is not supported"),
            Malformed::ClusterBits(b) => write!(f, "the cluster size 2^{b} is invalid"),
            Malformed::HeaderLength(l) => write!(f, "the header length {l} is invalid"),
            Malformed::BackingOffset => {
                write!(f, "the backing file name lies outside the first cluster")
            }
            Malformed::Extension(t) => {
                write!(f, "header extension {t:#010x} runs past the first cluster")
            }
        }
    }
}

/// Why an image is refused: it reaches, or may reach, another file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unsafe {
    DataFile(String),
    Backing(String),
    JsonName(String),
    ProtocolName(String),
    BadName(String),
    OutsideRoot(String),
    BackingFormat(String),
    Encrypted,
}

impl fmt::Display for Unsafe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unsafe::DataFile(n) => write!(
                f,
                "the image keeps its data in an external data file (`{n}`); only self-contained qcow2 images are accepted"
            ),
            Unsafe::Backing(n) => write!(
                f,
                "the image has a backing file (`{n}`); upload a standalone image (`qemu-img convert -O qcow2` makes one)"
            ),
            Unsafe::JsonName(n) => write!(
                f,
                "the image's backing file is a `json:` filename (`{n}`); refused"
            ),
            Unsafe::ProtocolName(n) => write!(
                f,
                "the image's backing file names a protocol (`{n}`), not a file; refused"
            ),
            Unsafe::BadName(n) => write!(
                f,
                "the image's backing file name (`{n}`) is empty, holds a NUL byte or `..`; refused"
            ),
            Unsafe::OutsideRoot(n) => write!(
                f,
                "the image's backing file (`{n}`) is outside the storage's base directory; refused"
            ),
            Unsafe::BackingFormat(n) => write!(
                f,
                "the image's backing format is `{n}`; only qcow2 or raw backing files are accepted"
            ),
            Unsafe::Encrypted => write!(f, "the image is encrypted; upload an unencrypted image"),
        }
    }
}

/// A name from the header, printable in a message (at most 200 characters).
pub fn shown(name: &[u8]) -> String {
    let s: String = String::from_utf8_lossy(name)
        .chars()
        .flat_map(char::escape_debug)
        .collect();
    if s.chars().count() > 200 {
        let cut: String = s.chars().take(200).collect();
        format!("{cut}…")
    } else {
        s
    }
}

/// Bytes `at..at+N`, or `None` when the buffer ends before.
fn be<const N: usize>(b: &[u8], at: u64) -> Option<[u8; N]> {
    let at = usize::try_from(at).ok()?;
    b.get(at..at.checked_add(N)?)?.try_into().ok()
}

fn u32_at(b: &[u8], at: u64) -> Option<u32> {
    be::<4>(b, at).map(u32::from_be_bytes)
}

fn u64_at(b: &[u8], at: u64) -> Option<u64> {
    be::<8>(b, at).map(u64::from_be_bytes)
}

/// Like qemu reading past the end of a file: missing bytes are zeros.
fn u32_or0(b: &[u8], at: u64) -> u32 {
    u32_at(b, at).unwrap_or(0)
}

fn bytes_or0(b: &[u8], at: u64, len: u64) -> Vec<u8> {
    (0..len)
        .map(|i| {
            at.checked_add(i)
                .and_then(|p| usize::try_from(p).ok())
                .and_then(|p| b.get(p).copied())
                .unwrap_or(0)
        })
        .collect()
}

/// Parses the start of a file (up to `HEAD_MAX` bytes) as qemu does when
/// it opens a qcow2 image; never panics, whatever the bytes.
pub fn parse(b: &[u8]) -> Result<Header, Malformed> {
    if b.len() < 72 {
        return Err(if b.len() >= 4 && &b[..4] != MAGIC {
            Malformed::NotQcow2
        } else {
            Malformed::TooShort
        });
    }
    if &b[..4] != MAGIC {
        return Err(Malformed::NotQcow2);
    }
    let version = u32_or0(b, 4);
    if version != 2 && version != 3 {
        return Err(Malformed::Version(version));
    }
    let backing_offset = u64_at(b, 8).unwrap_or(0);
    let backing_size = u64::from(u32_or0(b, 16));
    let cluster_bits = u32_or0(b, 20);
    if !(9..=21).contains(&cluster_bits) {
        return Err(Malformed::ClusterBits(cluster_bits));
    }
    let cluster = 1u64 << cluster_bits;
    let size = u64_at(b, 24).unwrap_or(0);
    let crypt_method = u32_or0(b, 32);
    let (incompatible, header_length) = if version == 3 {
        if b.len() < 104 {
            return Err(Malformed::TooShort);
        }
        let len = u32_or0(b, 100);
        if len < 104 || u64::from(len) > cluster {
            return Err(Malformed::HeaderLength(len));
        }
        (u64_at(b, 72).unwrap_or(0), u64::from(len))
    } else {
        (0, 72)
    };
    let mut backing = None;
    if backing_offset != 0 {
        if backing_offset > cluster || backing_size > BACKING_NAME_MAX.min(cluster - backing_offset)
        {
            return Err(Malformed::BackingOffset);
        }
        backing = Some(bytes_or0(b, backing_offset, backing_size));
    }
    // Extensions run from the end of the header to the backing file name
    // (or the end of the first cluster), each 8-byte aligned.
    let ext_end = if backing_offset != 0 {
        backing_offset
    } else {
        cluster
    };
    let (mut backing_format, mut data_file) = (None, None);
    let mut at = header_length;
    while at < ext_end {
        if ext_end - at < 8 {
            return Err(Malformed::Extension(0));
        }
        let kind = u32_or0(b, at);
        let len = u64::from(u32_or0(b, at + 4));
        at += 8;
        if len > ext_end - at {
            return Err(Malformed::Extension(kind));
        }
        if kind == EXT_END {
            break;
        }
        match kind {
            EXT_BACKING_FORMAT => backing_format = Some(bytes_or0(b, at, len)),
            EXT_DATA_FILE => data_file = Some(bytes_or0(b, at, len)),
            _ => {}
        }
        at += len.div_ceil(8) * 8;
    }
    Ok(Header {
        version,
        cluster_bits,
        size,
        crypt_method,
        incompatible,
        backing,
        backing_format,
        data_file,
    })
}

impl Header {
    /// The external data file, if the image uses or names one.
    fn data_file_problem(&self) -> Option<Unsafe> {
        if self.incompatible & INCOMPAT_DATA_FILE != 0 || self.data_file.is_some() {
            return Some(Unsafe::DataFile(
                self.data_file.as_deref().map(shown).unwrap_or_default(),
            ));
        }
        None
    }

    /// A self-contained image: no data file, no backing file, not
    /// encrypted (what an upload or a registration must be).
    pub fn check_standalone(&self) -> Result<(), Unsafe> {
        if let Some(p) = self.data_file_problem() {
            return Err(p);
        }
        if let Some(name) = &self.backing {
            return Err(match name_problem(name) {
                Some(p @ (Unsafe::JsonName(_) | Unsafe::ProtocolName(_))) => p,
                _ => Unsafe::Backing(shown(name)),
            });
        }
        if self.crypt_method != 0 {
            return Err(Unsafe::Encrypted);
        }
        Ok(())
    }

    /// An image whose backing file, if any, is a plain qcow2 or raw file
    /// inside `root` (a template version in a storage's `_base`
    /// directory). Answers where the backing file is, for the caller to
    /// follow symlinks and check again.
    pub fn check_backing_within(
        &self,
        image: &Path,
        root: &Path,
    ) -> Result<Option<PathBuf>, Unsafe> {
        if let Some(p) = self.data_file_problem() {
            return Err(p);
        }
        if self.crypt_method != 0 {
            return Err(Unsafe::Encrypted);
        }
        let Some(name) = &self.backing else {
            return Ok(None);
        };
        if let Some(f) = &self.backing_format {
            if f.as_slice() != b"qcow2" && f.as_slice() != b"raw" {
                return Err(Unsafe::BackingFormat(shown(f)));
            }
        }
        let path = backing_path(image, name)?;
        if !path.starts_with(root) || path == root {
            return Err(Unsafe::OutsideRoot(shown(name)));
        }
        Ok(Some(path))
    }
}

/// What is wrong with a backing file name as a plain file path.
fn name_problem(name: &[u8]) -> Option<Unsafe> {
    if name.starts_with(b"json:") {
        return Some(Unsafe::JsonName(shown(name)));
    }
    // qemu reads `proto:rest` as a protocol when the colon comes before
    // any slash (`nbd:…`, `file:…`, `http://…`).
    let first = name.iter().position(|c| *c == b':' || *c == b'/');
    if first.is_some_and(|i| name[i] == b':') {
        return Some(Unsafe::ProtocolName(shown(name)));
    }
    let s = std::str::from_utf8(name).ok();
    let bad = name.is_empty()
        || name.contains(&0)
        || s.is_none_or(|s| Path::new(s).components().any(|c| c == Component::ParentDir));
    bad.then(|| Unsafe::BadName(shown(name)))
}

/// Where qemu finds the backing file `name` of the image at `image`: an
/// absolute name as is, a relative one beside the image. Names that are
/// not plain paths are refused.
pub fn backing_path(image: &Path, name: &[u8]) -> Result<PathBuf, Unsafe> {
    if let Some(p) = name_problem(name) {
        return Err(p);
    }
    let s = std::str::from_utf8(name).map_err(|_| Unsafe::BadName(shown(name)))?;
    let p = Path::new(s);
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        image.parent().unwrap_or(Path::new("/")).join(p)
    };
    // `.` components go; `..` was refused above.
    Ok(joined.components().collect())
}

/// A minimal qcow2 v3 header of `size` bytes with 64 KiB clusters, as
/// `qemu-img create` starts one, optionally naming a backing file and an
/// external data file (for fakes and tests).
pub fn minimal_header(size: u64, backing: Option<&str>, data_file: Option<&str>) -> Vec<u8> {
    let mut h = vec![0u8; 512];
    h[..4].copy_from_slice(MAGIC);
    h[4..8].copy_from_slice(&3u32.to_be_bytes());
    h[20..24].copy_from_slice(&16u32.to_be_bytes());
    h[24..32].copy_from_slice(&size.to_be_bytes());
    h[96..100].copy_from_slice(&4u32.to_be_bytes());
    h[100..104].copy_from_slice(&112u32.to_be_bytes());
    let mut at = 112;
    if let Some(d) = data_file {
        h[72..80].copy_from_slice(&INCOMPAT_DATA_FILE.to_be_bytes());
        let d = d.as_bytes();
        let padded = d.len().div_ceil(8) * 8;
        h.resize(h.len().max(at + 8 + padded + 8), 0);
        h[at..at + 4].copy_from_slice(&EXT_DATA_FILE.to_be_bytes());
        h[at + 4..at + 8].copy_from_slice(&(d.len() as u32).to_be_bytes());
        h[at + 8..at + 8 + d.len()].copy_from_slice(d);
        at += 8 + padded;
    }
    // The end-of-extensions marker is the zeros at `at`.
    if let Some(b) = backing {
        let off = (at + 8).max(384);
        let b = b.as_bytes();
        h.resize(h.len().max(off + b.len()), 0);
        h[8..16].copy_from_slice(&(off as u64).to_be_bytes());
        h[16..20].copy_from_slice(&(b.len() as u32).to_be_bytes());
        h[off..off + b.len()].copy_from_slice(b);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_header_is_standalone() {
        let h = parse(&minimal_header(1 << 30, None, None)).unwrap();
        assert_eq!((h.version, h.cluster_bits, h.size), (3, 16, 1 << 30));
        assert_eq!(h.check_standalone(), Ok(()));
        assert_eq!(
            h.check_backing_within(Path::new("/s/_base/v1.qcow2"), Path::new("/s/_base")),
            Ok(None)
        );
    }

    #[test]
    fn data_files_backing_files_and_json_names_are_found() {
        let h = parse(&minimal_header(1 << 20, None, Some("/etc/shadow"))).unwrap();
        assert_eq!(h.data_file.as_deref(), Some(&b"/etc/shadow"[..]));
        let e = h.check_standalone().unwrap_err();
        assert!(
            e.to_string().contains("external data file (`/etc/shadow`)"),
            "{e}"
        );
        assert!(h
            .check_backing_within(Path::new("/s/_base/x"), Path::new("/s/_base"))
            .is_err());
        // The feature bit alone (no name) is refused as well.
        let mut b = minimal_header(1 << 20, None, None);
        b[79] |= 4;
        assert!(matches!(
            parse(&b).unwrap().check_standalone(),
            Err(Unsafe::DataFile(_))
        ));

        let h = parse(&minimal_header(1 << 20, Some("/s/_base/base"), None)).unwrap();
        assert_eq!(h.backing.as_deref(), Some(&b"/s/_base/base"[..]));
        assert!(matches!(h.check_standalone(), Err(Unsafe::Backing(_))));
        let json = r#"json:{"driver":"raw","file":{"driver":"file","filename":"/etc/shadow"}}"#;
        let h = parse(&minimal_header(1 << 20, Some(json), None)).unwrap();
        assert!(matches!(h.check_standalone(), Err(Unsafe::JsonName(_))));
        let h = parse(&minimal_header(1 << 20, Some("nbd:127.0.0.1:10809"), None)).unwrap();
        assert!(matches!(h.check_standalone(), Err(Unsafe::ProtocolName(_))));
    }

    #[test]
    fn backing_files_must_stay_inside_the_root() {
        let root = Path::new("/s/instances/_base");
        let img = root.join("t/d/v2.qcow2");
        let within = |name: &str| {
            parse(&minimal_header(1 << 20, Some(name), None))
                .unwrap()
                .check_backing_within(&img, root)
        };
        assert_eq!(within("v1.qcow2"), Ok(Some(root.join("t/d/v1.qcow2"))));
        assert_eq!(within("./v1.qcow2"), Ok(Some(root.join("t/d/v1.qcow2"))));
        assert_eq!(within("/s/instances/_base/img"), Ok(Some(root.join("img"))));
        for bad in [
            "/etc/shadow",
            "../../../../../etc/shadow",
            "/s/instances/_base/../../../etc/shadow",
            "/s/instances/_basement/x",
            "/s/instances/_base",
            "file:/s/instances/_base/img",
            "json:{}",
            "",
        ] {
            assert!(within(bad).is_err(), "{bad:?} accepted");
        }
        let mut b = minimal_header(1 << 20, Some("v1.qcow2"), None);
        // A backing format extension naming vmdk (which can name extents).
        b[112..116].copy_from_slice(&EXT_BACKING_FORMAT.to_be_bytes());
        b[116..120].copy_from_slice(&4u32.to_be_bytes());
        b[120..124].copy_from_slice(b"vmdk");
        assert_eq!(
            parse(&b).unwrap().check_backing_within(&img, root),
            Err(Unsafe::BackingFormat("vmdk".into()))
        );
    }

    #[test]
    fn malformed_headers_are_refused() {
        assert_eq!(parse(b"QFI"), Err(Malformed::TooShort));
        assert_eq!(parse(&[0u8; 600]), Err(Malformed::NotQcow2));
        let mut b = minimal_header(1, None, None);
        b[7] = 4;
        assert_eq!(parse(&b), Err(Malformed::Version(4)));
        let mut b = minimal_header(1, None, None);
        b[23] = 30;
        assert_eq!(parse(&b), Err(Malformed::ClusterBits(30)));
        let mut b = minimal_header(1, None, None);
        b[103] = 8;
        assert_eq!(parse(&b), Err(Malformed::HeaderLength(8)));
        let mut b = minimal_header(1, Some("x"), None);
        b[8..16].copy_from_slice(&(1u64 << 40).to_be_bytes());
        assert_eq!(parse(&b), Err(Malformed::BackingOffset));
        let mut b = minimal_header(1, None, None);
        b[112..116].copy_from_slice(&EXT_DATA_FILE.to_be_bytes());
        b[116..120].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(parse(&b), Err(Malformed::Extension(EXT_DATA_FILE)));
    }

    /// A small deterministic generator (xorshift), so the property runs
    /// without a crate and fails the same way every time.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        let seeds = [
            minimal_header(1 << 30, None, None),
            minimal_header(1 << 20, Some("/s/_base/b"), Some("/etc/shadow")),
            minimal_header(1 << 20, Some("json:{}"), None),
        ];
        for i in 0..20_000 {
            let mut b = match i % 4 {
                // Random lengths and bytes, magic set half the time.
                0 => {
                    let n = (r.next() % 700) as usize;
                    let mut v: Vec<u8> = (0..n).map(|_| r.next() as u8).collect();
                    if n >= 4 && r.next() % 2 == 0 {
                        v[..4].copy_from_slice(MAGIC);
                    }
                    v
                }
                // A valid header with random bytes flipped and a random cut.
                _ => {
                    let mut v = seeds[i % seeds.len()].clone();
                    for _ in 0..(r.next() % 8) {
                        let at = (r.next() as usize) % v.len();
                        v[at] = r.next() as u8;
                    }
                    v.truncate((r.next() as usize) % (v.len() + 1));
                    v
                }
            };
            if i % 16 == 0 {
                // Extreme fields: offsets and lengths at their limits.
                if b.len() >= 104 {
                    b[8..16].copy_from_slice(&u64::MAX.to_be_bytes());
                    b[16..20].copy_from_slice(&u32::MAX.to_be_bytes());
                    b[100..104].copy_from_slice(&u32::MAX.to_be_bytes());
                }
            }
            let img = Path::new("/s/_base/x");
            if let Ok(h) = parse(&b) {
                let _ = h.check_standalone().map_err(|e| e.to_string());
                let _ = h.check_backing_within(img, Path::new("/s/_base"));
            }
        }
    }

    #[test]
    fn names_in_messages_are_escaped_and_short() {
        assert_eq!(shown(b"a\nb"), "a\\nb");
        assert!(shown(&[b'x'; 500]).chars().count() <= 201);
    }
}
