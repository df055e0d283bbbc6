//! Images that reach host files, registrations of host paths and truncated
//! uploads (issue 22 items 2-4), over the fake disks and over the real
//! `qemu-img` adapter: an image with an external data file, a backing file
//! or a `json:` backing name is refused at upload and at registration (a
//! node's pull: tests/images/pull.rs); registration takes only regular files directly in a base
//! image directory, never tells a foreign file's md5 and never hangs on a
//! device or FIFO; delete never removes a file outside the storage; an
//! upload that breaks off or ends short of its Content-Length records
//! nothing.

#[path = "../common/mod.rs"]
mod common;

// A node's pull of base images and template versions.
mod pull;

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll};
use std::time::Duration;

use common::appliance::{harness, harness_with, iso, md5_hex, qcow2, T};
use serde_json::{json, Value};
use smol::io::AsyncRead;
use uuid::Uuid;
use vdi_appliance::domain::image::BaseImage;
use vdi_appliance::domain::qcow2::minimal_header;
use vdi_appliance::host::qemu_img::QemuImg;
use vdi_appliance::host::Disks;
use vdi_appliance::http;

const UNSAFE: i64 = 20513;
const INCOMPLETE: i64 = 20512;
const TAKEN: i64 = 20514;
const INVALID: i64 = 20503;
const FIELD: i64 = 10002;

fn base_dir(t: &T) -> PathBuf {
    t.slow.join("instances/_base")
}

fn images(t: &T) -> Vec<Value> {
    t.get("/api/v1.0/base_image/?searchtype=all")["results"]
        .as_array()
        .unwrap()
        .clone()
}

fn pool(t: &T) -> Value {
    t.get("/api/v1.0/resource_pool/?searchtype=all")["results"][0]["uuid"].clone()
}

/// `resource_pool/images/upload` of `path` with `md5`, answered within a
/// bounded time (a call that never answers fails the test).
fn register(t: &T, id: &str, path: &Path, md5: &str) -> (u16, Value) {
    let body = json!({"pool_uuid": pool(t), "image_id": id, "image_path": path, "md5_sum": md5});
    let (app, token) = (t.app.clone(), t.token.clone());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(common::app_call(
            &app,
            &token,
            "POST",
            "/api/v1/resource_pool/images/upload",
            Some(body),
        ));
    });
    rx.recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("registering {} never answered", path.display()))
}

fn refused(r: (u16, Value), status: u16, code: i64, fragment: &str) -> String {
    let (st, v) = r;
    assert_eq!((st, v["code"].as_i64()), (status, Some(code)), "{v}");
    let msg = v["msg"].as_str().unwrap().to_string();
    assert!(msg.contains(fragment), "`{fragment}` not in `{msg}`");
    msg
}

/// A body that yields `data` and then fails as a closed socket does.
struct BreaksOff {
    data: Vec<u8>,
    at: usize,
}

impl AsyncRead for BreaksOff {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if self.at >= self.data.len() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed",
            )));
        }
        let n = buf.len().min(self.data.len() - self.at);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Poll::Ready(Ok(n))
    }
}

/// `PUT path` with a streamed body declaring `len` bytes.
fn put_stream(
    t: &T,
    path: &str,
    body: impl AsyncRead + Unpin + Send + Sync + 'static,
    len: Option<usize>,
) -> (u16, Value) {
    let url = tide::http::Url::parse(&format!("http://localhost{path}")).unwrap();
    let mut req = tide::http::Request::new(tide::http::Method::Put, url);
    req.set_peer_addr(Some("127.0.0.1:40000"));
    req.insert_header("Authorization", format!("Bearer {}", t.token));
    req.set_body(tide::http::Body::from_reader(
        smol::io::BufReader::new(body),
        len,
    ));
    let mut res = smol::block_on(http::respond(&t.app, req));
    let b = smol::block_on(res.body_bytes()).unwrap();
    (res.status() as u16, serde_json::from_slice(&b).unwrap())
}

