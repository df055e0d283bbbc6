//! A joined node's hypervisor and disks as the controller sees them: the
//! calls sent to its internal API (`internal/vm`, `internal/disk`), the
//! adapters that send them, and the node's side that runs them on its own
//! libvirt and qemu-img.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use super::node_api::NodeApi;
use super::{
    BoxFuture, ByteStream, Disks, FileStat, Hypervisor, HypervisorInfo, ImageInfo, PowerOp,
};
use super::{PowerState, SpiceAddr, Written};
use crate::error::{Code, Error, Result};

/// One hypervisor call, as `internal/vm` takes it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum VmCall {
    Probe,
    Define {
        xml: String,
    },
    Undefine {
        #[schemars(with = "String")]
        uuid: Uuid,
    },
    Power {
        #[schemars(with = "String")]
        uuid: Uuid,
        power: String,
    },
    State {
        #[schemars(with = "String")]
        uuid: Uuid,
    },
    Spice {
        #[schemars(with = "String")]
        uuid: Uuid,
    },
    UpdateDevice {
        #[schemars(with = "String")]
        uuid: Uuid,
        xml: String,
    },
    List,
    States,
}

/// One disk call, as `internal/disk` takes it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum DiskCall {
    Create {
        path: PathBuf,
        size: u64,
        backing: Option<PathBuf>,
    },
    Info {
        path: PathBuf,
    },
    Resize {
        path: PathBuf,
        size: u64,
    },
    Convert {
        src: PathBuf,
        dst: PathBuf,
        backing: Option<PathBuf>,
    },
    Rebase {
        path: PathBuf,
        backing: Option<PathBuf>,
    },
    Check {
        path: PathBuf,
    },
    Remove {
        path: PathBuf,
    },
    Rename {
        from: PathBuf,
        to: PathBuf,
    },
    Exists {
        path: PathBuf,
    },
    Mkdir {
        path: PathBuf,
    },
    ListDir {
        path: PathBuf,
    },
    Md5 {
        path: PathBuf,
    },
}

fn power_name(op: PowerOp) -> &'static str {
    match op {
        PowerOp::Start => "start",
        PowerOp::Shutdown => "shutdown",
        PowerOp::Destroy => "destroy",
        PowerOp::Reboot => "reboot",
        PowerOp::Reset => "reset",
    }
}

fn power_op(name: &str) -> Result<PowerOp> {
    Ok(match name {
        "start" => PowerOp::Start,
        "shutdown" => PowerOp::Shutdown,
        "destroy" => PowerOp::Destroy,
        "reboot" => PowerOp::Reboot,
        "reset" => PowerOp::Reset,
        _ => {
            return Err(Error::invalid(
                "power",
                "must be start, shutdown, destroy, reboot or reset",
            ))
        }
    })
}

fn state_name(s: PowerState) -> &'static str {
    match s {
        PowerState::Running => "running",
        PowerState::Paused => "paused",
        PowerState::Off => "off",
    }
}

fn state_of(v: &Value) -> Result<PowerState> {
    match v.as_str() {
        Some("running") => Ok(PowerState::Running),
        Some("paused") => Ok(PowerState::Paused),
        Some("off") => Ok(PowerState::Off),
        _ => Err(garbled("state", v)),
    }
}

fn garbled(what: &str, v: &Value) -> Error {
    Error::new(
        Code::NodeRemote,
        format!("the node answered an unreadable {what}: {v}"),
    )
}

fn uuid_of(v: &Value) -> Result<Uuid> {
    v.as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| garbled("uuid", v))
}

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
pub async fn serve_vm(hv: &dyn Hypervisor, call: VmCall) -> Result<Value> {
    Ok(match call {
        VmCall::Probe => {
            let i = hv.probe().await?;
            json!({"uri": i.uri, "libvirt_version": i.libvirt_version,
                   "hypervisor_version": i.hypervisor_version})
        }
        VmCall::Define { xml } => {
            hv.define(xml).await?;
            Value::Null
        }
        VmCall::Undefine { uuid } => {
            hv.undefine(uuid).await?;
            Value::Null
        }
        VmCall::Power { uuid, power } => {
            hv.power(uuid, power_op(&power)?).await?;
            Value::Null
        }
        VmCall::State { uuid } => match hv.state(uuid).await? {
            Some(s) => json!(state_name(s)),
            None => Value::Null,
        },
        VmCall::Spice { uuid } => match hv.spice(uuid).await? {
            Some(a) => json!({"listen": a.listen, "port": a.port}),
            None => Value::Null,
        },
        VmCall::UpdateDevice { uuid, xml } => {
            hv.update_device(uuid, xml).await?;
            Value::Null
        }
        VmCall::List => json!(hv
            .list()
            .await?
            .into_iter()
            .map(|(u, n)| json!([u, n]))
            .collect::<Vec<_>>()),
        VmCall::States => json!(hv
            .states()
            .await?
            .into_iter()
            .map(|(u, s)| json!([u, state_name(s)]))
            .collect::<Vec<_>>()),
    })
}

