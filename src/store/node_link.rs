//! How the controller reaches each joined node (pinned host key, SSH user,
//! internal API address and token), one record per node.

use bincode::{Decode, Encode};
use sled::Transactional;
use uuid::Uuid;

use super::node::{remove_parts_in_tx, NodeRows};
use super::{codec, txn, Store, Table};
use crate::domain::node::{Nic, Node, NodeLink};
use crate::domain::storage::Storage;
use crate::error::{Code, Error, Result};

const V1: u16 = 1;

#[derive(Encode, Decode, Clone, Debug, PartialEq)]
struct NodeLinkV1 {
    node: [u8; 16],
    host_key: String,
    ssh_user: String,
    ssh_port: u16,
    api: String,
    control_token: String,
    version: String,
    joined_at: i64,
}

impl From<&NodeLink> for NodeLinkV1 {
    fn from(l: &NodeLink) -> Self {
        NodeLinkV1 {
            node: *l.node.as_bytes(),
            host_key: l.host_key.clone(),
            ssh_user: l.ssh_user.clone(),
            ssh_port: l.ssh_port,
            api: l.api.clone(),
            control_token: l.control_token.clone(),
            version: l.version.clone(),
            joined_at: l.joined_at,
        }
    }
}

impl From<NodeLinkV1> for NodeLink {
    fn from(r: NodeLinkV1) -> Self {
        NodeLink {
            node: Uuid::from_bytes(r.node),
            host_key: r.host_key,
            ssh_user: r.ssh_user,
            ssh_port: r.ssh_port,
            api: r.api,
            control_token: r.control_token,
            version: r.version,
            joined_at: r.joined_at,
        }
    }
}

impl Store {
    pub fn node_link_get(&self, node: &Uuid) -> Result<Option<NodeLink>> {
        self.node_links
            .get(node.as_bytes())
            .map_err(Error::store)?
            .map(|v| codec::decode::<NodeLinkV1>(V1, &v).map(NodeLink::from))
            .transpose()
    }

    pub fn node_link_put(&self, l: &NodeLink) -> Result<()> {
        self.node_links
            .insert(l.node.as_bytes(), codec::encode(V1, &NodeLinkV1::from(l)))
            .map_err(Error::store)?;
        self.bump(Table::Node);
        Ok(())
    }

    pub fn node_link_delete(&self, node: &Uuid) -> Result<()> {
        self.node_links
            .remove(node.as_bytes())
            .map_err(Error::store)?;
        self.bump(Table::Node);
        Ok(())
    }

    /// Writes a joined node, its NICs, its storages and its link in one
    /// transaction, counting it as a user of its pool; refuses an address
    /// that another node has.
    pub fn node_join_commit(
        &self,
        node: &Node,
        nics: &[Nic],
        storages: &[Storage],
        link: &NodeLink,
    ) -> Result<()> {
        let others = self.node_list()?;
        if let Some(o) = others
            .iter()
            .find(|o| o.ip == node.ip || o.uuid == node.uuid)
        {
            return Err(Error::new(
                Code::NodeAlreadyJoined,
                format!(
                    "{} is already node `{}` of this controller",
                    node.ip, o.name
                ),
            ));
        }
        let rows = NodeRows::new(node, nics, storages);
        let link_bytes = codec::encode(V1, &NodeLinkV1::from(link));
        txn((
            &self.nodes,
            &self.nics,
            &self.storages,
            &self.refs,
            &self.node_links,
        )
            .transaction(|(nodes, nic_t, st, refs, links)| {
                rows.insert(nodes, nic_t, st, refs)?;
                links.insert(node.uuid.as_bytes(), link_bytes.as_slice())?;
                Ok(())
            }))?;
        self.bump(Table::Node);
        self.bump(Table::Refs);
        Ok(())
    }

    /// Removes a compute node with its NICs, storages, link and credential
    /// (the undo of a join, and `node/delete`). Its desktops and templates
    /// must be gone already.
    pub fn node_remove(&self, node: &Node) -> Result<()> {
        let nics: Vec<Uuid> = self
            .nic_list()?
            .into_iter()
            .filter(|n| n.node == node.uuid)
            .map(|n| n.uuid)
            .collect();
        let storages: Vec<Uuid> = self
            .storage_list()?
            .into_iter()
            .filter(|s| s.node == node.uuid)
            .map(|s| s.uuid)
            .collect();
        txn((
            &self.nodes,
            &self.nics,
            &self.storages,
            &self.refs,
            &self.node_links,
            &self.node_credentials,
        )
            .transaction(|(nodes, nic_t, st, refs, links, creds)| {
                if nodes.remove(node.uuid.as_bytes())?.is_none() {
                    return Ok(());
                }
                links.remove(node.uuid.as_bytes())?;
                creds.remove(node.uuid.as_bytes())?;
                remove_parts_in_tx(nic_t, st, refs, &nics, &storages, node.pool)
            }))?;
        self.bump(Table::Node);
        self.bump(Table::Refs);
        Ok(())
    }

    /// The credential hash of a node goes with it.
    pub fn node_credential_delete(&self, node: &Uuid) -> Result<()> {
        self.node_credentials
            .remove(node.as_bytes())
            .map_err(Error::store)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_round_trip_and_go() {
        let s = Store::temporary().unwrap();
        let l = NodeLink {
            node: Uuid::new_v4(),
            host_key: "SHA256:abc".into(),
            ssh_user: "root".into(),
            ssh_port: 22,
            api: "http://10.213.1.2:5000".into(),
            control_token: "t".into(),
            version: "0.1.0".into(),
            joined_at: 5,
        };
        assert_eq!(s.node_link_get(&l.node).unwrap(), None);
        s.node_link_put(&l).unwrap();
        assert_eq!(s.node_link_get(&l.node).unwrap(), Some(l.clone()));
        s.node_link_delete(&l.node).unwrap();
        assert_eq!(s.node_link_get(&l.node).unwrap(), None);
    }
}

/// On a compute node: the bridges its controller last asked for, kept so
/// the node's own reconciler rebuilds them after a reboot.
const PUSHED_NET: &[u8] = b"pushed_bridges";

#[derive(Encode, Decode, Clone, Debug, PartialEq)]
struct PushedBridgeV1 {
    bridge: String,
    port: String,
    vlan: Option<(String, u16)>,
}

impl Store {
    pub fn pushed_bridges(&self) -> Result<Vec<crate::domain::netplan::WantBridge>> {
        let Some(v) = self.meta.get(PUSHED_NET).map_err(Error::store)? else {
            return Ok(Vec::new());
        };
        let list: Vec<PushedBridgeV1> = codec::decode(V1, &v)?;
        Ok(list
            .into_iter()
            .map(|b| crate::domain::netplan::WantBridge {
                bridge: b.bridge,
                port: b.port,
                vlan: b.vlan,
            })
            .collect())
    }

    pub fn pushed_bridges_put(&self, list: &[crate::domain::netplan::WantBridge]) -> Result<()> {
        let rec: Vec<PushedBridgeV1> = list
            .iter()
            .map(|b| PushedBridgeV1 {
                bridge: b.bridge.clone(),
                port: b.port.clone(),
                vlan: b.vlan.clone(),
            })
            .collect();
        self.meta
            .insert(PUSHED_NET, codec::encode(V1, &rec))
            .map_err(Error::store)?;
        Ok(())
    }
}
