//! The ports for virtual machines: the hypervisor (libvirt domains by uuid)
//! and disk images (qcow2 files and chains), with the types they speak.

use std::path::{Path, PathBuf};
use std::time::Duration;

use smol::io::AsyncRead;
use uuid::Uuid;

use super::BoxFuture;
use crate::error::Result;

/// What a reachable hypervisor reports.
#[derive(Clone, Debug, PartialEq)]
pub struct HypervisorInfo {
    pub uri: String,
    /// libvirt library version, `major.minor.micro`.
    pub libvirt_version: String,
    /// Hypervisor (e.g. QEMU) version, `major.minor.micro`.
    pub hypervisor_version: String,
}

pub use crate::domain::cluster::{PowerOp, PowerState};

/// Where a running domain's SPICE server listens.
#[derive(Clone, Debug, PartialEq)]
pub struct SpiceAddr {
    pub listen: String,
    pub port: u16,
}

/// A two-way byte stream to a VM's graphics server (a TCP connection on
/// this host, or a tunnel through a joined server's service).
pub trait Duplex: smol::io::AsyncRead + smol::io::AsyncWrite + Send + Unpin {}
impl<T: smol::io::AsyncRead + smol::io::AsyncWrite + Send + Unpin> Duplex for T {}
pub type Stream = Box<dyn Duplex>;

/// The virtualization host (libvirt).
pub trait Hypervisor: Send + Sync {
    /// Connects, asks for versions. Fails when unreachable.
    fn probe(&self) -> BoxFuture<'_, Result<HypervisorInfo>>;
    /// Defines (or redefines) a persistent domain from its XML.
    fn define(&self, xml: String) -> BoxFuture<'_, Result<()>>;
    /// Destroys (if running) and undefines; an unknown domain is not an error.
    fn undefine(&self, uuid: Uuid) -> BoxFuture<'_, Result<()>>;
    fn power(&self, uuid: Uuid, op: PowerOp) -> BoxFuture<'_, Result<()>>;
    /// `None` when no such domain is defined.
    fn state(&self, uuid: Uuid) -> BoxFuture<'_, Result<Option<PowerState>>>;
    /// The SPICE address of a running domain.
    fn spice(&self, uuid: Uuid) -> BoxFuture<'_, Result<Option<SpiceAddr>>>;
    /// Connects to a running domain's VNC or SPICE server; `None` when it
    /// is not running or has no such server.
    fn graphics_connect(
        &self,
        uuid: Uuid,
        p: crate::domain::console::Protocol,
    ) -> BoxFuture<'_, Result<Option<Stream>>>;
    /// Changes a device of a running domain (a new SPICE ticket, a cdrom).
    fn update_device(&self, uuid: Uuid, xml: String) -> BoxFuture<'_, Result<()>>;
    /// Every defined domain: uuid and name (the start-up sweep).
    fn list(&self) -> BoxFuture<'_, Result<Vec<(Uuid, String)>>>;
    /// Every defined domain with its power state, in one call (the
    /// desktop reconciler's poll).
    fn states(&self) -> BoxFuture<'_, Result<Vec<(Uuid, PowerState)>>>;
}

/// What `qemu-img info` says of an image.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageInfo {
    pub format: String,
    pub virtual_size: u64,
    pub actual_size: u64,
    pub backing: Option<PathBuf>,
    /// The external data file a qcow2 image keeps its data in.
    pub data_file: Option<PathBuf>,
}

/// What a path is, once symlinks are followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    File,
    Dir,
    /// A device, FIFO or socket.
    Other,
}

/// A path with its symlinks resolved (`canonicalize`) and what is there.
#[derive(Clone, Debug, PartialEq)]
pub struct FileStat {
    pub canonical: PathBuf,
    pub kind: FileKind,
    pub len: u64,
}

/// A byte stream in (an upload) or out (a download).
pub type ByteStream = Box<dyn AsyncRead + Unpin + Send + Sync + 'static>;

/// What a streamed upload wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct Written {
    pub bytes: u64,
    pub md5: String,
}

/// Disk images and the files around them. Paths are absolute.
pub trait Disks: Send + Sync {
    /// A new qcow2 image of `size` bytes, or an overlay on `backing` (its
    /// size, or `size` when larger).
    fn create<'a>(
        &'a self,
        path: &'a Path,
        size: u64,
        backing: Option<&'a Path>,
    ) -> BoxFuture<'a, Result<()>>;
    fn info<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<ImageInfo>>;
    /// Grows an image (never shrinks).
    fn resize<'a>(&'a self, path: &'a Path, size: u64) -> BoxFuture<'a, Result<()>>;
    /// Copies an image chain into one qcow2 file: standalone, or holding
    /// only what differs from `backing`.
    fn convert<'a>(
        &'a self,
        src: &'a Path,
        dst: &'a Path,
        backing: Option<&'a Path>,
    ) -> BoxFuture<'a, Result<()>>;
    /// Moves an overlay onto another backing file keeping what the guest
    /// sees (qemu-img's safe rebase); `None` makes it standalone.
    fn rebase<'a>(&'a self, path: &'a Path, backing: Option<&'a Path>)
        -> BoxFuture<'a, Result<()>>;
    /// `qemu-img check`: an error names what is wrong.
    fn check<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<()>>;
    /// Removes a file or a directory tree; a missing one is not an error.
    fn remove<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<()>>;
    fn rename<'a>(&'a self, from: &'a Path, to: &'a Path) -> BoxFuture<'a, Result<()>>;
    fn exists<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<bool>>;
    fn mkdir<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<()>>;
    /// Names in a directory (empty when it does not exist).
    fn list_dir<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<Vec<String>>>;
    /// Writes a stream to a new file (at most `limit` bytes), computing md5
    /// on the way; a failed write leaves no file.
    fn write_stream<'a>(
        &'a self,
        path: &'a Path,
        body: ByteStream,
        limit: u64,
    ) -> BoxFuture<'a, Result<Written>>;
    fn md5<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<String>>;
    /// The md5 of a regular file (a device, FIFO or symlink is refused),
    /// giving up once more than `max_bytes` were read or `max_time` passed.
    fn md5_bounded<'a>(
        &'a self,
        path: &'a Path,
        max_bytes: u64,
        max_time: Duration,
    ) -> BoxFuture<'a, Result<String>>;
    /// Follows symlinks; `None` when nothing is there.
    fn stat<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<Option<FileStat>>>;
    /// The first `max` bytes (fewer when the file is shorter) of a regular
    /// file; a device, FIFO or symlink is refused.
    fn read_head<'a>(&'a self, path: &'a Path, max: usize) -> BoxFuture<'a, Result<Vec<u8>>>;
    /// Opens a file for streaming out from byte `offset` (a resumed pull):
    /// the length left and the bytes.
    fn open_read<'a>(
        &'a self,
        path: &'a Path,
        offset: u64,
    ) -> BoxFuture<'a, Result<(u64, ByteStream)>>;
}
