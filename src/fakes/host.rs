//! A fake host for the inventory and storage ports: hostname, virtualisation
//! support, mounts and inventory are set by the test; storage directories are
//! made for real (under the test's temporary mounts) and can be made to fail.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::domain::inventory::{CpuInfo, GpuInfo, Inventory, Mount, NicInfo};
use crate::error::{Code, Error, Result};
use crate::host::inventory::{HostInventory, HostStorage, Usage};
use crate::host::BoxFuture;

pub struct FakeHost {
    pub hostname: Mutex<String>,
    pub cpu_flag: Mutex<Option<String>>,
    pub kvm: AtomicBool,
    pub mounts: Mutex<Vec<Mount>>,
    pub inventory: Mutex<Inventory>,
    /// `dirs_create` fails (after creating the first directory, which it
    /// then removes, as the real adapter does).
    pub fail_dirs: AtomicBool,
    /// Every directory this fake created and has not removed.
    pub created: Mutex<Vec<PathBuf>>,
}

impl Default for FakeHost {
    fn default() -> Self {
        FakeHost {
            hostname: Mutex::new("fakehost".into()),
            cpu_flag: Mutex::new(Some("vmx".into())),
            kvm: AtomicBool::new(true),
            mounts: Mutex::new(Vec::new()),
            inventory: Mutex::new(Inventory {
                hostname: "fakehost".into(),
                os: "Debian GNU/Linux 12 (bookworm)".into(),
                kernel: "6.1.0-fake".into(),
                cpu: CpuInfo {
                    model: "Fake CPU @ 2.0GHz".into(),
                    sockets: 1,
                    cores: 4,
                    threads: 8,
                    virt_flag: Some("vmx".into()),
                },
                memory_bytes: 16 << 30,
                numa: Vec::new(),
                disks: Vec::new(),
                nics: Vec::new(),
                gpus: Vec::<GpuInfo>::new(),
            }),
            fail_dirs: AtomicBool::new(false),
            created: Mutex::new(Vec::new()),
        }
    }
}

impl FakeHost {
    /// A host whose storage mounts are these directories (ext4, writable,
    /// 100 GiB with 60 GiB free), with these NICs in its inventory.
    pub fn with_mounts(paths: &[&std::path::Path], nics: &[&str]) -> FakeHost {
        let h = FakeHost::default();
        *h.mounts.lock().unwrap() = paths
            .iter()
            .map(|p| Mount {
                path: p.to_string_lossy().into_owned(),
                device: "/dev/fake1".into(),
                fs: "ext4".into(),
                total_bytes: 100 << 30,
                available_bytes: 60 << 30,
                rotational: Some(false),
                writable: true,
            })
            .collect();
        h.inventory.lock().unwrap().nics = nics
            .iter()
            .map(|n| NicInfo {
                name: n.to_string(),
                mac: String::new(),
                driver: Some("e1000e".into()),
                firmware: Some("0.13-4".into()),
                pci: Some("0000:00:19.0".into()),
                speed_mbps: Some(1000),
            })
            .collect();
        h
    }

    pub fn created(&self) -> Vec<PathBuf> {
        self.created.lock().unwrap().clone()
    }
}

impl HostInventory for FakeHost {
    fn hostname(&self) -> BoxFuture<'_, Result<String>> {
        let h = self.hostname.lock().unwrap().clone();
        Box::pin(async move { Ok(h) })
    }

    fn virt(&self) -> BoxFuture<'_, Result<(Option<String>, bool)>> {
        let v = (
            self.cpu_flag.lock().unwrap().clone(),
            self.kvm.load(Ordering::SeqCst),
        );
        Box::pin(async move { Ok(v) })
    }

    fn inventory(&self) -> BoxFuture<'_, Result<Inventory>> {
        let mut i = self.inventory.lock().unwrap().clone();
        i.hostname = self.hostname.lock().unwrap().clone();
        Box::pin(async move { Ok(i) })
    }

    fn mounts(&self) -> BoxFuture<'_, Result<Vec<Mount>>> {
        let m = self.mounts.lock().unwrap().clone();
        Box::pin(async move { Ok(m) })
    }
}

impl HostStorage for FakeHost {
    fn dirs_create<'a>(&'a self, dirs: &'a [PathBuf]) -> BoxFuture<'a, Result<Vec<PathBuf>>> {
        Box::pin(async move {
            let mut made = Vec::new();
            for d in dirs {
                if d.exists() {
                    continue;
                }
                if self.fail_dirs.load(Ordering::SeqCst) && !made.is_empty() {
                    for m in made.iter().rev() {
                        let _ = std::fs::remove_dir(m);
                    }
                    return Err(Error::new(
                        Code::StorageUnusable,
                        format!("Cannot create {}: injected failure", d.display()),
                    ));
                }
                std::fs::create_dir_all(d).map_err(|e| {
                    Error::new(
                        Code::StorageUnusable,
                        format!("Cannot create {}: {e}", d.display()),
                    )
                })?;
                made.push(d.clone());
            }
            self.created.lock().unwrap().extend(made.iter().cloned());
            Ok(made)
        })
    }

    fn dirs_remove<'a>(&'a self, dirs: &'a [PathBuf]) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            for d in dirs.iter().rev() {
                if std::fs::remove_dir(d).is_ok() {
                    self.created.lock().unwrap().retain(|c| c != d);
                }
            }
            Ok(())
        })
    }

    fn usage<'a>(&'a self, paths: &'a [String]) -> BoxFuture<'a, Result<Vec<Usage>>> {
        let mounts = self.mounts.lock().unwrap().clone();
        Box::pin(async move {
            Ok(paths
                .iter()
                .map(|p| {
                    let m = mounts
                        .iter()
                        .filter(|m| p.starts_with(&m.path))
                        .max_by_key(|m| m.path.len());
                    Usage {
                        path: p.clone(),
                        total_bytes: m.map_or(0, |m| m.total_bytes),
                        available_bytes: m.map_or(0, |m| m.available_bytes),
                    }
                })
                .collect())
        })
    }
}
