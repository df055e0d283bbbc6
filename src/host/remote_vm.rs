//! A joined node's hypervisor and disks as the controller sees them: the
//! adapters that send `domain::cluster`'s vm and disk calls through the
//! node client, and the node's side that runs them on its own libvirt and
//! qemu-img.

use std::path::Path;
use std::sync::Arc;

use uuid::Uuid;

use super::node_client::{NodeClient, Peer};
use super::{BoxFuture, ByteStream, Disks, FileStat, Hypervisor, HypervisorInfo, ImageInfo};
use super::{PowerOp, PowerState, SpiceAddr, Stream, Written};
use crate::domain::cluster::{DiskCall, DiskReply, VmCall, VmReply};
use crate::domain::console::Protocol;
use crate::error::{Code, Error, Result};

/// Paths the node accepts: absolute, without `..`.
fn checked(p: &Path) -> Result<&Path> {
    if !p.is_absolute()
        || p.components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(Error::invalid(
            "path",
            format!("{} must be absolute, without `..`", p.display()),
        ));
    }
    Ok(p)
}

/// The node's side: runs one call on this host's hypervisor.
pub async fn serve_vm(hv: &dyn Hypervisor, call: VmCall) -> Result<VmReply> {
    Ok(match call {
        VmCall::Probe => {
            let i = hv.probe().await?;
            VmReply::Probe {
                uri: i.uri,
                libvirt_version: i.libvirt_version,
                hypervisor_version: i.hypervisor_version,
            }
        }
        VmCall::Define { xml } => {
            hv.define(xml).await?;
            VmReply::Done
        }
        VmCall::Undefine { uuid } => {
            hv.undefine(uuid).await?;
            VmReply::Done
        }
        VmCall::Power { uuid, power } => {
            hv.power(uuid, power).await?;
            VmReply::Done
        }
        VmCall::State { uuid } => VmReply::State {
            state: hv.state(uuid).await?,
        },
        VmCall::Spice { uuid } => VmReply::Spice {
            spice: hv.spice(uuid).await?.map(|a| (a.listen, a.port)),
        },
        VmCall::UpdateDevice { uuid, xml } => {
            hv.update_device(uuid, xml).await?;
            VmReply::Done
        }
        VmCall::List => VmReply::List {
            domains: hv.list().await?,
        },
        VmCall::States => VmReply::States {
            states: hv.states().await?,
        },
    })
}

/// The node's side: runs one call on this host's disks.
pub async fn serve_disk(d: &dyn Disks, call: DiskCall) -> Result<DiskReply> {
    let done = DiskReply::Done;
    Ok(match call {
        DiskCall::Create {
            path,
            size,
            backing,
        } => {
            if let Some(b) = &backing {
                checked(b)?;
            }
            d.create(checked(&path)?, size, backing.as_deref()).await?;
            done
        }
        DiskCall::Info { path } => {
            let i = d.info(checked(&path)?).await?;
            DiskReply::Info {
                format: i.format,
                virtual_size: i.virtual_size,
                actual_size: i.actual_size,
                backing: i.backing,
                data_file: i.data_file,
            }
        }
        DiskCall::Resize { path, size } => {
            d.resize(checked(&path)?, size).await?;
            done
        }
        DiskCall::Convert { src, dst, backing } => {
            if let Some(b) = &backing {
                checked(b)?;
            }
            d.convert(checked(&src)?, checked(&dst)?, backing.as_deref())
                .await?;
            done
        }
        DiskCall::Rebase { path, backing } => {
            if let Some(b) = &backing {
                checked(b)?;
            }
            d.rebase(checked(&path)?, backing.as_deref()).await?;
            done
        }
        DiskCall::Check { path } => {
            d.check(checked(&path)?).await?;
            done
        }
        DiskCall::Remove { path } => {
            d.remove(checked(&path)?).await?;
            done
        }
        DiskCall::Rename { from, to } => {
            d.rename(checked(&from)?, checked(&to)?).await?;
            done
        }
        DiskCall::Exists { path } => DiskReply::Exists {
            exists: d.exists(checked(&path)?).await?,
        },
        DiskCall::Mkdir { path } => {
            d.mkdir(checked(&path)?).await?;
            done
        }
        DiskCall::ListDir { path } => DiskReply::ListDir {
            names: d.list_dir(checked(&path)?).await?,
        },
        DiskCall::Md5 { path } => DiskReply::Md5 {
            md5: d.md5(checked(&path)?).await?,
        },
    })
}

/// A joined node: the client that reaches it, where, and its name.
#[derive(Clone)]
pub struct NodeLinkApi {
    pub client: Arc<dyn NodeClient>,
    pub peer: Peer,
    /// The node's name, for messages.
    pub name: String,
}

