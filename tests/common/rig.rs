//! The one way the in-process tiers build a service over fakes: a
//! temporary data directory, storages as folders in it, the host's NICs
//! and route, settings and backends changed as a test needs, then the
//! services and their HTTP app. Each tier's harness starts here and adds
//! what it is about (an admin, an initialised controller, a joined node).

use std::path::PathBuf;
use std::sync::Arc;

use vdi_appliance::app::{self, Fakes};
use vdi_appliance::domain::net::{DefaultRoute, IfAddr};
use vdi_appliance::fakes::{FakeHost, FakeNet};
use vdi_appliance::http::{self, State};
use vdi_appliance::service::{Backends, Services, Settings};
use vdi_appliance::store::Store;

pub const ADMIN_PW: &str = "s3cret-pass";

/// What a rig is built from. `Rig::build(Spec::default())` is a bare host:
/// no NICs, no storages, default settings.
#[derive(Default)]
pub struct Spec<'a> {
    /// `(name, ["ip/prefix", ...])`.
    pub nics: &'a [(&'a str, &'a [&'a str])],
    /// `(gateway, device)` of the default route.
    pub route: Option<(&'a str, &'a str)>,
    /// Storage folders made under the data directory, in this order.
    pub mounts: &'a [&'a str],
}

pub struct Rig {
    pub app: tide::Server<State>,
    pub s: Arc<Services>,
    pub f: Fakes,
    /// The storage folders of `Spec::mounts`.
    pub mounts: Vec<PathBuf>,
    pub dir: tempfile::TempDir,
}

/// `"192.0.2.49/24"` as an address on a NIC.
pub fn addr(s: &str) -> IfAddr {
    let (ip, p) = s.split_once('/').unwrap();
    IfAddr {
        ip: ip.parse().unwrap(),
        prefix: p.parse().unwrap(),
    }
}

impl Rig {
    pub fn build(spec: Spec<'_>) -> Rig {
        Rig::build_with(spec, |_| {}, |_| {})
    }

    pub fn build_with(
        spec: Spec<'_>,
        settings: impl FnOnce(&mut Settings),
        backends: impl FnOnce(&mut Backends),
    ) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let mounts: Vec<PathBuf> = spec.mounts.iter().map(|m| dir.path().join(m)).collect();
        for m in &mounts {
            std::fs::create_dir_all(m).unwrap();
        }
        let data = dir.path().join("d");
        let store = Arc::new(Store::open(&data, &Default::default()).unwrap());
        let addrs: Vec<(&str, Vec<IfAddr>)> = spec
            .nics
            .iter()
            .map(|(n, a)| (*n, a.iter().map(|x| addr(x)).collect()))
            .collect();
        let nics: Vec<(&str, &[IfAddr])> = addrs.iter().map(|(n, a)| (*n, &a[..])).collect();
        let net = FakeNet::with_nics(&nics);
        if let Some((gw, dev)) = spec.route {
            net.set_route(Some(DefaultRoute {
                gateway: gw.parse().unwrap(),
                dev: dev.into(),
            }));
        }
        let names: Vec<&str> = spec.nics.iter().map(|(n, _)| *n).collect();
        let paths: Vec<&std::path::Path> = mounts.iter().map(|m| m.as_path()).collect();
        // A bare host keeps the fake's own inventory.
        let host = if names.is_empty() && paths.is_empty() {
            FakeHost::default()
        } else {
            FakeHost::with_mounts(&paths, &names)
        };
        let f = app::fakes(net, host);
        let mut set = Settings::for_dir(data);
        settings(&mut set);
        let mut b = f.backends();
        backends(&mut b);
        let s = app::services(store, &b, set, app::global_spawner());
        let app = http::app(s.clone());
        Rig {
            app,
            s,
            f,
            mounts,
            dir,
        }
    }

    /// Gives the account `admin` the password `ADMIN_PW` and logs it in.
    pub fn admin_token(&self) -> String {
        self.s.admin_set_password("admin", ADMIN_PW).unwrap();
        super::app_token(&self.app, "admin", ADMIN_PW)
    }
}