/// Uploads that end short of their Content-Length or break off, and files
/// that are not what they claim, leave no file and no record.
fn assert_truncations_record_nothing(t: &T, image: Vec<u8>, list_dir: &dyn Fn() -> Vec<PathBuf>) {
    let before = list_dir();
    let n = image.len();
    let short = image[..n / 2].to_vec();
    for route in [
        "/api/v1/base_image/upload?name=cut",
        "/api/v1/iso/upload?name=cut",
    ] {
        let r = put_stream(t, route, smol::io::Cursor::new(short.clone()), Some(n));
        let msg = refused(r, 400, INCOMPLETE, "Content-Length");
        assert!(
            msg.contains(&format!("{} of the {n} bytes", n / 2)),
            "{msg}"
        );
        let r = put_stream(
            t,
            route,
            BreaksOff {
                data: short.clone(),
                at: 0,
            },
            Some(n),
        );
        refused(r, 400, INCOMPLETE, "broke off");
        // Without a declared length, a broken stream still fails.
        let r = put_stream(
            t,
            route,
            BreaksOff {
                data: short.clone(),
                at: 0,
            },
            None,
        );
        refused(r, 400, INCOMPLETE, "broke off");
    }
    assert_eq!(list_dir(), before, "no file is left behind");
    assert!(images(t).iter().all(|i| i["name"] != "cut"));
    let isos = t.get("/api/v1.0/iso/?searchtype=all");
    assert_eq!(isos["count"], 0, "{isos}");
}

// ------------------------------------------------------------ fake disks

#[test]
fn uploads_naming_other_files_are_refused_over_fakes() {
    let t = harness();
    let before = t.f.disks.files_under(&t.slow);
    let json_name = r#"json:{"driver":"raw","file":{"driver":"file","filename":"/etc/shadow"}}"#;
    for (bytes, fragment) in [
        (
            minimal_header(1 << 20, None, Some("/etc/shadow")),
            "external data file (`/etc/shadow`)",
        ),
        (
            minimal_header(1 << 20, Some("/etc/shadow"), None),
            "backing file (`/etc/shadow`)",
        ),
        (minimal_header(1 << 20, Some(json_name), None), "`json:`"),
    ] {
        let r = t.upload("/api/v1/base_image/upload?name=evil", bytes.clone());
        refused(r, 422, UNSAFE, fragment);
        // The same file already in the base directory cannot be registered.
        let on_disk = base_dir(&t).join("evil");
        t.f.disks.put_file(&on_disk, bytes.clone());
        let id = Uuid::new_v4().to_string();
        refused(
            register(&t, &id, &on_disk, &md5_hex(&bytes)),
            422,
            UNSAFE,
            fragment,
        );
        smol::block_on(t.f.disks.remove(&on_disk)).unwrap();
    }
    assert!(images(&t).is_empty());
    assert_eq!(t.f.disks.files_under(&t.slow), before, "no file is left");
    // Not an image, and an ISO without its signature.
    refused(
        t.upload("/api/v1/base_image/upload?name=x", vec![0u8; 4096]),
        422,
        INVALID,
        "not a qcow2 image",
    );
    refused(
        t.upload(
            "/api/v1/iso/upload?name=x",
            b"CD001 but not at 0x8001".to_vec(),
        ),
        422,
        INVALID,
        "CD001",
    );
    assert_eq!(t.upload("/api/v1/iso/upload?name=ok", iso()).0, 200);
}

