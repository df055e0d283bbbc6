//! The controller's initialisation: its record and the one transaction
//! that writes (or takes back) the node, its NICs and storage records, the
//! local-node pointer and the record together.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};
use sled::transaction::ConflictableTransactionError;
use sled::Transactional;
use uuid::Uuid;

use super::node::{remove_parts_in_tx, NodeRows};
use super::{codec, txn, Store, Table};
use crate::domain::controller::ControllerRecord;
use crate::domain::node::{Nic, Node};
use crate::domain::storage::Storage;
use crate::error::{Code, Error, Result};

const V1: u16 = 1;
const CONTROLLER: &[u8] = b"controller";
pub(super) const LOCAL_NODE: &[u8] = b"local_node";

#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct ControllerV1 {
    #[serde(with = "super::export::uuid_text")]
    pub node: [u8; 16],
    #[serde(with = "super::export::uuid_text")]
    pub vswitch: [u8; 16],
    #[serde(with = "super::export::uuid_text")]
    pub network: [u8; 16],
    pub answers: String,
    pub initialised_at: i64,
}

impl From<ControllerV1> for ControllerRecord {
    fn from(c: ControllerV1) -> Self {
        ControllerRecord {
            node: Uuid::from_bytes(c.node),
            vswitch: Uuid::from_bytes(c.vswitch),
            network: Uuid::from_bytes(c.network),
            answers: c.answers,
            initialised_at: c.initialised_at,
        }
    }
}

type Abort = ConflictableTransactionError<Error>;

trait IntoError {
    fn into_error(self) -> Error;
}

impl IntoError for Abort {
    fn into_error(self) -> Error {
        match self {
            Abort::Abort(e) => e,
            other => Error::store(format!("{other:?}")),
        }
    }
}

fn exists(node: &[u8]) -> Abort {
    let uuid = <[u8; 16]>::try_from(node)
        .map(Uuid::from_bytes)
        .map(|u| u.to_string())
        .unwrap_or_default();
    Abort::Abort(Error::new(
        Code::ControllerExists,
        format!("The controller is already initialised (node {uuid})"),
    ))
}

impl Store {
    pub fn controller(&self) -> Result<Option<ControllerRecord>> {
        self.meta
            .get(CONTROLLER)
            .map_err(Error::store)?
            .map(|v| Ok(codec::decode::<ControllerV1>(V1, &v)?.into()))
            .transpose()
    }

    /// Writes this node (the controller), its NICs and storage records and
    /// the local-node pointer in one transaction, counting the node as a
    /// user of its pool; refuses when this server already is a node.
    pub fn controller_node_commit(
        &self,
        node: &Node,
        nics: &[Nic],
        storages: &[Storage],
    ) -> Result<()> {
        let rows = NodeRows::new(node, nics, storages);
        txn((
            &self.meta,
            &self.nodes,
            &self.nics,
            &self.storages,
            &self.refs,
        )
            .transaction(|(meta, nodes, nic_t, st, refs)| {
                if let Some(old) = meta.get(CONTROLLER)? {
                    let c: ControllerV1 = codec::decode(V1, &old).map_err(Abort::Abort)?;
                    return Err(exists(&c.node));
                }
                if let Some(old) = meta.get(LOCAL_NODE)? {
                    return Err(exists(&old));
                }
                meta.insert(LOCAL_NODE, node.uuid.as_bytes())?;
                rows.insert(nodes, nic_t, st, refs)
            }))?;
        self.bump(Table::Node);
        self.bump(Table::Refs);
        Ok(())
    }

    /// Takes back exactly what `controller_node_commit` wrote (an undo).
    pub fn controller_node_uncommit(
        &self,
        node: &Node,
        nics: &[Uuid],
        storages: &[Uuid],
    ) -> Result<()> {
        txn((
            &self.meta,
            &self.nodes,
            &self.nics,
            &self.storages,
            &self.refs,
        )
            .transaction(|(meta, nodes, nic_t, st, refs)| {
                meta.remove(LOCAL_NODE)?;
                nodes.remove(node.uuid.as_bytes())?;
                remove_parts_in_tx(nic_t, st, refs, nics, storages, node.pool)
            }))?;
        self.bump(Table::Node);
        self.bump(Table::Refs);
        Ok(())
    }