/// The node's side: runs one call on this host's disks.
pub async fn serve_disk(d: &dyn Disks, call: DiskCall) -> Result<Value> {
    let done = Value::Null;
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
            json!({"format": i.format, "virtual_size": i.virtual_size,
                   "actual_size": i.actual_size, "backing": i.backing, "data_file": i.data_file})
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
        DiskCall::Exists { path } => json!(d.exists(checked(&path)?).await?),
        DiskCall::Mkdir { path } => {
            d.mkdir(checked(&path)?).await?;
            done
        }
        DiskCall::ListDir { path } => json!(d.list_dir(checked(&path)?).await?),
        DiskCall::Md5 { path } => json!(d.md5(checked(&path)?).await?),
    })
}

/// Where a node's internal API is and the token that opens it.
#[derive(Clone)]
pub struct NodeLinkApi {
    pub api: Arc<dyn NodeApi>,
    /// `http://host:port`.
    pub base: String,
    pub token: String,
    /// The node's name, for messages.
    pub name: String,
}

impl NodeLinkApi {
    async fn call(&self, path: &str, body: Value) -> Result<Value> {
        self.api
            .call(&self.base, &self.token, path, body)
            .await
            .map_err(|e| Error::new(e.code, format!("node `{}`: {}", self.name, e.message)))
    }

    async fn vm(&self, call: VmCall) -> Result<Value> {
        self.call(
            "/api/v1/internal/vm",
            serde_json::to_value(call).map_err(Error::internal)?,
        )
        .await
    }

    async fn disk(&self, call: DiskCall) -> Result<Value> {
        self.call(
            "/api/v1/internal/disk",
            serde_json::to_value(call).map_err(Error::internal)?,
        )
        .await
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
            let v = self.0.vm(VmCall::Probe).await?;
            let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            Ok(HypervisorInfo {
                uri: s("uri"),
                libvirt_version: s("libvirt_version"),
                hypervisor_version: s("hypervisor_version"),
            })
        })
    }

    fn define(&self, xml: String) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move { self.0.vm(VmCall::Define { xml }).await.map(drop) })
    }

    fn undefine(&self, uuid: Uuid) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move { self.0.vm(VmCall::Undefine { uuid }).await.map(drop) })
    }

    fn power(&self, uuid: Uuid, op: PowerOp) -> BoxFuture<'_, Result<()>> {
        let power = power_name(op).to_string();
        Box::pin(async move { self.0.vm(VmCall::Power { uuid, power }).await.map(drop) })
    }

    fn state(&self, uuid: Uuid) -> BoxFuture<'_, Result<Option<PowerState>>> {
        Box::pin(async move {
            let v = self.0.vm(VmCall::State { uuid }).await?;
            if v.is_null() {
                return Ok(None);
            }
            state_of(&v).map(Some)
        })
    }

    fn spice(&self, uuid: Uuid) -> BoxFuture<'_, Result<Option<SpiceAddr>>> {
        Box::pin(async move {
            let v = self.0.vm(VmCall::Spice { uuid }).await?;
            if v.is_null() {
                return Ok(None);
            }
            Ok(Some(SpiceAddr {
                listen: v["listen"].as_str().unwrap_or("").to_string(),
                port: v["port"]
                    .as_u64()
                    .and_then(|p| u16::try_from(p).ok())
                    .ok_or_else(|| garbled("SPICE port", &v))?,
            }))
        })
    }

    fn update_device(&self, uuid: Uuid, xml: String) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            self.0
                .vm(VmCall::UpdateDevice { uuid, xml })
                .await
                .map(drop)
        })
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<(Uuid, String)>>> {
        Box::pin(async move {
            let v = self.0.vm(VmCall::List).await?;
            pairs(&v)?
                .into_iter()
                .map(|(u, n)| Ok((uuid_of(u)?, n.as_str().unwrap_or("").to_string())))
                .collect()
        })
    }

    fn states(&self) -> BoxFuture<'_, Result<Vec<(Uuid, PowerState)>>> {
        Box::pin(async move {
            let v = self.0.vm(VmCall::States).await?;
            pairs(&v)?
                .into_iter()
                .map(|(u, s)| Ok((uuid_of(u)?, state_of(s)?)))
                .collect()
        })
    }
}