#[test]
fn registration_is_confined_to_the_base_directory_over_fakes() {
    let t = harness();
    let dir = base_dir(&t);
    let good = qcow2(2 << 30);
    let md5 = md5_hex(&good);
    // A host file outside the storage, with a wrong md5: refused for its
    // place, and its md5 is never told.
    let shadow = PathBuf::from("/etc/shadow");
    let secret = b"root:$6$hash:19000:0:99999:7:::\n".to_vec();
    t.f.disks.put_file(&shadow, secret.clone());
    let id = || Uuid::new_v4().to_string();
    let msg = refused(register(&t, &id(), &shadow, "00"), 422, FIELD, "image_path");
    assert!(msg.contains("outside the storage"), "{msg}");
    assert!(!msg.contains(&md5_hex(&secret)), "{msg}");
    // A wrong md5 of a file in place: no digest in the message.
    let a = dir.join("a.qcow2");
    t.f.disks.put_file(&a, good.clone());
    let msg = refused(
        register(&t, &id(), &a, "d41d8cd98f00b204e9800998ecf8427e"),
        422,
        20504,
        "does not match the file",
    );
    assert!(!msg.contains(&md5), "{msg}");
    // A symlink out, a device or FIFO, a directory, `..`.
    let link = dir.join("link");
    t.f.disks.put_symlink(&link, &shadow);
    refused(register(&t, &id(), &link, &md5), 422, FIELD, "symlink");
    let fifo = dir.join("fifo");
    t.f.disks.put_special(&fifo);
    refused(
        register(&t, &id(), &fifo, &md5),
        422,
        FIELD,
        "not a regular file",
    );
    let sub = dir.join("sub");
    smol::block_on(t.f.disks.mkdir(&sub)).unwrap();
    refused(
        register(&t, &id(), &sub, &md5),
        422,
        FIELD,
        "not a regular file",
    );
    refused(
        register(&t, &id(), &dir.join("../_base/a.qcow2"), &md5),
        422,
        FIELD,
        "`..`",
    );
    // One record per file, also through a symlink inside.
    let first = id();
    assert_eq!(register(&t, &first, &a, &md5).0, 200);
    let msg = refused(register(&t, &id(), &a, &md5), 409, TAKEN, &first);
    assert!(msg.contains("image_path"), "{msg}");
    let inner = dir.join("inner");
    t.f.disks.put_symlink(&inner, &a);
    refused(register(&t, &id(), &inner, &md5), 409, TAKEN, &first);
    // A file changed since: retransmit says so without its new md5.
    let changed = qcow2(3 << 30);
    t.f.disks.put_file(&a, changed.clone());
    let (st, v) = t.call(
        "POST",
        "/api/v1/resource_pool/images/retransmit",
        Some(json!({"image_id": first})),
    );
    let msg = refused((st, v), 422, 20504, "damaged");
    assert!(!msg.contains(&md5_hex(&changed)), "{msg}");
    // Delete removes the file that is ours.
    t.ok(
        "/api/v1/resource_pool/images/delete",
        json!({"image_id": first}),
    );
    assert!(!t.f.disks.exists_now(&a));
}

/// A record that names a host file (as registration allowed before) or a
/// file another record holds: delete keeps the file.
fn assert_delete_keeps_foreign_files(t: &T, outside: &Path, exists: &dyn Fn(&Path) -> bool) {
    let dir = base_dir(t);
    let shared = dir.join("shared");
    let record = |path: &Path, name: &str| {
        let img = BaseImage {
            uuid: Uuid::new_v4(),
            seq: t.s.store.sequence_next().unwrap(),
            name: name.into(),
            pool: pool(t).as_str().unwrap().parse().unwrap(),
            os_type: String::new(),
            path: path.to_path_buf(),
            md5: String::new(),
            size: 1,
            virtual_size: 1,
            nodes: Vec::new(),
            created_at: 0,
        };
        t.s.store.image_insert(&img).unwrap();
        img.uuid.to_string()
    };
    let host = record(outside, "old-host-file");
    t.ok(
        "/api/v1/resource_pool/images/delete",
        json!({"image_id": host}),
    );
    assert!(exists(outside), "delete removed a file outside the storage");
    let one = record(&shared, "one");
    let two = record(&shared, "two");
    t.ok(
        "/api/v1/resource_pool/images/delete",
        json!({"image_id": one}),
    );
    assert!(exists(&shared), "the other record's file went");
    t.ok(
        "/api/v1/resource_pool/images/delete",
        json!({"image_id": two}),
    );
    assert!(!exists(&shared), "the last record's file stays");
}

#[test]
fn delete_never_removes_a_file_outside_the_storage_over_fakes() {
    let t = harness();
    let outside = t.slow.join("../elsewhere/shadow");
    t.f.disks.put_file(&outside, b"secret".to_vec());
    t.f.disks
        .put_file(&base_dir(&t).join("shared"), qcow2(1 << 20));
    assert_delete_keeps_foreign_files(&t, &outside, &|p| t.f.disks.exists_now(p));
}

