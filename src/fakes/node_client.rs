//! A fake node client: fake nodes by address, each with its own fake
//! hypervisor and disks that `vm` and `disk` calls run on as a node would,
//! pulls copied from the controller's fake disks, and a record of every
//! message sent (as its JSON form, to compare with what a test expects).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::{FakeDisks, FakeHypervisor};
use crate::domain::cluster::{
    DiskCall, DiskReply, NetworkApplied, NetworkPush, NodePowerOp, PullEnd, PullReq, PullStatus,
    Register, Registered, VmCall, VmReply,
};
use crate::domain::console::Protocol;
use crate::domain::monitor::Report;
use crate::error::{Code, Error, Result};
use crate::host::node_client::{paths, NodeClient, Peer};
use crate::host::remote_vm::{serve_disk, serve_vm};
use crate::host::{BoxFuture, Disks, Hypervisor, Stream};

/// One message the fake saw.
#[derive(Clone, Debug)]
pub struct ApiCall {
    pub base: String,
    pub path: String,
    pub body: Value,
}

#[derive(Default)]
pub struct FakeNodeClient {
    pub calls: Mutex<Vec<ApiCall>>,
    /// A message path that fails with `NodeRemote`.
    pub fail_path: Mutex<Option<String>>,
    /// Nodes by API address, each with its own hypervisor and disks.
    pub nodes: Mutex<HashMap<String, FakeNodeHost>>,
    /// The controller's disks, that pulls copy from.
    pub source: Mutex<Option<Arc<FakeDisks>>>,
    /// Pushed network states, by API address.
    pub networks: Mutex<HashMap<String, Value>>,
}

/// A fake node's machine.
#[derive(Clone)]
pub struct FakeNodeHost {
    pub hypervisor: Arc<FakeHypervisor>,
    pub disks: Arc<FakeDisks>,
}

impl FakeNodeClient {
    /// A fake node at `base` (`http://ip:port`), with an empty machine.
    pub fn add_node(&self, base: &str) -> FakeNodeHost {
        let h = FakeNodeHost {
            hypervisor: Arc::new(FakeHypervisor::new(true)),
            disks: Arc::new(FakeDisks::default()),
        };
        self.nodes.lock().unwrap().insert(base.into(), h.clone());
        h
    }

    pub fn calls_to(&self, path: &str) -> Vec<ApiCall> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.path == path)
            .cloned()
            .collect()
    }

    /// Records the message; fails it when the test asked so.
    fn sent<M: Serialize>(&self, to: &Peer, path: &str, msg: &M) -> Result<()> {
        self.calls.lock().unwrap().push(ApiCall {
            base: to.base.clone(),
            path: path.into(),
            body: serde_json::to_value(msg).unwrap_or(Value::Null),
        });
        if self.fail_path.lock().unwrap().as_deref() == Some(path) {
            return Err(Error::new(
                Code::NodeRemote,
                format!("{path}: injected failure"),
            ));
        }
        Ok(())
    }

    fn node(&self, to: &Peer) -> Result<FakeNodeHost> {
        self.nodes
            .lock()
            .unwrap()
            .get(&to.base)
            .cloned()
            .ok_or_else(|| {
                Error::new(
                    Code::NodeUnreachable,
                    format!("{}: no fake node there", to.base),
                )
            })
    }
}

impl NodeClient for FakeNodeClient {
    fn stream<'a>(&'a self, to: &'a Peer, vm: Uuid, p: Protocol) -> BoxFuture<'a, Result<Stream>> {
        Box::pin(async move {
            let msg = serde_json::json!({"vm": vm, "protocol": p.as_str()});
            self.sent(to, "CONNECT", &msg)?;
            self.node(to)?
                .hypervisor
                .graphics_connect(vm, p)
                .await?
                .ok_or_else(|| {
                    Error::new(
                        Code::NodeRemote,
                        format!("CONNECT: VM {vm} is not running here (code 403, HTTP 403)"),
                    )
                })
        })
    }

    fn vm<'a>(&'a self, to: &'a Peer, call: VmCall) -> BoxFuture<'a, Result<VmReply>> {
        Box::pin(async move {
            self.sent(to, paths::VM, &call)?;
            serve_vm(self.node(to)?.hypervisor.as_ref(), call).await
        })
    }

    fn disk<'a>(&'a self, to: &'a Peer, call: DiskCall) -> BoxFuture<'a, Result<DiskReply>> {
        Box::pin(async move {
            self.sent(to, paths::DISK, &call)?;
            serve_disk(self.node(to)?.disks.as_ref(), call).await
        })
    }

    fn pull<'a>(&'a self, to: &'a Peer, req: PullReq) -> BoxFuture<'a, Result<PullStatus>> {
        Box::pin(async move {
            self.sent(to, paths::PULL, &req)?;
            let n = self.node(to)?;
            let src = self.source.lock().unwrap().clone();
            let copied = src
                .map(|s| n.disks.copy_from(&s, &req.path))
                .unwrap_or(false);
            let got = if copied {
                n.disks.md5(&req.path).await?
            } else {
                String::new()
            };
            Ok(if copied && got == req.md5 {
                PullStatus {
                    end: PullEnd::Done,
                    done: 1,
                    total: 1,
                }
            } else {
                let _ = n.disks.remove(&req.path).await;
                PullStatus {
                    end: PullEnd::Failed(format!(
                        "md5 of {} is `{got}`, expected `{}`",
                        req.path.display(),
                        req.md5
                    )),
                    done: 0,
                    total: 0,
                }
            })
        })
    }

    fn network<'a>(
        &'a self,
        to: &'a Peer,
        want: NetworkPush,
    ) -> BoxFuture<'a, Result<NetworkApplied>> {
        Box::pin(async move {
            self.sent(to, paths::NETWORK, &want)?;
            let v = serde_json::to_value(&want).map_err(Error::internal)?;
            self.networks.lock().unwrap().insert(to.base.clone(), v);
            Ok(NetworkApplied { steps: 0 })
        })
    }

    fn power<'a>(&'a self, to: &'a Peer, op: NodePowerOp) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.sent(
                to,
                paths::POWER,
                &crate::domain::cluster::NodePowerReq { op },
            )
        })
    }

    fn register<'a>(&'a self, to: &'a Peer, r: Register) -> BoxFuture<'a, Result<Registered>> {
        Box::pin(async move {
            self.sent(to, paths::REGISTER, &r)?;
            Ok(Registered {
                node_uuid: r.node_uuid,
            })
        })
    }

    fn heartbeat<'a>(&'a self, to: &'a Peer, node: Uuid) -> BoxFuture<'a, Result<NetworkPush>> {
        Box::pin(async move {
            self.sent(
                to,
                paths::HEARTBEAT,
                &crate::domain::cluster::Heartbeat { node_uuid: node },
            )?;
            Ok(NetworkPush::default())
        })
    }

    fn report<'a>(&'a self, to: &'a Peer, r: Report) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let body = crate::domain::cluster::report_wire(&r.node, &r.name, &r.sample);
            self.sent(to, paths::REPORT, &body)
        })
    }
}
