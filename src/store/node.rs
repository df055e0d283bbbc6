//! Nodes (role, pool, interfaces, inventory) and their NICs.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};
use sled::transaction::TransactionalTree;
use uuid::Uuid;

use super::codec;
use super::{Store, Table};
use crate::domain::net::IfAddr;
use crate::domain::node::{Nic, Node, NodeRole};
use crate::error::{Code, Error, Result};

const V1: u16 = 1;
/// Nodes gained their role, pool, interfaces and inventory in version 2.
const NODE_V2: u16 = 2;

/// The first node layout (before controller initialisation existed).
#[derive(Encode, Decode, Clone, Debug, PartialEq)]
struct NodeV1 {
    uuid: [u8; 16],
    name: String,
    ip: String,
    created_at: i64,
}

#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct NodeV2 {
    #[serde(with = "super::export::uuid_text")]
    pub uuid: [u8; 16],
    pub name: String,
    pub ip: String,
    /// 1 controller, 2 controller+compute, 3 compute.
    #[serde(default = "compute_role")]
    pub role: u8,
    #[serde(default, with = "super::export::opt_uuid_text")]
    pub pool: Option<[u8; 16]>,
    #[serde(default)]
    pub manage_interface: String,
    #[serde(default)]
    pub image_interface: String,
    #[serde(default)]
    pub data_interface: String,
    /// The hardware inventory as JSON: descriptive facts that grow often
    /// are kept out of the positional layout.
    #[serde(default)]
    pub inventory: String,
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: i64,
}

fn compute_role() -> u8 {
    3
}

impl From<NodeV1> for NodeV2 {
    fn from(n: NodeV1) -> Self {
        NodeV2 {
            uuid: n.uuid,
            name: n.name,
            ip: n.ip,
            role: compute_role(),
            pool: None,
            manage_interface: String::new(),
            image_interface: String::new(),
            data_interface: String::new(),
            inventory: String::new(),
            created_at: n.created_at,
            updated_at: n.created_at,
        }
    }
}

#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(crate) struct NicV1 {
    #[serde(with = "super::export::uuid_text")]
    pub uuid: [u8; 16],
    #[serde(with = "super::export::uuid_text")]
    pub node: [u8; 16],
    pub name: String,
    pub mac: String,
    /// (address, prefix) pairs.
    pub addrs: Vec<(u32, u8)>,
    pub gateway: Option<u32>,
    pub manage_ips: Vec<u32>,
    pub image_ips: Vec<u32>,
    pub dns: Vec<u32>,
    pub created_at: i64,
}

impl From<&Node> for NodeV2 {
    fn from(n: &Node) -> Self {
        NodeV2 {
            uuid: *n.uuid.as_bytes(),
            name: n.name.clone(),
            ip: n.ip.clone(),
            role: match n.role {
                NodeRole::Controller => 1,
                NodeRole::ControllerCompute => 2,
                NodeRole::Compute => 3,
            },
            pool: n.pool.map(|p| *p.as_bytes()),
            manage_interface: n.manage_interface.clone(),
            image_interface: n.image_interface.clone(),
            data_interface: n.data_interface.clone(),
            inventory: serde_json::to_string(&n.inventory).unwrap_or_default(),
            created_at: n.created_at,
            updated_at: n.updated_at,
        }
    }
}

impl From<NodeV2> for Node {
    fn from(n: NodeV2) -> Self {
        Node {
            uuid: Uuid::from_bytes(n.uuid),
            name: n.name,
            ip: n.ip,
            role: match n.role {
                1 => NodeRole::Controller,
                2 => NodeRole::ControllerCompute,
                _ => NodeRole::Compute,
            },
            pool: n.pool.map(Uuid::from_bytes),
            manage_interface: n.manage_interface,
            image_interface: n.image_interface,
            data_interface: n.data_interface,
            // An unreadable inventory is re-read from the host; not fatal.
            inventory: serde_json::from_str(&n.inventory).unwrap_or_default(),
            created_at: n.created_at,
            updated_at: n.updated_at,
        }
    }
}