#[test]
fn truncated_uploads_record_nothing_over_fakes() {
    let t = harness();
    let mut image = qcow2(1 << 30);
    image.resize(1 << 16, 0);
    let slow = t.slow.clone();
    assert_truncations_record_nothing(&t, image, &|| t.f.disks.files_under(&slow));
    // A complete upload with its length declared is recorded.
    let bytes = qcow2(1 << 30);
    let n = bytes.len();
    let (st, v) = put_stream(
        &t,
        "/api/v1/base_image/upload?name=whole",
        smol::io::Cursor::new(bytes),
        Some(n),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"]["size"], n);
}

// ------------------------------------------------------------ real qemu-img

/// Runs a command that must succeed.
fn run(cmd: &str, args: &[&str]) {
    let (ok, out) = common::real::sh(cmd, args);
    assert!(ok, "{cmd} {args:?}: {out}");
}

fn qemu_img(args: &[&str]) {
    run("qemu-img", args);
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The files the issue describes, made by qemu-img in `dir`: a data file
/// image amended to point at `secret`, an overlay on it, a `json:` backing
/// name, a good image and one cut in half.
struct Made {
    data_file: PathBuf,
    backing: PathBuf,
    json: PathBuf,
    good: PathBuf,
    damaged: PathBuf,
}

fn make_images(dir: &Path, secret: &Path) -> Made {
    let p = |n: &str| dir.join(n);
    let m = Made {
        data_file: p("data-file.qcow2"),
        backing: p("backing.qcow2"),
        json: p("json.qcow2"),
        good: p("good.qcow2"),
        damaged: p("damaged.qcow2"),
    };
    let opt = format!("data_file={}", s(&p("data.raw")));
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-o",
        &opt,
        s(&m.data_file),
        "1M",
    ]);
    let opt = format!("data_file={}", s(secret));
    qemu_img(&["amend", "-o", &opt, s(&m.data_file)]);
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-u",
        "-b",
        s(secret),
        "-F",
        "raw",
        s(&m.backing),
        "1M",
    ]);
    let json = format!(
        r#"json:{{"driver":"raw","file":{{"driver":"file","filename":"{}"}}}}"#,
        s(secret)
    );
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-u",
        "-b",
        &json,
        "-F",
        "raw",
        s(&m.json),
        "1M",
    ]);
    qemu_img(&["create", "-q", "-f", "qcow2", s(&m.good), "16M"]);
    run(
        "qemu-io",
        &["-f", "qcow2", "-c", "write -P 0xab 0 4M", s(&m.good)],
    );
    let bytes = std::fs::read(&m.good).unwrap();
    std::fs::write(&m.damaged, &bytes[..bytes.len() / 2]).unwrap();
    m
}

fn real() -> T {
    harness_with(|b| b.disks = Arc::new(QemuImg))
}

fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn real_images_reaching_host_files_are_refused_at_upload_and_registration() {
    let t = real();
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("shadow");
    std::fs::write(&secret, b"root:$6$not-for-you:19000:0:99999:7:::\n").unwrap();
    let m = make_images(outside.path(), &secret);
    let dir = base_dir(&t);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, fragment) in [
        (&m.data_file, "external data file"),
        (&m.backing, "backing file"),
        (&m.json, "`json:`"),
    ] {
        let bytes = std::fs::read(file).unwrap();
        let msg = refused(
            t.upload("/api/v1/base_image/upload?name=evil", bytes.clone()),
            422,
            UNSAFE,
            fragment,
        );
        assert!(
            msg.contains(s(&secret)),
            "the message names the file: {msg}"
        );
        assert!(listing(&dir).is_empty(), "{:?}", listing(&dir));
        let in_place = dir.join("in-place");
        std::fs::write(&in_place, &bytes).unwrap();
        let id = Uuid::new_v4().to_string();
        refused(
            register(&t, &id, &in_place, &md5_hex(&bytes)),
            422,
            UNSAFE,
            fragment,
        );
        std::fs::remove_file(&in_place).unwrap();
    }
    // A damaged image fails qemu-img check, though its upload was whole.
    let bytes = std::fs::read(&m.damaged).unwrap();
    refused(
        t.upload("/api/v1/base_image/upload?name=damaged", bytes),
        422,
        INVALID,
        "qemu-img check",
    );
    assert!(images(&t).is_empty() && listing(&dir).is_empty());
    // A good image goes in, with qemu-img's virtual size.
    let bytes = std::fs::read(&m.good).unwrap();
    let (st, v) = t.upload("/api/v1/base_image/upload?name=good", bytes);
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"]["virtual_size_gb"], json!(16.0 / 1024.0));
}