impl NodeLinkApi {
    /// Names the node in an error's message.
    pub fn named(&self, e: Error) -> Error {
        Error::new(e.code, format!("node `{}`: {}", self.name, e.message))
    }

    async fn vm(&self, call: VmCall) -> Result<VmReply> {
        self.client
            .vm(&self.peer, call)
            .await
            .map_err(|e| self.named(e))
    }

    async fn disk(&self, call: DiskCall) -> Result<DiskReply> {
        self.client
            .disk(&self.peer, call)
            .await
            .map_err(|e| self.named(e))
    }

    /// A reply of the wrong kind (a peer that answers another call).
    fn odd<R: std::fmt::Debug>(&self, call: &str, r: R) -> Error {
        Error::new(
            Code::NodeRemote,
            format!("node `{}` answered {call} with {r:?}", self.name),
        )
    }

    async fn vm_done(&self, call: VmCall) -> Result<()> {
        match self.vm(call).await? {
            VmReply::Done => Ok(()),
            r => Err(self.odd("a vm call", r)),
        }
    }

    async fn disk_done(&self, call: DiskCall) -> Result<()> {
        match self.disk(call).await? {
            DiskReply::Done => Ok(()),
            r => Err(self.odd("a disk call", r)),
        }
    }
}

/// A joined node's libvirt, through its internal API.
pub struct RemoteHypervisor(pub NodeLinkApi);

/// A joined node's disks, through its internal API. Streams (uploads and
/// downloads) stay on the controller: a node pulls files instead.
pub struct RemoteDisks(pub NodeLinkApi);

impl Hypervisor for RemoteHypervisor {
    fn probe(&self) -> BoxFuture<'_, Result<HypervisorInfo>> {
        Box::pin(async move {
            match self.0.vm(VmCall::Probe).await? {
                VmReply::Probe {
                    uri,
                    libvirt_version,
                    hypervisor_version,
                } => Ok(HypervisorInfo {
                    uri,
                    libvirt_version,
                    hypervisor_version,
                }),
                r => Err(self.0.odd("probe", r)),
            }
        })
    }

    fn define(&self, xml: String) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move { self.0.vm_done(VmCall::Define { xml }).await })
    }

    fn undefine(&self, uuid: Uuid) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move { self.0.vm_done(VmCall::Undefine { uuid }).await })
    }

    fn power(&self, uuid: Uuid, power: PowerOp) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move { self.0.vm_done(VmCall::Power { uuid, power }).await })
    }

    fn state(&self, uuid: Uuid) -> BoxFuture<'_, Result<Option<PowerState>>> {
        Box::pin(async move {
            match self.0.vm(VmCall::State { uuid }).await? {
                VmReply::State { state } => Ok(state),
                r => Err(self.0.odd("state", r)),
            }
        })
    }

    fn spice(&self, uuid: Uuid) -> BoxFuture<'_, Result<Option<SpiceAddr>>> {
        Box::pin(async move {
            match self.0.vm(VmCall::Spice { uuid }).await? {
                VmReply::Spice { spice } => {
                    Ok(spice.map(|(listen, port)| SpiceAddr { listen, port }))
                }
                r => Err(self.0.odd("spice", r)),
            }
        })
    }

    fn graphics_connect(&self, uuid: Uuid, p: Protocol) -> BoxFuture<'_, Result<Option<Stream>>> {
        Box::pin(async move {
            let s = self.0.client.stream(&self.0.peer, uuid, p).await;
            s.map(Some).map_err(|e| self.0.named(e))
        })
    }

    fn update_device(&self, uuid: Uuid, xml: String) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move { self.0.vm_done(VmCall::UpdateDevice { uuid, xml }).await })
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<(Uuid, String)>>> {
        Box::pin(async move {
            match self.0.vm(VmCall::List).await? {
                VmReply::List { domains } => Ok(domains),
                r => Err(self.0.odd("list", r)),
            }
        })
    }

    fn states(&self) -> BoxFuture<'_, Result<Vec<(Uuid, PowerState)>>> {
        Box::pin(async move {
            match self.0.vm(VmCall::States).await? {
                VmReply::States { states } => Ok(states),
                r => Err(self.0.odd("states", r)),
            }
        })
    }
}

fn no_stream(what: &str) -> Error {
    Error::new(
        Code::DiskFailed,
        format!("{what} runs on the controller only; nodes pull files"),
    )
}

