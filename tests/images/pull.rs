//! A node's pull of base images and template versions (issue 22 item 2):
//! a pulled qcow2 must not reach a file outside the storage `_base`
//! directory it goes to (backing file outside or through a symlink, `json:`
//! or protocol name, external data file), over the fake disks and over
//! the real `qemu-img` adapter; a refused pull is reported as failed and
//! leaves no file.

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::appliance::md5_hex;
use common::real::sh;
use uuid::Uuid;
use vdi_appliance::app;
use vdi_appliance::domain::cluster::PullEnd;
use vdi_appliance::domain::node::Membership;
use vdi_appliance::domain::qcow2::minimal_header;
use vdi_appliance::error::Result;
use vdi_appliance::fakes::{FakeDisks, FakeHost, FakeNet};
use vdi_appliance::host::fetch::Fetch;
use vdi_appliance::host::qemu_img::QemuImg;
use vdi_appliance::host::{BoxFuture, Disks};
use vdi_appliance::service::{Services, Settings};
use vdi_appliance::store::Store;

fn qemu_img(args: &[&str]) {
    let (ok, out) = sh("qemu-img", args);
    assert!(ok, "qemu-img {args:?}: {out}");
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A compute node's services (no controller behind them): `disks` for its
/// files, `fetch` bringing them from "the controller".
fn node(disks: Arc<dyn Disks>, fetch: Arc<dyn Fetch>) -> (Arc<Services>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("d"), &Default::default()).unwrap());
    let f = app::fakes(FakeNet::default(), FakeHost::with_mounts(&[], &[]));
    let mut b = f.backends();
    b.disks = disks;
    b.fetch = fetch;
    let mut settings = Settings::for_dir(dir.path().join("d"));
    settings.membership = Some(Membership {
        controller: "http://127.0.0.1:9".into(),
        node_uuid: Uuid::new_v4(),
        credential: "cred".into(),
        control_token: "control".into(),
        controller_key: String::new(),
    });
    (
        app::services(store, &b, settings, app::global_spawner()),
        dir,
    )
}

/// Pulls `path` on the node and waits (bounded) for its end.
fn pull(s: &Arc<Services>, path: &Path, md5: &str) -> PullEnd {
    let t0 = Instant::now();
    loop {
        let st = s
            .internal_pull(Some("control"), path.to_path_buf(), md5.into(), false)
            .unwrap();
        if st.end != PullEnd::Running {
            return st.end;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the pull never ended"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn failed_with(end: PullEnd, fragment: &str) {
    match end {
        PullEnd::Failed(e) => assert!(e.contains(fragment), "`{fragment}` not in `{e}`"),
        other => panic!("pull ended {other:?}, not failed with `{fragment}`"),
    }
}

#[test]
fn a_node_pulls_only_images_that_stay_in_their_base_directory_over_fakes() {
    let controller = Arc::new(FakeDisks::default());
    let f = app::fakes(FakeNet::default(), FakeHost::with_mounts(&[], &[]));
    *f.fetch.source.lock().unwrap() = Some(controller.clone());
    let (s, _dir) = node(f.disks.clone(), f.fetch.clone());
    let base = Path::new("/opt/slow/instances/_base");
    let md5 = |p: &Path| smol::block_on(controller.md5(p)).unwrap();
    smol::block_on(async {
        controller.mkdir(&base.join("t/d")).await.unwrap();
        controller.mkdir(Path::new("/etc")).await.unwrap();
        controller
            .create(&base.join("img"), 1 << 30, None)
            .await
            .unwrap();
        let v1 = base.join("t/d/v1.qcow2");
        controller
            .create(&v1, 0, Some(&base.join("img")))
            .await
            .unwrap();
        controller
            .create(Path::new("/etc/host"), 1 << 20, None)
            .await
            .unwrap();
        controller
            .create(&base.join("t/d/v2.qcow2"), 0, Some(Path::new("/etc/host")))
            .await
            .unwrap();
    });
    // A template version's chain inside `_base` is pulled.
    assert_eq!(
        pull(&s, &base.join("img"), &md5(&base.join("img"))),
        PullEnd::Done
    );
    let v1 = base.join("t/d/v1.qcow2");
    assert_eq!(pull(&s, &v1, &md5(&v1)), PullEnd::Done);
    assert!(f.disks.exists_now(&v1));
    // A backing file outside, a data file, a json: name: refused, no file.
    let v2 = base.join("t/d/v2.qcow2");
    failed_with(
        pull(&s, &v2, &md5(&v2)),
        "outside the storage's base directory",
    );
    let evil = base.join("evil");
    for (bytes, fragment) in [
        (
            minimal_header(1 << 20, None, Some("/etc/shadow")),
            "external data file",
        ),
        (minimal_header(1 << 20, Some("json:{}"), None), "`json:`"),
    ] {
        controller.put_file(&evil, bytes.clone());
        failed_with(pull(&s, &evil, &md5_hex(&bytes)), fragment);
        assert!(!f.disks.exists_now(&evil) && !f.disks.exists_now(&base.join("evil.part")));
    }
    assert!(!f.disks.exists_now(&v2));
    // Only paths in a storage's `_base` directory are pulled at all.
    let e = s
        .internal_pull(Some("control"), "/etc/shadow".into(), md5(&v1), false)
        .unwrap_err();
    assert!(e.message.contains("not in a storage's"), "{e}");
}

/// Copies files from a directory standing for the controller's disk.
struct CopyFetch(PathBuf);

impl Fetch for CopyFetch {
    fn fetch<'a>(
        &'a self,
        _base: &'a str,
        _token: &'a str,
        _path: &'a str,
        part: &'a Path,
        _done: &'a AtomicU64,
    ) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            let text = part.to_string_lossy();
            let to = PathBuf::from(text.strip_suffix(".part").unwrap());
            let from = self.0.join(to.strip_prefix("/").unwrap());
            Ok(std::fs::copy(from, part).unwrap())
        })
    }
}