#[test]
fn real_registration_refuses_host_files_devices_fifos_and_symlinks() {
    let t = real();
    let dir = base_dir(&t);
    std::fs::create_dir_all(&dir).unwrap();
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("shadow");
    let content = b"root:$6$not-for-you:19000:0:99999:7:::\n";
    std::fs::write(&secret, content).unwrap();
    let id = || Uuid::new_v4().to_string();
    // A host file with a wrong md5: refused, its md5 untold.
    let msg = refused(
        register(&t, &id(), &secret, "00"),
        422,
        FIELD,
        "outside the storage",
    );
    assert!(!msg.contains(&md5_hex(content)), "{msg}");
    // Devices and FIFOs answer at once, outside or inside.
    refused(
        register(&t, &id(), Path::new("/dev/zero"), "00"),
        422,
        FIELD,
        "image_path",
    );
    let fifo = dir.join("fifo");
    run("mkfifo", &[s(&fifo)]);
    refused(
        register(&t, &id(), &fifo, "00"),
        422,
        FIELD,
        "not a regular file",
    );
    let dev = dir.join("zero");
    run("mknod", &[s(&dev), "c", "1", "5"]);
    refused(
        register(&t, &id(), &dev, "00"),
        422,
        FIELD,
        "not a regular file",
    );
    refused(register(&t, &id(), &dir, "00"), 422, FIELD, "image_path");
    // Symlinks out of the directory.
    for (name, to) in [
        ("to-secret", &secret),
        ("to-zero", &PathBuf::from("/dev/zero")),
    ] {
        let link = dir.join(name);
        std::os::unix::fs::symlink(to, &link).unwrap();
        refused(
            register(&t, &id(), &link, &md5_hex(content)),
            422,
            FIELD,
            "symlink",
        );
    }
    // A good image: once, not again, not through a symlink beside it.
    let good = dir.join("good");
    qemu_img(&["create", "-q", "-f", "qcow2", s(&good), "8M"]);
    let md5 = md5_hex(&std::fs::read(&good).unwrap());
    let first = id();
    let (st, v) = register(&t, &first, &good, &md5);
    assert_eq!(st, 200, "{v}");
    refused(register(&t, &id(), &good, &md5), 409, TAKEN, &first);
    let beside = dir.join("beside");
    std::os::unix::fs::symlink(&good, &beside).unwrap();
    refused(register(&t, &id(), &beside, &md5), 409, TAKEN, &first);
    // Delete: an old record naming a host file keeps it; ours goes.
    std::fs::write(dir.join("shared"), b"x").unwrap();
    assert_delete_keeps_foreign_files(&t, &secret, &|p| p.exists());
    t.ok(
        "/api/v1/resource_pool/images/delete",
        json!({"image_id": first}),
    );
    assert!(!good.exists() && secret.exists());
}

#[test]
fn real_truncated_uploads_record_nothing() {
    let t = real();
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("s");
    std::fs::write(&secret, b"s").unwrap();
    let m = make_images(outside.path(), &secret);
    let dir = base_dir(&t);
    std::fs::create_dir_all(&dir).unwrap();
    // As in the issue: a qcow2 of 8 MiB sent half-way.
    let image = std::fs::read(&m.good).unwrap();
    assert!(image.len() > 4 << 20);
    let iso_dir = t.slow.join("instances/_iso");
    assert_truncations_record_nothing(&t, image, &|| {
        let mut v = listing(&dir);
        v.extend(listing(&iso_dir));
        v
    });
}
