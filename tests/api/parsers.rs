//! Property tests: no parser of client input panics. Every function of
//! `src/domain` and `src/api` that takes text or numbers a client sends
//! (`parse`, `from_str`-like checks, validation into domain types) gets
//! arbitrary strings (any Unicode, near-misses, huge and negative numbers,
//! empty) and numbers; every request DTO gets arbitrary JSON shaped after
//! its own schema (its fields, nested objects and lists, with wrong types
//! mixed in), is deserialised as the handlers do and then validated with
//! each of its methods. A refusal must be a client error (4xx), never a
//! panic and never an internal error.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};
use uuid::Uuid;
use vdi_appliance::api::{self, from_value};
use vdi_appliance::domain::{self, user::PasswordPolicy};
use vdi_appliance::error::{Error, Result};

fn cfg() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ------------------------------------------------------------ generators

/// Text a client may send: anything, and near-misses of what parsers want.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,40}",
        "[0-9a-fA-F:.\\- /,€+]{0,24}",
        // Twelve bytes that are not twelve characters (a MAC's length).
        "[0-9a-f]{0,10}(€|é|池)[0-9a-f]{0,10}",
        "[0-9a-f€é池+]{4,12}",
        "[ \t]*-?[0-9]{1,40}(\\.[0-9]{0,6})?(e[+-]?[0-9]{1,4})?",
        "(a|€|池|\u{0}|\u{202e}|\u{feff}|\"|,|\n|\r\n|ǅ|Σ){0,14}",
        Just(String::new()),
        Just(" ".to_string()),
        any::<u128>().prop_map(|n| Uuid::from_u128(n).to_string()),
        any::<[u8; 4]>().prop_map(|b| Ipv4Addr::from(b).to_string()),
        any::<[u8; 6]>().prop_map(|b| {
            b.iter()
                .map(|x| format!("{x:02x}"))
                .collect::<Vec<_>>()
                .join(":")
        }),
        "[0-9]{1,3}(\\.[0-9]{1,3}){0,4}(/[0-9]{1,3})?",
        "(1|2|3|4|,| |x){0,9}",
        "(flat|vlan|FLAT|education|personal|all|contain|single|cpu|memory|disk|network)",
    ]
}

/// Numbers: ordinary, huge, negative, fractional, and as text.
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        (-3i64..300).prop_map(Value::from),
        Just(json!(u64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(1e300)),
        Just(json!(-0.5)),
        Just(json!(4294967296u64)),
        "-?[0-9]{1,25}".prop_map(Value::String),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        text().prop_map(Value::String),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![text(), "[a-z_]{1,12}"]
}