#[test]
fn real_node_pulls_refuse_images_reaching_outside_their_base_directory() {
    let ctl = tempfile::tempdir().unwrap();
    let nd = tempfile::tempdir().unwrap();
    let (n, _d) = node(Arc::new(QemuImg), Arc::new(CopyFetch(ctl.path().into())));
    let base = nd.path().join("slow/instances/_base");
    let on_ctl = |p: &Path| ctl.path().join(p.strip_prefix("/").unwrap());
    std::fs::create_dir_all(on_ctl(&base.join("t"))).unwrap();
    std::fs::create_dir_all(&base).unwrap();
    let md5 = |p: &Path| md5_hex(&std::fs::read(on_ctl(p)).unwrap());
    let secret = nd.path().join("shadow");
    std::fs::write(&secret, b"secret").unwrap();
    // A base image and a version on it (absolute backing, as we make them).
    let img = base.join("img");
    qemu_img(&["create", "-q", "-f", "qcow2", s(&on_ctl(&img)), "8M"]);
    std::fs::copy(on_ctl(&img), &img).unwrap();
    let v1 = base.join("t/v1.qcow2");
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-u",
        "-b",
        s(&img),
        "-F",
        "qcow2",
        s(&on_ctl(&v1)),
        "8M",
    ]);
    assert_eq!(pull(&n, &v1, &md5(&v1)), PullEnd::Done);
    assert!(v1.exists());
    // Reaching out: a backing file outside, a symlink inside pointing
    // outside, a json: name, a data file.
    let link = base.join("link");
    std::os::unix::fs::symlink(&secret, &link).unwrap();
    let json = format!(r#"json:{{"driver":"file","filename":"{}"}}"#, s(&secret));
    let data = format!("data_file={}", s(&on_ctl(&base.join("data.raw"))));
    let cases: [(&str, Vec<&str>, &str); 4] = [
        (
            "out",
            vec!["-u", "-b", s(&secret), "-F", "raw"],
            "outside the storage's base directory",
        ),
        (
            "via-link",
            vec!["-u", "-b", s(&link), "-F", "raw"],
            "resolves outside",
        ),
        ("json", vec!["-u", "-b", &json, "-F", "raw"], "`json:`"),
        ("data", vec!["-o", &data], "external data file"),
    ];
    for (name, opts, fragment) in cases {
        let f = base.join(name);
        let mut args = vec!["create", "-q", "-f", "qcow2"];
        args.extend(opts);
        let target = on_ctl(&f);
        args.extend([s(&target), "1M"]);
        qemu_img(&args);
        failed_with(pull(&n, &f, &md5(&f)), fragment);
        assert!(!f.exists(), "{name} was kept");
        assert!(!base.join(format!("{name}.part")).exists());
    }
}