impl From<&Nic> for NicV1 {
    fn from(n: &Nic) -> Self {
        NicV1 {
            uuid: *n.uuid.as_bytes(),
            node: *n.node.as_bytes(),
            name: n.name.clone(),
            mac: n.mac.clone(),
            addrs: n
                .addrs
                .iter()
                .map(|a| (u32::from(a.ip), a.prefix))
                .collect(),
            gateway: n.gateway.map(u32::from),
            manage_ips: n.manage_ips.iter().map(|i| u32::from(*i)).collect(),
            image_ips: n.image_ips.iter().map(|i| u32::from(*i)).collect(),
            dns: n.dns.iter().map(|i| u32::from(*i)).collect(),
            created_at: n.created_at,
        }
    }
}

impl From<NicV1> for Nic {
    fn from(n: NicV1) -> Self {
        Nic {
            uuid: Uuid::from_bytes(n.uuid),
            node: Uuid::from_bytes(n.node),
            name: n.name,
            mac: n.mac,
            addrs: n
                .addrs
                .into_iter()
                .map(|(ip, prefix)| IfAddr {
                    ip: ip.into(),
                    prefix,
                })
                .collect(),
            gateway: n.gateway.map(Into::into),
            manage_ips: n.manage_ips.into_iter().map(Into::into).collect(),
            image_ips: n.image_ips.into_iter().map(Into::into).collect(),
            dns: n.dns.into_iter().map(Into::into).collect(),
            created_at: n.created_at,
        }
    }
}

type TxResult = std::result::Result<(), sled::transaction::ConflictableTransactionError<Error>>;

/// A node with its NICs and storage records, encoded for one transaction
/// (the controller's initialisation, a node's join, and their undo).
pub(super) struct NodeRows {
    uuid: [u8; 16],
    node: Vec<u8>,
    nics: Vec<([u8; 16], Vec<u8>)>,
    storages: Vec<([u8; 16], Vec<u8>)>,
    pool: Option<[u8; 16]>,
}

impl NodeRows {
    pub(super) fn new(
        node: &Node,
        nics: &[Nic],
        storages: &[crate::domain::storage::Storage],
    ) -> NodeRows {
        NodeRows {
            uuid: *node.uuid.as_bytes(),
            node: codec::encode(NODE_V2, &NodeV2::from(node)),
            nics: nics
                .iter()
                .map(|n| (*n.uuid.as_bytes(), codec::encode(V1, &NicV1::from(n))))
                .collect(),
            storages: storages
                .iter()
                .map(|s| (*s.uuid.as_bytes(), super::storage::encode(s)))
                .collect(),
            pool: node.pool.map(|p| *p.as_bytes()),
        }
    }

    /// Writes the node, its NICs and storages, counting it as a user of
    /// its pool.
    pub(super) fn insert(
        &self,
        nodes: &TransactionalTree,
        nic_t: &TransactionalTree,
        st: &TransactionalTree,
        refs: &TransactionalTree,
    ) -> TxResult {
        nodes.insert(&self.uuid, self.node.as_slice())?;
        for (k, v) in &self.nics {
            nic_t.insert(k, v.as_slice())?;
        }
        for (k, v) in &self.storages {
            st.insert(k, v.as_slice())?;
        }
        if let Some(p) = &self.pool {
            super::refs::adjust_in_tx(refs, p, super::refs::RefKind::Node, 1)?;
        }
        Ok(())
    }
}

/// Removes the NICs and storages named and a node's use of `pool` (the
/// caller removes the node itself).
pub(super) fn remove_parts_in_tx(
    nic_t: &TransactionalTree,
    st: &TransactionalTree,
    refs: &TransactionalTree,
    nics: &[Uuid],
    storages: &[Uuid],
    pool: Option<Uuid>,
) -> TxResult {
    for n in nics {
        nic_t.remove(n.as_bytes())?;
    }
    for s in storages {
        st.remove(s.as_bytes())?;
    }
    if let Some(p) = pool {
        super::refs::adjust_in_tx(refs, p.as_bytes(), super::refs::RefKind::Node, -1)?;
    }
    Ok(())
}