/// `[[a, b], …]`.
fn pairs(v: &Value) -> Result<Vec<(&Value, &Value)>> {
    v.as_array()
        .ok_or_else(|| garbled("list", v))?
        .iter()
        .map(|p| match p.as_array().map(Vec::as_slice) {
            Some([a, b]) => Ok((a, b)),
            _ => Err(garbled("pair", p)),
        })
        .collect()
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
        Box::pin(async move { self.0.disk(call).await.map(drop) })
    }

    fn info<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<ImageInfo>> {
        Box::pin(async move {
            let v = self.0.disk(DiskCall::Info { path: path.into() }).await?;
            Ok(ImageInfo {
                format: v["format"].as_str().unwrap_or("").to_string(),
                virtual_size: v["virtual_size"].as_u64().unwrap_or(0),
                actual_size: v["actual_size"].as_u64().unwrap_or(0),
                backing: v["backing"].as_str().map(PathBuf::from),
                data_file: v["data_file"].as_str().map(PathBuf::from),
            })
        })
    }

    fn resize<'a>(&'a self, path: &'a Path, size: u64) -> BoxFuture<'a, Result<()>> {
        let call = DiskCall::Resize {
            path: path.into(),
            size,
        };
        Box::pin(async move { self.0.disk(call).await.map(drop) })
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
        Box::pin(async move { self.0.disk(call).await.map(drop) })
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
        Box::pin(async move { self.0.disk(call).await.map(drop) })
    }

    fn check<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<()>> {
        let call = DiskCall::Check { path: path.into() };
        Box::pin(async move { self.0.disk(call).await.map(drop) })
    }

    fn remove<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<()>> {
        let call = DiskCall::Remove { path: path.into() };
        Box::pin(async move { self.0.disk(call).await.map(drop) })
    }

    fn rename<'a>(&'a self, from: &'a Path, to: &'a Path) -> BoxFuture<'a, Result<()>> {
        let call = DiskCall::Rename {
            from: from.into(),
            to: to.into(),
        };
        Box::pin(async move { self.0.disk(call).await.map(drop) })
    }

    fn exists<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let v = self.0.disk(DiskCall::Exists { path: path.into() }).await?;
            v.as_bool().ok_or_else(|| garbled("answer", &v))
        })
    }

    fn mkdir<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<()>> {
        let call = DiskCall::Mkdir { path: path.into() };
        Box::pin(async move { self.0.disk(call).await.map(drop) })
    }

    fn list_dir<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<Vec<String>>> {
        Box::pin(async move {
            let v = self.0.disk(DiskCall::ListDir { path: path.into() }).await?;
            serde_json::from_value(v.clone()).map_err(|_| garbled("listing", &v))
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

    fn md5<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<String>> {
        Box::pin(async move {
            let v = self.0.disk(DiskCall::Md5 { path: path.into() }).await?;
            v.as_str()
                .map(String::from)
                .ok_or_else(|| garbled("md5", &v))
        })
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
    fn calls_have_one_wire_form() {
        let c = DiskCall::Create {
            path: "/s/a".into(),
            size: 0,
            backing: Some("/s/b".into()),
        };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["op"], "create");
        assert_eq!(serde_json::from_value::<DiskCall>(v).unwrap(), c);
        let v = json!({"op": "power", "uuid": Uuid::nil(), "power": "destroy"});
        let c: VmCall = serde_json::from_value(v).unwrap();
        assert!(matches!(c, VmCall::Power { ref power, .. } if power == "destroy"));
        assert!(serde_json::from_value::<VmCall>(json!({"op": "format_disk"})).is_err());
    }

    #[test]
    fn nodes_refuse_relative_and_parent_paths() {
        assert!(checked(Path::new("/a/b")).is_ok());
        assert!(checked(Path::new("a/b")).is_err());
        assert!(checked(Path::new("/a/../etc/shadow")).is_err());
        assert!(power_op("explode").is_err());
        assert_eq!(power_op("reset").unwrap(), PowerOp::Reset);
    }
}