/// Any JSON value, nested a little.
fn json_any() -> BoxedStrategy<Value> {
    leaf()
        .prop_recursive(3, 48, 6, |inner| {
            prop_oneof![
                vec(inner.clone(), 0..6).prop_map(Value::Array),
                btree_map(key(), inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
        .boxed()
}

/// Text that fits a field by its name (uuids for `*uuid*`, addresses for
/// `*ip*`, …) most of the time, anything the rest: validation then runs
/// past the first field.
fn text_for(key: &str) -> BoxedStrategy<String> {
    let k = key.to_ascii_lowercase();
    let fit: BoxedStrategy<String> = if k.contains("uuid")
        || k.ends_with("_id")
        || k == "template"
        || k == "group"
    {
        any::<u128>()
            .prop_map(|n| Uuid::from_u128(n).to_string())
            .boxed()
    } else if k.contains("ip") || k.contains("gateway") || k.contains("dns") || k.contains("addr") {
        prop_oneof![
            any::<[u8; 4]>().prop_map(|b| Ipv4Addr::from(b).to_string()),
            (0u8..4).prop_map(|x| format!("192.0.2.{}", 10 + x)),
        ]
        .boxed()
    } else if k.contains("netmask") {
        prop_oneof![
            Just("255.255.255.0".to_string()),
            (0u8..40).prop_map(|n| n.to_string())
        ]
        .boxed()
    } else if k.contains("mac") {
        any::<[u8; 6]>()
            .prop_map(|b| {
                b.iter()
                    .map(|x| format!("{x:02x}"))
                    .collect::<Vec<_>>()
                    .join(":")
            })
            .boxed()
    } else if k.contains("name") || k == "prefix" || k.contains("interface") || k == "dev" {
        "[a-z][a-z0-9_]{0,10}".boxed()
    } else if k.contains("pass") || k.contains("pwd") {
        "[ -~]{0,12}".boxed()
    } else {
        return text().boxed();
    };
    prop_oneof![7 => fit, 3 => text()].boxed()
}

/// A number for a field: mostly small (the ranges validation allows),
/// sometimes extreme or text.
fn number_for() -> BoxedStrategy<Value> {
    prop_oneof![6 => (0u64..300).prop_map(Value::from), 4 => number()].boxed()
}

/// JSON shaped after a JSON-schema node: objects with (most of) their
/// properties, lists of their items, maps, strings and numbers where the
/// schema says so (fitting the field's name), and now and then anything.
fn shaped(node: &Value, root: &Value, depth: u32, field: &str) -> BoxedStrategy<Value> {
    let anything = json_any();
    if depth == 0 {
        return anything;
    }
    if let Some(r) = node.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or("");
        let def = root["definitions"][name].clone();
        return shaped(&def, root, depth - 1, field);
    }
    for k in ["anyOf", "oneOf", "allOf"] {
        if let Some(list) = node.get(k).and_then(Value::as_array) {
            let mut branches: Vec<(u32, BoxedStrategy<Value>)> = list
                .iter()
                .filter(|b| b.get("type") != Some(&json!("null")))
                .map(|b| (10, shaped(b, root, depth - 1, field)))
                .collect();
            branches.push((1, anything));
            return proptest::strategy::Union::new_weighted(branches).boxed();
        }
    }
    if let Some(props) = node.get("properties").and_then(Value::as_object) {
        let required: Vec<&str> = node
            .get("required")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let fields: Vec<BoxedStrategy<Option<(String, Value)>>> = props
            .iter()
            .map(|(k, s)| {
                let p = if required.contains(&k.as_str()) {
                    0.97
                } else {
                    0.7
                };
                let k = k.clone();
                proptest::option::weighted(p, shaped(s, root, depth - 1, &k))
                    .prop_map(move |v| v.map(|v| (k.clone(), v)))
                    .boxed()
            })
            .collect();
        let object = (fields, proptest::option::weighted(0.03, (key(), leaf()))).prop_map(
            |(fields, extra)| {
                let mut m: Map<String, Value> = fields.into_iter().flatten().collect();
                if let Some((k, v)) = extra {
                    m.insert(k, v);
                }
                Value::Object(m)
            },
        );
        return prop_oneof![30 => object, 1 => anything].boxed();
    }
    if let Some(extra) = node.get("additionalProperties").filter(|a| a.is_object()) {
        let item = shaped(extra, root, depth - 1, field);
        let map = btree_map(text_for(field), item, 0..4)
            .prop_map(|m| Value::Object(m.into_iter().collect()));
        return prop_oneof![30 => map, 1 => anything].boxed();
    }
    if let Some(items) = node.get("items") {
        let item = shaped(items, root, depth - 1, field);
        return prop_oneof![30 => vec(item, 0..4).prop_map(Value::Array), 1 => anything].boxed();
    }
    let ty = match node.get("type") {
        Some(Value::Array(a)) => a.iter().find(|t| *t != "null").cloned(),
        t => t.cloned(),
    };
    match ty.as_ref().and_then(Value::as_str) {
        Some("string") => {
            prop_oneof![30 => text_for(field).prop_map(Value::String), 1 => anything].boxed()
        }
        Some("integer" | "number") => prop_oneof![30 => number_for(), 1 => anything].boxed(),
        Some("boolean") => prop_oneof![
            20 => any::<bool>().prop_map(Value::Bool),
            1 => anything
        ]
        .boxed(),
        // Untyped (`serde_json::Value` fields: numbers or flags sent loosely).
        _ => prop_oneof![
            4 => number_for(),
            2 => text_for(field).prop_map(Value::String),
            1 => any::<bool>().prop_map(Value::Bool),
            1 => anything,
        ]
        .boxed(),
    }
}

fn body_of<T: schemars::JsonSchema>() -> BoxedStrategy<Value> {
    let root = serde_json::to_value(schemars::schema_for!(T)).unwrap();
    shaped(&root, &root, 8, "")
}

// ------------------------------------------------------------ checks

/// A refusal is the client's fault (4xx), never an internal error.
fn client_err(e: &Error) -> std::result::Result<(), TestCaseError> {
    let st = e.kind().status();
    prop_assert!(
        (400..500).contains(&st),
        "internal error for client input: {e:?}"
    );
    prop_assert!(!e.message.is_empty());
    Ok(())
}

fn fine<T>(r: Result<T>) -> std::result::Result<(), TestCaseError> {
    match r {
        Ok(_) => Ok(()),
        Err(e) => client_err(&e),
    }
}

/// Deserialises `v` as a handler does (a wrapped `param`), then runs
/// `check` on what came out.
fn dto<T: DeserializeOwned>(
    v: Value,
    check: impl FnOnce(T) -> std::result::Result<(), TestCaseError>,
) -> std::result::Result<(), TestCaseError> {
    match from_value::<T>(v.clone(), "param") {
        Ok(t) => check(t),
        Err(e) => {
            client_err(&e)?;
            // The raw-body path agrees (and does not panic either).
            let bytes = v.to_string();
            if let Err(e) = api::parse::<T>(bytes.as_bytes()) {
                client_err(&e)?;
            }
            Ok(())
        }
    }
}

/// One property test per DTO: `$name`, the type, and what to run on it.
macro_rules! dto_test {
    ($name:ident, $ty:ty) => {
        dto_test!($name, $ty, |_r| Ok(()));
    };
    ($name:ident, $ty:ty, |$r:ident| $check:expr) => {
        proptest! {
            #![proptest_config(cfg())]
            #[test]
            fn $name(v in body_of::<$ty>()) {
                dto::<$ty>(v, |$r| $check)?;
            }
        }
    };
}

/// For DTOs without a schema: arbitrary JSON objects.
macro_rules! dto_test_any {
    ($name:ident, $ty:ty, |$r:ident| $check:expr) => {
        proptest! {
            #![proptest_config(cfg())]
            #[test]
            fn $name(v in json_any()) {
                dto::<$ty>(v, |$r| $check)?;
            }
        }
    };
}

const POLICY: PasswordPolicy = PasswordPolicy { min: 6 };

// ------------------------------------------------------------ DTOs: src/api

// auth.rs
dto_test!(auth_login, api::auth::LoginReq);
dto_test!(auth_refresh, api::auth::RefreshReq);
dto_test!(auth_root_password, api::auth::RootPasswordReq);
dto_test!(auth_setup_admin, api::auth::SetupAdminReq);
// bond.rs
dto_test!(bond_flag, api::bond::Flag);
dto_test!(bond_slave, api::bond::SlaveReq);
dto_test!(bond_ip, api::bond::IpReq);
dto_test!(bond_gate, api::bond::GateInfo);
dto_test!(bond_info, api::bond::BondInfo);
dto_test!(bond_req, api::bond::BondReq, |r| fine(r.into_spec()));
dto_test!(bond_unbond, api::bond::UnbondReq, |r| fine(
    r.into_restore()
));
// controller.rs
dto_test!(controller_init, api::controller::InitReq, |r| {
    match r.into_domain() {
        Ok(spec) => {
            fine(spec.check())?;
            let _ = api::controller::InitReq::answers(&spec);
            Ok(())
        }
        Err(e) => client_err(&e),
    }
});
dto_test!(controller_check, api::controller::CheckReq, |r| fine(
    r.strict()
));
// desktop.rs
dto_test!(desktop_ip_detail, api::desktop::IpDetail);
dto_test!(desktop_allocate, api::desktop::Allocate);
dto_test!(desktop_create, api::desktop::CreateReq, |r| {
    use vdi_appliance::domain::desktop::Kind;
    let kind = if r.name.len() % 2 == 0 {
        Kind::Education
    } else {
        Kind::Personal
    };
    fine(r.into_spec(kind))
});
dto_test!(desktop_update, api::desktop::UpdateReq, |r| fine(
    r.value.into_patch()
));
dto_test!(desktop_update_value, api::desktop::UpdateValue, |r| fine(
    r.into_patch()
));
dto_test!(desktop_batch, api::desktop::BatchReq);
dto_test!(desktop_instances, api::desktop::InstanceReq, |r| {
    fine(r.group())?;
    fine(r.instances())
});
dto_test!(desktop_assign, api::desktop::AssignReq);
// monitor.rs
dto_test!(monitor_cpu, api::monitor::CpuReq);
dto_test!(monitor_mem, api::monitor::MemReq);
dto_test!(monitor_addr, api::monitor::AddrReq);
dto_test!(monitor_nic, api::monitor::NicReq);
dto_test!(monitor_disk, api::monitor::DiskReq);
dto_test!(monitor_report_data, api::monitor::ReportData);
dto_test!(monitor_report, api::monitor::ReportReq, |r| fine(
    r.validate()
));
dto_test!(monitor_top_data, api::monitor::TopDataReq);
// network.rs
dto_test!(network_num, api::network::Num, |r| fine(r.get("vlan_id")));
dto_test!(network_uplink, api::network::UplinkReq, |r| fine(
    api::network::uplinks("uplinks", &[r])
));
dto_test!(network_vswitch_create, api::network::VSwitchCreateReq);
dto_test!(network_vswitch_value, api::network::VSwitchValue, |r| fine(
    r.into_domain()
));
dto_test!(network_vswitch_update, api::network::VSwitchUpdateReq);
dto_test!(network_uuid, api::network::UuidReq);
dto_test!(network_subnet_info, api::network::SubnetInfo, |r| fine(
    r.into_domain("subnet_info")
));
dto_test!(network_create, api::network::NetworkCreateReq);
dto_test!(network_init, api::network::NetworkInitReq);
dto_test!(network_value, api::network::NetOrSubnetValue, |r| {
    fine(r.network_name())?;
    fine(r.subnet_patch(&subnet()))
});
dto_test!(network_update, api::network::UpdateReq);
dto_test!(network_subnet_create, api::network::SubnetCreateReq);
dto_test!(no_fields, api::fields::NoFields);
// node.rs (the three wire types nodes send each other have no schema)
dto_test_any!(node_probe_wire, api::node::ProbeWire, |r| {
    let _ = r.probe();
    Ok(())
});
dto_test_any!(node_nic_wire, api::node::NicWire, |_r| Ok(()));
dto_test_any!(node_service_wire, api::node::ServiceWire, |_r| Ok(()));
dto_test!(node_add, api::node::AddReq);
dto_test!(node_op, api::node::NodeOpReq);
dto_test!(node_register, api::node::RegisterReq);
dto_test!(node_heartbeat, api::node::HeartbeatReq);
dto_test!(node_pull, api::node::PullReq);
dto_test!(node_pushed_net, api::node::PushedNet);
dto_test!(node_network_push, api::node::NetworkPushReq, |r| fine(
    r.into_bridges()
));
// resource_pool.rs
dto_test!(pool_create, api::resource_pool::CreateReq, |r| fine(
    r.into_domain()
));
dto_test!(pool_delete, api::resource_pool::DeleteReq);
dto_test!(
    pool_update_value,
    api::resource_pool::UpdateValue,
    |r| fine(r.into_domain())
);
dto_test!(pool_update, api::resource_pool::UpdateReq);
dto_test!(pool_web_put, api::resource_pool::WebPutReq);
dto_test!(pool_item, api::resource_pool::Item);
dto_test!(pool_web_delete, api::resource_pool::WebDeleteReq);
// template.rs
dto_test!(template_system_disk, api::template::SystemDisk);
dto_test!(template_data_disk, api::template::DataDisk);
dto_test!(template_create, api::template::CreateReq, |r| {
    let by_path = |p: &str| (p.len() % 2 == 0).then(Uuid::nil);
    fine(r.into_spec(&by_path))
});
dto_test!(template_copy, api::template::CopyReq, |r| fine(
    r.into_spec()
));
dto_test!(template_one, api::template::OneReq, |r| {
    fine(api::template::uuid("uuid", &r.uuid))?;
    fine(api::template::opt_uuid("iso_uuid", &r.iso_uuid))?;
    fine(api::template::opt_uuid("operate_uuid", &r.operate_uuid))?;
    for v in [&r.version, &r.rollback_version, &r.cur_version]
        .into_iter()
        .flatten()
    {
        fine(api::template::int("version", v, 0, u32::MAX as u64))?;
    }
    Ok(())
});
dto_test!(template_name_uuid, api::template::NameUuid);
dto_test!(template_batch, api::template::BatchReq);
dto_test!(template_put, api::template::PutReq, |r| fine(
    r.value.into_patch()
));
dto_test!(template_put_value, api::template::PutValue, |r| fine(
    r.into_patch()
));
dto_test!(template_device, api::template::Device, |r| fine(
    api::template::PutValue {
        devices: vec![r],
        ..Default::default()
    }
    .into_patch()
));
dto_test!(template_register, api::template::RegisterReq);
dto_test!(template_retransmit, api::template::RetransmitReq);
dto_test!(template_image_id, api::template::ImageIdReq);
dto_test!(template_group, api::template::GroupReq, |r| fine(
    r.into_spec()
));
// terminal.rs
dto_test!(terminal_login, api::terminal::LoginReq, |r| fine(r.parts()));
dto_test!(terminal_session, api::terminal::SessionReq);
dto_test!(terminal_change_pwd, api::terminal::ChangePwdReq, |r| {
    fine(r.name())?;
    fine(r.new_password(&POLICY))
});
dto_test!(terminal_edu_desktops, api::terminal::EduDesktopsReq, |r| {
    fine(r.ip())
});
dto_test!(
    terminal_personal_open,
    api::terminal::PersonalOpenReq,
    |r| { fine(r.group()) }
);
dto_test!(terminal_edu_open, api::terminal::EduOpenReq, |r| fine(
    r.parts()
));
dto_test!(terminal_binding, api::terminal::BindingReq);
dto_test!(terminal_close, api::terminal::CloseReq, |r| fine(
    r.desktop()
));
dto_test!(
    terminal_personal_close,
    api::terminal::PersonalCloseReq,
    |r| { fine(r.mac()) }
);
dto_test!(terminal_mac, api::terminal::MacReq, |r| fine(r.mac()));
dto_test!(terminal_ip, api::terminal::TerminalIpReq, |r| fine(r.ip()));
dto_test!(terminal_put, api::terminal::TerminalPutReq, |r| fine(
    r.patch()
));
dto_test!(terminal_value, api::terminal::TerminalValue);
dto_test!(terminal_delete, api::terminal::TerminalDeleteReq);
// user.rs
dto_test!(user_create, api::user::UserCreateReq, |r| {
    fine(r.into_spec(&POLICY))?;
    fine(r.batch())
});
dto_test!(user_update, api::user::UserUpdateReq, |r| fine(
    r.value.into_patch(&POLICY)
));
dto_test!(user_value, api::user::UserValue, |r| fine(
    r.into_patch(&POLICY)
));
dto_test!(user_uuids, api::user::UsersReq, |r| fine(r.uuids()));
dto_test!(user_import, api::user::UserImportReq, |r| fine(
    r.into_rows(&POLICY)
));

fn subnet() -> domain::network::Subnet {
    let a: Ipv4Addr = "192.0.2.10".parse().unwrap();
    let b: Ipv4Addr = "192.0.2.20".parse().unwrap();
    domain::network::Subnet {
        uuid: Uuid::nil(),
        seq: 1,
        name: "s".into(),
        network: Uuid::nil(),
        range: domain::ipv4::Range::new(a, b).unwrap(),
        prefix: 24,
        gateway: "192.0.2.1".parse().unwrap(),
        dns1: "192.0.2.1".parse().unwrap(),
        dns2: None,
        created_at: 0,
        updated_at: 0,
    }
}

// ------------------------------------------------------------ raw bodies

proptest! {
    #![proptest_config(cfg())]

    /// Bodies that are not JSON, or not objects, or cut short.
    #[test]
    fn raw_bodies(bytes in prop_oneof![
        vec(any::<u8>(), 0..64),
        json_any().prop_map(|v| v.to_string().into_bytes()),
        (json_any(), any::<usize>()).prop_map(|(v, cut)| {
            let s = v.to_string().into_bytes();
            let n = cut % (s.len() + 1);
            s[..n].to_vec()
        }),
    ]) {
        fine(api::parse::<api::template::CreateReq>(&bytes))?;
        fine(api::parse::<api::user::UserImportReq>(&bytes))?;
        fine(api::parse::<Value>(&bytes))?;
        fine(api::controller::check_init(&bytes))?;
        // The body as the dispatcher reads it, once.
        if let Ok((body, _)) = api::Body::read(bytes.clone()) {
            fine(body.parse::<api::template::CreateReq>())?;
            fine(api::resource_pool::check_create(&body))?;
            fine(api::resource_pool::check_delete(&body))?;
            fine(api::resource_pool::check_update(&body))?;
        }
    }

    /// The loose value helpers every DTO leans on.
    #[test]
    fn value_helpers(v in json_any(), min in any::<u64>(), max in any::<u64>(), s in text()) {
        use api::template as t;
        fine(t::int("n", &v, min, max))?;
        fine(t::ram_mb("ram", &v))?;
        let o = Some(v.clone());
        fine(t::flag("f", &o))?;
        fine(t::opt_flag("f", &o, true))?;
        fine(t::some_flag("f", &o))?;
        let _ = t::text(&o);
        fine(domain::group::GroupType::parse("group_type", &v))?;
        fine(api::terminal::bindings_req(v.clone()))?;
        let mut body = json!({"async": v.clone(), "x": 1});
        fine(api::take_async(&mut body))?;
        let mut body = v.clone();
        fine(api::take_async(&mut body))?;
        let map: Option<BTreeMap<String, Value>> = match &v {
            Value::Object(m) => Some(m.clone().into_iter().collect()),
            _ => None,
        };
        fine(api::desktop::create_info(&map))?;
        let os = Some(s.clone());
        fine(t::opt_uuid("u", &os))?;
        fine(t::uuid("u", &s))?;
        fine(t::opt_ip("ip", &os))?;
        fine(api::desktop::desktop_uuid(&os, &None))?;
        fine(api::desktop::desktop_uuid(&None, &os))?;
        fine(api::network::uuid("u", &s))?;
        fine(api::network::desc(Some(s.clone()), "desc"))?;
        fine(api::resource_pool::uuid("u", &s))?;
        fine(api::controller::AnswerFile::parse(&s))?;
    }

    /// Query strings: the generic query and the monitor history.
    #[test]
    fn query_strings(
        pairs in vec((prop_oneof![
            Just("searchtype".to_string()), Just("page".to_string()),
            Just("page_size".to_string()), Just("node_uuid".to_string()),
            Just("metric".to_string()), Just("device".to_string()),
            Just("start".to_string()), Just("end".to_string()), Just("step".to_string()),
            key(),
        ], text()), 0..8),
        now in any::<i64>(),
    ) {
        match domain::query::parse(&pairs) {
            Ok(q) => {
                let _ = q.offset();
                prop_assert!(q.page >= 1 && q.page_size >= 1);
            }
            Err(e) => client_err(&e)?,
        }
        fine(api::monitor::HistoryQuery::parse(&pairs, now))?;
    }

    /// The monitor history window: a valid node and metric, any numbers.
    #[test]
    fn history_windows(
        start in prop_oneof![any::<i64>().prop_map(|n| n.to_string()), text()],
        end in prop_oneof![any::<i64>().prop_map(|n| n.to_string()), text()],
        step in prop_oneof![any::<i64>().prop_map(|n| n.to_string()), text()],
        which in 0u8..8,
        now in any::<i64>(),
    ) {
        let mut pairs = vec![("node_uuid".to_string(), Uuid::nil().to_string())];
        for (bit, k, v) in [(1, "start", start), (2, "end", end), (4, "step", step)] {
            if which & bit != 0 {
                pairs.push((k.to_string(), v));
            }
        }
        fine(api::monitor::HistoryQuery::parse(&pairs, now))?;
    }

    /// CSV imports: any text, with and without a header.
    #[test]
    fn csv_imports(body in prop_oneof![
        text(),
        vec(vec(text(), 0..7).prop_map(|r| r.join(",")), 0..6).prop_map(|l| l.join("\n")),
        vec(text(), 0..6).prop_map(|r| format!("user_name,password\n{}", r.join(","))),
    ], enabled in any::<bool>(), min in 0usize..200) {
        let _ = domain::csv::parse(&body);
        fine(api::user::import_rows(Uuid::nil(), &body, enabled, &PasswordPolicy { min }))?;
    }
}

// ------------------------------------------------------------ src/domain

proptest! {
    #![proptest_config(cfg())]

    /// Every text parser of the domain.
    #[test]
    fn domain_text(s in text(), t in text(), n in any::<usize>()) {
        use domain::*;
        match terminal::Mac::parse("mac", &s) {
            // What parses prints back to itself.
            Ok(m) => prop_assert_eq!(terminal::Mac::parse("mac", &m.to_string()).unwrap(), m),
            Err(e) => client_err(&e)?,
        }
        fine(text::name("name", &s))?;
        fine(text::desc("desc", &s))?;
        let _ = text::fold(&s);
        let _ = text::clip(&s, n % 300);
        fine(text::uuid("uuid", &s))?;
        fine(ipv4::addr("ip", &s))?;
        fine(ipv4::prefix("netmask", &s))?;
        fine(net::check_ifname("interface", &s))?;
        fine(network::SwitchType::parse("switch_type", &s))?;
        fine(storage::Roles::parse("storages", &s))?;
        fine(image::check_name("name", &s))?;
        let _ = admin::valid_admin_name(&s);
        let _ = admin::valid_password(&s);
        let _ = template::version_of_file(&s);
        fine(monitor_query::Metric::parse(&s))?;
        let _ = storage::storage_root(&s);
        let _ = vmxml::OsFamily::of(&s);
        fine(user::PasswordPolicy::default().check("passwd", &s))?;
        fine(network::SubnetSpec::parse("subnet", &s, &t, &s, &t, &s, Some(&t)))?;
        fine(network::SubnetSpec::parse("subnet", "192.0.2.10", "192.0.2.20", &s, "192.0.2.1", &t, None))?;
    }

    /// Every numeric rule of the domain a client's numbers reach.
    #[test]
    fn domain_numbers(
        a in any::<i64>(), b in any::<i64>(), c in any::<i64>(),
        byte in any::<u8>(), word in any::<u16>(), big in any::<u64>(), n in any::<u32>(),
        ip in any::<[u8; 4]>(), gw in any::<[u8; 4]>(), s in text(),
    ) {
        use domain::*;
        let (ip, gw) = (Ipv4Addr::from(ip), Ipv4Addr::from(gw));
        fine(net::check_vlan_id("vlan_id", a))?;
        fine(net::BondMode::from_number("mode", a))?;
        fine(net::vlan_name(&s, word))?;
        fine(monitor_query::period_check(a))?;
        fine(monitor_query::window_check(a, b, c))?;
        let _ = desktop::DataRestore::from_number(big);
        let _ = desktop::Phase::from_tag(byte);
        let _ = desktop::Status::from_tag(byte);
        let _ = template::Classify::from_number(byte);
        let _ = template::Status::from_tag(byte);
        let _ = ipv4::mask(byte);
        let _ = ipv4::network(ip, byte);
        let _ = ipv4::broadcast(ip, byte);
        let _ = ipv4::is_host_of(gw, ip, byte);
        let _ = controller::derive_subnet(ip, byte, Some(gw));
        if let Ok(r) = ipv4::Range::new(ip.min(gw), ip.max(gw)) {
            let _ = (r.len(), r.contains(ip), r.overlaps(&r));
        }
        let _ = template::export_name(&s, a, n, big, n);
        let _ = template::data_disk_inx(n, &[n, 0, u32::MAX]);
        let _ = vmxml::disk_dev(big as usize);
        let _ = desktop::desktop_name(&s, n, n);
        let _ = user::batch_names(&s, n, n, n % 50);
        let _ = desktop::numbering(&[(n, n), (u32::MAX, 1)], n % 50, n);
    }
}

#[test]
fn the_documented_examples_still_parse() {
    // Sanity for the generators' targets: real bodies pass.
    let mac = domain::terminal::Mac::parse("mac", "52-54-00-ab-cd-0f").unwrap();
    assert_eq!(mac.to_string(), "52:54:00:ab:cd:0f");
    let r: api::template::OneReq = from_value(
        json!({"name": "t", "uuid": "5652a1d5-7544-42d0-8dad-f6c0858c8871", "rollback_version": 3, "cur_version": 4}),
        "param",
    )
    .unwrap();
    assert_eq!(r.rollback_version, Some(json!(3)));
    assert!(domain::text::name("name", "a€bbbbbbbb").is_ok());
    assert!(domain::terminal::Mac::parse("mac", "a€bbbbbbbb").is_err());
}