    /// Records that the controller is initialised: the last step of
    /// initialisation. Refuses a second record.
    pub fn controller_mark(&self, rec: &ControllerRecord) -> Result<()> {
        let bytes = codec::encode(
            V1,
            &ControllerV1 {
                node: *rec.node.as_bytes(),
                vswitch: *rec.vswitch.as_bytes(),
                network: *rec.network.as_bytes(),
                answers: rec.answers.clone(),
                initialised_at: rec.initialised_at,
            },
        );
        let r = self
            .meta
            .compare_and_swap(CONTROLLER, None as Option<&[u8]>, Some(bytes))
            .map_err(Error::store)?;
        if let Err(cas) = r {
            let node = cas
                .current
                .and_then(|c| codec::decode::<ControllerV1>(V1, &c).ok())
                .map(|c| c.node)
                .unwrap_or_default();
            return Err(exists(&node).into_error());
        }
        self.bump(Table::Node);
        Ok(())
    }

    /// Takes back the record (an undo, when what follows the mark fails).
    pub fn controller_unmark(&self) -> Result<()> {
        self.meta.remove(CONTROLLER).map_err(Error::store)?;
        self.bump(Table::Node);
        Ok(())
    }

    pub(super) fn controller_export(&self) -> Result<Option<ControllerV1>> {
        self.meta
            .get(CONTROLLER)
            .map_err(Error::store)?
            .map(|v| codec::decode(V1, &v))
            .transpose()
    }

    /// Restores the record and the local-node pointer of an export.
    pub(super) fn controller_import(&self, c: &ControllerV1) -> Result<()> {
        self.meta
            .insert(CONTROLLER, codec::encode(V1, c))
            .map_err(Error::store)?;
        self.meta
            .insert(LOCAL_NODE, &c.node)
            .map_err(Error::store)?;
        self.bump(Table::Node);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::node::NodeRole;
    use crate::domain::storage::Roles;
    use crate::store::RefKind;

    #[test]
    fn commit_once_and_uncommit_exactly() {
        let s = Store::temporary().unwrap();
        let pool = Uuid::new_v4();
        let mut node = Node::bare(Uuid::new_v4(), "ctl", "192.0.2.2", 1);
        node.role = NodeRole::ControllerCompute;
        node.pool = Some(pool);
        let nic = Nic::bare(Uuid::new_v4(), node.uuid, "eth0", 1);
        let st = Storage {
            uuid: Uuid::new_v4(),
            node: node.uuid,
            mount: "/opt/slow".into(),
            root: "/opt/slow".into(),
            roles: Roles::parse("s", "1,2,3,4").unwrap(),
            device: "/dev/sdb1".into(),
            fs: "ext4".into(),
            rotational: Some(true),
            total_bytes: 1 << 40,
            created_at: 1,
        };
        let rec = ControllerRecord {
            node: node.uuid,
            vswitch: Uuid::new_v4(),
            network: Uuid::new_v4(),
            answers: "{}".into(),
            initialised_at: 1,
        };
        s.controller_node_commit(&node, std::slice::from_ref(&nic), std::slice::from_ref(&st))
            .unwrap();
        assert_eq!(s.local_node().unwrap(), Some(node.uuid));
        assert_eq!(s.node_get(&node.uuid).unwrap(), node);
        assert_eq!(s.storage_list().unwrap(), vec![st.clone()]);
        assert_eq!(s.ref_counts(&pool).unwrap(), vec![(RefKind::Node, 1)]);
        // This server is a node now: a second commit is refused.
        let e = s
            .controller_node_commit(&node, std::slice::from_ref(&nic), std::slice::from_ref(&st))
            .unwrap_err();
        assert_eq!(e.code, Code::ControllerExists);
        s.controller_node_uncommit(&node, &[nic.uuid], &[st.uuid])
            .unwrap();
        assert_eq!(s.local_node().unwrap(), None);
        assert!(s.node_list().unwrap().is_empty());
        assert!(s.nic_list().unwrap().is_empty());
        assert!(s.storage_list().unwrap().is_empty());
        assert!(s.ref_counts(&pool).unwrap().is_empty());

        s.controller_mark(&rec).unwrap();
        assert_eq!(s.controller().unwrap(), Some(rec.clone()));
        assert_eq!(
            s.controller_mark(&rec).unwrap_err().code,
            Code::ControllerExists
        );
    }
}