pub(super) fn decode_nic(bytes: &[u8]) -> Result<NicV1> {
    codec::decode(V1, bytes)
}

/// Reads either node layout; version 1 records read as compute nodes.
pub(super) fn decode_node(bytes: &[u8]) -> Result<NodeV2> {
    let (v, body) = codec::version(bytes)?;
    match v {
        V1 => Ok(codec::body::<NodeV1>(body)?.into()),
        NODE_V2 => codec::body(body),
        other => Err(Error::store(format!(
            "node record version {other} is newer than this build"
        ))),
    }
}

use super::controller::LOCAL_NODE;

impl Store {
    /// The node this service runs on, once it is known (controller init or
    /// joining sets it).
    pub fn local_node(&self) -> Result<Option<Uuid>> {
        Ok(self
            .meta
            .get(LOCAL_NODE)
            .map_err(Error::store)?
            .and_then(|v| <[u8; 16]>::try_from(v.as_ref()).ok())
            .map(Uuid::from_bytes))
    }

    pub fn local_node_set(&self, uuid: &Uuid) -> Result<()> {
        self.meta
            .insert(LOCAL_NODE, uuid.as_bytes())
            .map_err(Error::store)?;
        self.bump(Table::Node);
        Ok(())
    }

    pub fn node_put(&self, n: &Node) -> Result<()> {
        self.nodes
            .insert(n.uuid.as_bytes(), codec::encode(NODE_V2, &NodeV2::from(n)))
            .map_err(Error::store)?;
        self.bump(Table::Node);
        Ok(())
    }

    pub fn node_get(&self, uuid: &Uuid) -> Result<Node> {
        let v = self
            .nodes
            .get(uuid.as_bytes())
            .map_err(Error::store)?
            .ok_or_else(|| Error::new(Code::NodeNotFound, format!("Node {uuid} does not exist")))?;
        Ok(decode_node(&v)?.into())
    }

    pub fn node_list(&self) -> Result<Vec<Node>> {
        self.nodes
            .iter()
            .values()
            .map(|v| Ok(decode_node(&v.map_err(Error::store)?)?.into()))
            .collect()
    }

    pub fn nic_put(&self, n: &Nic) -> Result<()> {
        self.nics
            .insert(n.uuid.as_bytes(), codec::encode(V1, &NicV1::from(n)))
            .map_err(Error::store)?;
        self.bump(Table::Node);
        Ok(())
    }

    pub fn nic_get(&self, uuid: &Uuid) -> Result<Nic> {
        let v = self
            .nics
            .get(uuid.as_bytes())
            .map_err(Error::store)?
            .ok_or_else(|| Error::new(Code::NicNotFound, format!("NIC {uuid} does not exist")))?;
        Ok(decode_nic(&v)?.into())
    }

    pub fn nic_list(&self) -> Result<Vec<Nic>> {
        self.nics
            .iter()
            .values()
            .map(|v| Ok(decode_nic(&v.map_err(Error::store)?)?.into()))
            .collect()
    }

    pub(super) fn node_export(&self) -> Result<(Vec<NodeV2>, Vec<NicV1>)> {
        let nodes = self
            .nodes
            .iter()
            .values()
            .map(|v| decode_node(&v.map_err(Error::store)?))
            .collect::<Result<_>>()?;
        let nics = self
            .nics
            .iter()
            .values()
            .map(|v| decode_nic(&v.map_err(Error::store)?))
            .collect::<Result<_>>()?;
        Ok((nodes, nics))
    }

    pub(super) fn node_import(&self, nodes: &[NodeV2], nics: &[NicV1]) -> Result<()> {
        for n in nodes {
            self.node_put(&Node::from(n.clone()))?;
        }
        for n in nics {
            self.nic_put(&Nic::from(n.clone()))?;
        }
        Ok(())
    }
}
