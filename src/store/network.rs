//! Data networks: a network is listed on its switch and its subnets on the
//! network, so every rule (one network per flat switch, unique VLAN per
//! switch, no delete while addresses are allocated) is checked inside one
//! transaction; plus the snapshot and export of all network tables.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};
use sled::transaction::{abort, TransactionalTree};
use sled::Transactional;
use uuid::Uuid;

use super::refs;
use super::subnet::{allocs, AllocV1, SubnetV1};
use super::vswitch::{self, tx, Tx};
use super::{codec, txn, Store, Table};
use crate::domain::clock::Millis;
use crate::domain::network::{Network, Subnet};
use crate::domain::text::fold;
use crate::error::{Code, Error, Result};

pub(super) const V1: u16 = 1;

#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct NetworkV1 {
    #[serde(with = "super::export::uuid_text")]
    pub uuid: [u8; 16],
    pub seq: u64,
    pub name: String,
    #[serde(with = "super::export::uuid_text")]
    pub switch: [u8; 16],
    pub vlan_id: Option<u16>,
    pub subnets: Vec<[u8; 16]>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl NetworkV1 {
    fn into_domain(self) -> Network {
        Network {
            uuid: Uuid::from_bytes(self.uuid),
            seq: self.seq,
            name: self.name,
            switch: Uuid::from_bytes(self.switch),
            vlan_id: self.vlan_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

fn net_not_found(uuid: &Uuid) -> Error {
    Error::new(
        Code::NetworkNotFound,
        format!("Network {uuid} does not exist"),
    )
}

pub(super) fn dec<T: bincode::Decode<()>>(bytes: &[u8]) -> Tx<T> {
    tx(codec::decode(V1, bytes))
}

pub(super) fn get_net(t: &TransactionalTree, uuid: &Uuid) -> Tx<NetworkV1> {
    match t.get(uuid.as_bytes())? {
        Some(v) => dec(&v),
        None => abort(net_not_found(uuid)),
    }
}

impl Store {
    pub fn network_get(&self, uuid: &Uuid) -> Result<Network> {
        let v = self
            .networks
            .get(uuid.as_bytes())
            .map_err(Error::store)?
            .ok_or_else(|| net_not_found(uuid))?;
        Ok(codec::decode::<NetworkV1>(V1, &v)?.into_domain())
    }

    pub fn network_list(&self) -> Result<Vec<Network>> {
        let mut v: Vec<Network> = self
            .networks
            .iter()
            .values()
            .map(|v| Ok(codec::decode::<NetworkV1>(V1, &v.map_err(Error::store)?)?.into_domain()))
            .collect::<Result<_>>()?;
        v.sort_by_key(|n| n.seq);
        Ok(v)
    }

    /// Creates a network (and its first subnet) on a switch: VLAN id exactly
    /// for VLAN switches and unique there, one network per flat switch.
    /// Whether a network has this name (compared case-folded, as inserts do).
    pub fn network_name_taken(&self, name: &str) -> Result<bool> {
        self.network_names
            .contains_key(fold(name).as_bytes())
            .map_err(Error::store)
    }

    pub fn network_insert(&self, n: &Network, first: Option<&Subnet>) -> Result<Network> {
        let seq = self.next_id()?;
        let sub_seq = self.next_id()?;
        let key = *n.uuid.as_bytes();
        let nk = fold(&n.name).into_bytes();
        let rec = txn((&self.networks, &self.network_names, &self.vswitches, &self.subnets).transaction(
            |(nets, names, sws, subnets)| {
                if names.get(&nk)?.is_some() {
                    return abort(Error::new(Code::NetworkNameExists, format!("Network `{}` already exists", n.name)));
                }
                let Some(swv) = sws.get(n.switch.as_bytes())? else {
                    return abort(vswitch::not_found(&n.switch));
                };
                let mut sw = tx(vswitch::decode(&swv))?;
                match (sw.kind, n.vlan_id) {
                    (1, None) => {
                        return abort(Error::new(
                            Code::VlanConflict,
                            format!("Field `vlan_id`: virtual switch `{}` is a VLAN switch; give a VLAN id from 1 to 4094", sw.name),
                        ))
                    }
                    (0, Some(_)) => {
                        return abort(Error::new(
                            Code::VlanConflict,
                            format!("Field `vlan_id`: virtual switch `{}` is flat; it takes no VLAN id", sw.name),
                        ))
                    }
                    (0, None) if !sw.networks.is_empty() => {
                        return abort(Error::new(
                            Code::FlatSwitchTaken,
                            format!("Flat virtual switch `{}` already carries a network", sw.name),
                        ))
                    }
                    _ => {}
                }
                if let Some(vid) = n.vlan_id {
                    for other in &sw.networks {
                        if let Some(v) = nets.get(other)? {
                            let o: NetworkV1 = dec(&v)?;
                            if o.vlan_id == Some(vid) {
                                return abort(Error::new(
                                    Code::VlanConflict,
                                    format!("Field `vlan_id`: VLAN {vid} is used by network `{}` on this switch", o.name),
                                ));
                            }
                        }
                    }
                }
                let mut rec = NetworkV1 {
                    uuid: key,
                    seq,
                    name: n.name.clone(),
                    switch: *n.switch.as_bytes(),
                    vlan_id: n.vlan_id,
                    subnets: Vec::new(),
                    created_at: n.created_at,
                    updated_at: n.updated_at,
                };
                if let Some(s) = first {
                    let mut srec = SubnetV1::from_domain(s);
                    srec.seq = sub_seq;
                    srec.network = key;
                    subnets.insert(&srec.uuid, codec::encode(V1, &srec))?;
                    rec.subnets.push(srec.uuid);
                }
                sw.networks.push(key);
                sws.insert(n.switch.as_bytes(), vswitch::encode(&sw))?;
                names.insert(nk.as_slice(), &key)?;
                nets.insert(&key, codec::encode(V1, &rec))?;
                Ok(rec)
            },
        ))?;
        self.bump(Table::Network);
        Ok(rec.into_domain())
    }

    pub fn network_rename(&self, uuid: &Uuid, name: &str, now: Millis) -> Result<Network> {
        let rec = txn(
            (&self.networks, &self.network_names).transaction(|(nets, names)| {
                let mut rec = get_net(nets, uuid)?;
                let (ok, nk) = (fold(&rec.name).into_bytes(), fold(name).into_bytes());
                if ok != nk {
                    if names.get(&nk)?.is_some() {
                        return abort(Error::new(
                            Code::NetworkNameExists,
                            format!("Network `{name}` already exists"),
                        ));
                    }
                    names.remove(ok)?;
                    names.insert(nk, uuid.as_bytes())?;
                }
                rec.name = name.to_string();
                rec.updated_at = now;
                nets.insert(uuid.as_bytes(), codec::encode(V1, &rec))?;
                Ok(rec)
            }),
        )?;
        self.bump(Table::Network);
        Ok(rec.into_domain())
    }

    /// Deletes a network with its subnets; refused while templates or
    /// desktops use it or addresses of its subnets are allocated.
    pub fn network_delete(&self, uuid: &Uuid) -> Result<Network> {
        let key = *uuid.as_bytes();
        let rec = txn((
            &self.networks,
            &self.network_names,
            &self.vswitches,
            &self.subnets,
            &self.ip_allocs,
            &self.refs,
        )
            .transaction(|(nets, names, sws, subnets, ips, refs_t)| {
                let rec = get_net(nets, uuid)?;
                let users = refs::count_in_tx(refs_t, &key)?;
                if !users.is_empty() {
                    let what: Vec<String> = users
                        .iter()
                        .map(|(k, n)| format!("{n} {}", k.plural()))
                        .collect();
                    return abort(Error::new(
                        Code::NetworkInUse,
                        format!("Network `{}` is used by {}", rec.name, what.join(", ")),
                    ));
                }
                for s in &rec.subnets {
                    if !allocs(ips, s)?.ips.is_empty() {
                        return abort(Error::new(
                            Code::NetworkInUse,
                            format!(
                                "Network `{}` has allocated addresses; release them first",
                                rec.name
                            ),
                        ));
                    }
                }
                for s in &rec.subnets {
                    subnets.remove(s)?;
                    ips.remove(s)?;
                }
                if let Some(v) = sws.get(rec.switch)? {
                    let mut sw = tx(vswitch::decode(&v))?;
                    sw.networks.retain(|n| *n != key);
                    sws.insert(&rec.switch, vswitch::encode(&sw))?;
                }
                names.remove(fold(&rec.name).into_bytes())?;
                nets.remove(&key)?;
                Ok(rec)
            }))?;
        self.bump(Table::Network);
        Ok(rec.into_domain())
    }
}

/// The network tables, NICs and bonds at one moment (opaque outside the store).
pub struct NetworkSnapshot(
    NetworkDump,
    Vec<super::node::NicV1>,
    Vec<super::bond::BondV1>,
);

/// The network tables as exported: switches, networks, subnets, allocations.
#[derive(Serialize, Deserialize, Default)]
pub(super) struct NetworkDump {
    #[serde(default)]
    pub vswitches: Vec<vswitch::VSwitchV1>,
    #[serde(default)]
    pub networks: Vec<NetworkV1>,
    #[serde(default)]
    pub subnets: Vec<SubnetV1>,
    #[serde(default)]
    pub ip_allocations: Vec<SubnetAllocDump>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SubnetAllocDump {
    #[serde(with = "super::export::uuid_text")]
    pub subnet: [u8; 16],
    pub ips: Vec<(u32, String)>,
}

impl Store {
    pub(super) fn network_export(&self) -> Result<NetworkDump> {
        let all = |t: &sled::Tree| -> Result<Vec<sled::IVec>> {
            t.iter().values().map(|v| v.map_err(Error::store)).collect()
        };
        Ok(NetworkDump {
            vswitches: all(&self.vswitches)?
                .iter()
                .map(|v| vswitch::decode(v))
                .collect::<Result<_>>()?,
            networks: all(&self.networks)?
                .iter()
                .map(|v| codec::decode(V1, v))
                .collect::<Result<_>>()?,
            subnets: all(&self.subnets)?
                .iter()
                .map(|v| codec::decode(V1, v))
                .collect::<Result<_>>()?,
            ip_allocations: self
                .ip_allocs
                .iter()
                .map(|kv| {
                    let (k, v) = kv.map_err(Error::store)?;
                    let a: AllocV1 = codec::decode(V1, &v)?;
                    let subnet = k
                        .as_ref()
                        .try_into()
                        .map_err(|_| Error::store("bad allocation key"))?;
                    Ok(SubnetAllocDump { subnet, ips: a.ips })
                })
                .collect::<Result<_>>()?,
        })
    }

    /// A copy of every network table, to put back if a change cannot be
    /// applied to the host.
    pub fn network_snapshot(&self) -> Result<NetworkSnapshot> {
        Ok(NetworkSnapshot(
            self.network_export()?,
            self.node_export()?.1,
            self.bond_export()?,
        ))
    }

    /// Puts the network tables back as they were in `snap`.
    pub fn network_restore(&self, snap: &NetworkSnapshot) -> Result<()> {
        for t in [
            &self.vswitches,
            &self.vswitch_names,
            &self.networks,
            &self.network_names,
            &self.subnets,
            &self.ip_allocs,
            &self.nics,
            &self.bonds,
        ] {
            t.clear().map_err(Error::store)?;
        }
        self.node_import(&[], &snap.1)?;
        self.bond_import(&snap.2)?;
        self.network_import(&snap.0)
    }

    /// Writes exported network records as they are (they were consistent
    /// when exported), with their name indexes.
    pub(super) fn network_import(&self, d: &NetworkDump) -> Result<()> {
        let e = Error::store;
        for s in &d.vswitches {
            self.vswitch_names
                .insert(fold(&s.name).into_bytes(), &s.uuid)
                .map_err(e)?;
            self.vswitches
                .insert(s.uuid, vswitch::encode(s))
                .map_err(e)?;
        }
        for n in &d.networks {
            self.network_names
                .insert(fold(&n.name).into_bytes(), &n.uuid)
                .map_err(e)?;
            self.networks
                .insert(n.uuid, codec::encode(V1, n))
                .map_err(e)?;
        }
        for s in &d.subnets {
            self.subnets
                .insert(s.uuid, codec::encode(V1, s))
                .map_err(e)?;
        }
        for a in &d.ip_allocations {
            self.ip_allocs
                .insert(a.subnet, codec::encode(V1, &AllocV1 { ips: a.ips.clone() }))
                .map_err(e)?;
        }
        let max = d
            .vswitches
            .iter()
            .map(|s| s.seq)
            .chain(d.networks.iter().map(|n| n.seq))
            .chain(d.subnets.iter().map(|s| s.seq))
            .max();
        if let Some(m) = max {
            self.seq_at_least(m)?;
        }
        self.bump(Table::Network);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::network::{SubnetPatch, SubnetSpec, VSwitchPatch};
    use crate::domain::network::{SwitchType, Uplink, VSwitch};
    use crate::domain::node::{Nic, Node};
    use std::collections::BTreeSet;
    use std::net::Ipv4Addr;
    use std::sync::Arc;

    fn world(kind: SwitchType) -> (Store, VSwitch) {
        let s = Store::temporary().unwrap();
        let node = Node::bare(Uuid::new_v4(), "n1", "10.213.1.2", 0);
        let nic = Nic::bare(Uuid::new_v4(), node.uuid, "eth1", 0);
        s.node_put(&node).unwrap();
        s.nic_put(&nic).unwrap();
        let sw = VSwitch {
            uuid: Uuid::new_v4(),
            seq: 0,
            name: "sw".into(),
            kind,
            desc: String::new(),
            uplinks: vec![Uplink {
                node: node.uuid,
                nic: nic.uuid,
                interface: String::new(),
            }],
            created_at: 0,
            updated_at: 0,
        };
        let sw = s.vswitch_insert(&sw).unwrap();
        assert_eq!(
            sw.uplinks[0].interface, "eth1",
            "resolved from the NIC record"
        );
        (s, sw)
    }

    fn net(sw: &VSwitch, name: &str, vlan: Option<u16>) -> Network {
        Network {
            uuid: Uuid::new_v4(),
            seq: 0,
            name: name.into(),
            switch: sw.uuid,
            vlan_id: vlan,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn subnet(network: Uuid, name: &str, start: &str, end: &str) -> Subnet {
        let sp = SubnetSpec::parse("", start, end, "255.255.255.0", "10.9.0.1", "8.8.8.8", None)
            .unwrap();
        Subnet {
            uuid: Uuid::new_v4(),
            seq: 0,
            name: name.into(),
            network,
            range: sp.range,
            prefix: sp.prefix,
            gateway: sp.gateway,
            dns1: sp.dns1,
            dns2: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn vlan_and_flat_rules() {
        let (s, sw) = world(SwitchType::Vlan);
        assert_eq!(
            s.network_insert(&net(&sw, "a", None), None)
                .unwrap_err()
                .code,
            Code::VlanConflict
        );
        s.network_insert(&net(&sw, "a", Some(10)), None).unwrap();
        assert_eq!(
            s.network_insert(&net(&sw, "b", Some(10)), None)
                .unwrap_err()
                .code,
            Code::VlanConflict
        );
        assert_eq!(
            s.network_insert(&net(&sw, "A", Some(11)), None)
                .unwrap_err()
                .code,
            Code::NetworkNameExists
        );
        s.network_insert(&net(&sw, "b", Some(11)), None).unwrap();
        assert_eq!(
            s.vswitch_delete(&sw.uuid).unwrap_err().code,
            Code::VSwitchInUse
        );
        let patch = VSwitchPatch {
            kind: Some(SwitchType::Flat),
            ..Default::default()
        };
        assert_eq!(
            s.vswitch_update(&sw.uuid, &patch, 1).unwrap_err().code,
            Code::VSwitchInUse
        );

        let (s, sw) = world(SwitchType::Flat);
        assert_eq!(
            s.network_insert(&net(&sw, "a", Some(3)), None)
                .unwrap_err()
                .code,
            Code::VlanConflict
        );
        let a = s.network_insert(&net(&sw, "a", None), None).unwrap();
        assert_eq!(
            s.network_insert(&net(&sw, "b", None), None)
                .unwrap_err()
                .code,
            Code::FlatSwitchTaken
        );
        s.network_delete(&a.uuid).unwrap();
        s.network_insert(&net(&sw, "b", None), None).unwrap();
    }

    #[test]
    fn subnets_do_not_overlap_and_cannot_shrink_past_allocations() {
        let (s, sw) = world(SwitchType::Vlan);
        let n = s
            .network_insert(
                &net(&sw, "n", Some(5)),
                Some(&subnet(Uuid::nil(), "s1", "10.9.0.10", "10.9.0.20")),
            )
            .unwrap();
        let first = s.subnet_list().unwrap().remove(0);
        assert_eq!(first.network, n.uuid);
        let e = s
            .subnet_insert(&subnet(n.uuid, "s2", "10.9.0.20", "10.9.0.30"))
            .unwrap_err();
        assert_eq!(e.code, Code::SubnetOverlap);
        assert_eq!(
            s.subnet_insert(&subnet(n.uuid, "S1", "10.9.0.40", "10.9.0.50"))
                .unwrap_err()
                .code,
            Code::SubnetNameExists
        );
        let s2 = s
            .subnet_insert(&subnet(n.uuid, "s2", "10.9.0.21", "10.9.0.30"))
            .unwrap();
        let ip = s.ip_allocate(&first.uuid, "desktop:x", None).unwrap();
        assert_eq!(ip, Ipv4Addr::new(10, 9, 0, 10));
        assert_eq!(
            s.ip_allocate(&first.uuid, "desktop:y", Some(ip))
                .unwrap_err()
                .code,
            Code::IpInUse
        );
        assert_eq!(
            s.ip_allocate(&first.uuid, "desktop:y", Some(Ipv4Addr::new(10, 9, 0, 99)))
                .unwrap_err()
                .code,
            Code::IpNotInRange
        );
        let shrink = SubnetPatch {
            spec: Some(
                SubnetSpec::parse(
                    "",
                    "10.9.0.11",
                    "10.9.0.20",
                    "24",
                    "10.9.0.1",
                    "8.8.8.8",
                    None,
                )
                .unwrap(),
            ),
            ..Default::default()
        };
        assert_eq!(
            s.subnet_update(&first.uuid, &shrink, 1).unwrap_err().code,
            Code::SubnetInUse
        );
        assert_eq!(
            s.subnet_delete(&first.uuid).unwrap_err().code,
            Code::SubnetInUse
        );
        assert_eq!(
            s.network_delete(&n.uuid).unwrap_err().code,
            Code::NetworkInUse
        );
        s.ip_release(&first.uuid, ip).unwrap();
        s.subnet_update(&first.uuid, &shrink, 1).unwrap();
        s.subnet_delete(&s2.uuid).unwrap();
        s.network_delete(&n.uuid).unwrap();
        assert!(
            s.subnet_list().unwrap().is_empty(),
            "subnets go with their network"
        );
        s.vswitch_delete(&sw.uuid).unwrap();
    }

    #[test]
    fn concurrent_allocation_never_hands_out_an_address_twice() {
        let (s, sw) = world(SwitchType::Vlan);
        let s = Arc::new(s);
        s.network_insert(
            &net(&sw, "n", Some(7)),
            Some(&subnet(Uuid::nil(), "pool", "10.9.0.2", "10.9.0.201")),
        )
        .unwrap();
        let sub = s.subnet_list().unwrap().remove(0).uuid;
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let s = s.clone();
                std::thread::spawn(move || {
                    (0..30)
                        .filter_map(|i| s.ip_allocate(&sub, &format!("t{t}-{i}"), None).ok())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let got: Vec<Ipv4Addr> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        let unique: BTreeSet<_> = got.iter().collect();
        assert_eq!(
            got.len(),
            200,
            "the range holds 200 addresses and 240 were asked for"
        );
        assert_eq!(unique.len(), got.len(), "an address was handed out twice");
        assert_eq!(s.ip_allocations(&sub).unwrap().len(), 200);
        assert_eq!(
            s.ip_allocate(&sub, "late", None).unwrap_err().code,
            Code::IpNotEnough
        );
    }

    #[test]
    fn uplinks_are_checked() {
        let (s, sw) = world(SwitchType::Flat);
        let other = Node::bare(Uuid::new_v4(), "n2", "x", 0);
        s.node_put(&other).unwrap();
        let mut ups = sw.uplinks.clone();
        ups.push(Uplink {
            node: other.uuid,
            nic: sw.uplinks[0].nic,
            interface: String::new(),
        });
        let p = VSwitchPatch {
            uplinks: Some(ups),
            ..Default::default()
        };
        let e = s.vswitch_update(&sw.uuid, &p, 1).unwrap_err();
        assert_eq!(e.code, Code::NicNotFound);
        assert!(e.message.contains("`uplinks[1].nic_uuid`"), "{}", e.message);
        let mut twice = sw.uplinks.clone();
        twice.push(sw.uplinks[0].clone());
        let e = s
            .vswitch_update(
                &sw.uuid,
                &VSwitchPatch {
                    uplinks: Some(twice),
                    ..Default::default()
                },
                1,
            )
            .unwrap_err();
        assert_eq!(e.code, Code::VSwitchUplinkInvalid);
    }
}