impl Disks for RemoteDisks {
    fn create<'a>(
        &'a self,
        path: &'a Path,
        size: u64,
        backing: Option<&'a Path>,
    ) -> BoxFuture<'a, Result<()>> {
        let call = DiskCall::Create {
            path: path.into(),
            size,
            backing: backing.map(Into::into),
        };
        Box::pin(async move { self.0.disk_done(call).await })
    }

    fn info<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<ImageInfo>> {
        Box::pin(async move {
            match self.0.disk(DiskCall::Info { path: path.into() }).await? {
                DiskReply::Info {
                    format,
                    virtual_size,
                    actual_size,
                    backing,
                    data_file,
                } => Ok(ImageInfo {
                    format,
                    virtual_size,
                    actual_size,
                    backing,
                    data_file,
                }),
                r => Err(self.0.odd("info", r)),
            }
        })
    }

    fn resize<'a>(&'a self, path: &'a Path, size: u64) -> BoxFuture<'a, Result<()>> {
        let call = DiskCall::Resize {
            path: path.into(),
            size,
        };
        Box::pin(async move { self.0.disk_done(call).await })
    }

    fn convert<'a>(
        &'a self,
        src: &'a Path,
        dst: &'a Path,
        backing: Option<&'a Path>,
    ) -> BoxFuture<'a, Result<()>> {
        let call = DiskCall::Convert {
            src: src.into(),
            dst: dst.into(),
            backing: backing.map(Into::into),
        };
        Box::pin(async move { self.0.disk_done(call).await })
    }

    fn rebase<'a>(
        &'a self,
        path: &'a Path,
        backing: Option<&'a Path>,
    ) -> BoxFuture<'a, Result<()>> {
        let call = DiskCall::Rebase {
            path: path.into(),
            backing: backing.map(Into::into),
        };
        Box::pin(async move { self.0.disk_done(call).await })
    }

    fn check<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<()>> {
        let call = DiskCall::Check { path: path.into() };
        Box::pin(async move { self.0.disk_done(call).await })
    }

    fn remove<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<()>> {
        let call = DiskCall::Remove { path: path.into() };
        Box::pin(async move { self.0.disk_done(call).await })
    }

    fn rename<'a>(&'a self, from: &'a Path, to: &'a Path) -> BoxFuture<'a, Result<()>> {
        let call = DiskCall::Rename {
            from: from.into(),
            to: to.into(),
        };
        Box::pin(async move { self.0.disk_done(call).await })
    }

    fn exists<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            match self.0.disk(DiskCall::Exists { path: path.into() }).await? {
                DiskReply::Exists { exists } => Ok(exists),
                r => Err(self.0.odd("exists", r)),
            }
        })
    }

    fn mkdir<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<()>> {
        let call = DiskCall::Mkdir { path: path.into() };
        Box::pin(async move { self.0.disk_done(call).await })
    }

    fn list_dir<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<Vec<String>>> {
        Box::pin(async move {
            match self.0.disk(DiskCall::ListDir { path: path.into() }).await? {
                DiskReply::ListDir { names } => Ok(names),
                r => Err(self.0.odd("list_dir", r)),
            }
        })
    }

    fn md5<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<String>> {
        Box::pin(async move {
            match self.0.disk(DiskCall::Md5 { path: path.into() }).await? {
                DiskReply::Md5 { md5 } => Ok(md5),
                r => Err(self.0.odd("md5", r)),
            }
        })
    }

    fn write_stream<'a>(
        &'a self,
        _path: &'a Path,
        _body: ByteStream,
        _limit: u64,
    ) -> BoxFuture<'a, Result<Written>> {
        Box::pin(async move { Err(no_stream("an upload")) })
    }

    fn open_read<'a>(
        &'a self,
        _path: &'a Path,
        _offset: u64,
    ) -> BoxFuture<'a, Result<(u64, ByteStream)>> {
        Box::pin(async move { Err(no_stream("a download")) })
    }

    fn md5_bounded<'a>(
        &'a self,
        _path: &'a Path,
        _max_bytes: u64,
        _max_time: std::time::Duration,
    ) -> BoxFuture<'a, Result<String>> {
        Box::pin(async move { Err(no_stream("registering a file")) })
    }

    fn stat<'a>(&'a self, _path: &'a Path) -> BoxFuture<'a, Result<Option<FileStat>>> {
        Box::pin(async move { Err(no_stream("registering a file")) })
    }

    fn read_head<'a>(&'a self, _path: &'a Path, _max: usize) -> BoxFuture<'a, Result<Vec<u8>>> {
        Box::pin(async move { Err(no_stream("checking an image header")) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_refuse_relative_and_parent_paths() {
        assert!(checked(Path::new("/a/b")).is_ok());
        assert!(checked(Path::new("a/b")).is_err());
        assert!(checked(Path::new("/a/../etc/shadow")).is_err());
    }
}
