//! The `vdi-appliance` command: serve, offline admin recovery, store export
//! and import, version.

use std::process::ExitCode;
use std::sync::Arc;

use vdi_appliance::config::{Config, FLAGS};
use vdi_appliance::store::{Store, StoreOptions};
use vdi_appliance::{app, compute, firstboot, logging, tasks};

fn usage() -> String {
    let mut s = String::from(
        "usage: vdi-appliance <command> [flags]

commands:
  serve                                      run the service
  init --answer-file FILE                    initialise this server as the controller without
                                             the browser (TOML or JSON: the controller/init
                                             fields plus admin_name, admin_password); offline,
                                             idempotent with the same answers
  admin set-password --name N --password P   create an admin or reset its password (offline;
                                             `--password -` reads it from standard input)
  export --out FILE                          write the whole store as JSON (offline)
  import --in FILE                           load an export into an empty store (offline)
  version                                    print the version
  node-probe                                 this server's facts as JSON (run by the controller
                                             over SSH before joining it)
  node-join | node-leave                     join or leave a controller: membership JSON on
                                             standard input (run by the controller over SSH)

flags:
",
    );
    for (f, d) in FLAGS {
        s.push_str(&format!("  {f} {d}\n"));
    }
    s
}

fn take(rest: &mut Vec<String>, flag: &str) -> Result<String, String> {
    let i = rest
        .iter()
        .position(|a| a == flag)
        .ok_or(format!("{flag} is required"))?;
    let v = rest
        .get(i + 1)
        .cloned()
        .ok_or(format!("{flag} needs a value"))?;
    rest.drain(i..=i + 1);
    Ok(v)
}

fn no_more(rest: &[String]) -> Result<(), String> {
    match rest.first() {
        Some(a) => Err(format!("unexpected argument `{a}`")),
        None => Ok(()),
    }
}

fn open_store(cfg: &Config) -> Result<Arc<Store>, String> {
    Store::open(&cfg.data_dir, &StoreOptions::default())
        .map(Arc::new)
        .map_err(|e| e.message)
}

/// The export holds password hashes: only its owner may read it.
fn write_private(path: &str, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}

fn real(args: Vec<String>) -> Result<(), (u8, String)> {
    let usage_err = |m: String| (2u8, format!("{m}\n\n{}", usage()));
    let Some(cmd) = args.first().cloned() else {
        return Err(usage_err("no command given".into()));
    };
    if cmd == "version" || cmd == "--version" {
        println!("vdi-appliance {}", env!("CARGO_PKG_VERSION"));
        return Ok(());
    }
    if cmd == "help" || cmd == "--help" || cmd == "-h" {
        print!("{}", usage());
        return Ok(());
    }
    let (cfg, mut rest) = Config::from_args(&args[1..]).map_err(usage_err)?;
    logging::init(cfg.level().map_err(usage_err)?);
    let fail = |m: String| (1u8, m);
    match cmd.as_str() {
        "serve" => {
            no_more(&rest).map_err(usage_err)?;
            let backends = app::real_backends(&cfg).map_err(|e| fail(e.message))?;
            let again = vdi_appliance::run(cfg, backends, tasks::builtin_owners())
                .map_err(|e| fail(e.message))?;
            if again {
                // Same process id (systemd keeps watching it), new role.
                use std::os::unix::process::CommandExt;
                let e = std::process::Command::new("/proc/self/exe")
                    .args(std::env::args_os().skip(1))
                    .exec();
                return Err(fail(format!("cannot start again in the new role: {e}")));
            }
            Ok(())
        }
        "node-probe" | "node-join" | "node-leave" => {
            no_more(&rest).map_err(usage_err)?;
            let out = match cmd.as_str() {
                "node-probe" => compute::cli::node_probe(&cfg),
                "node-join" => compute::cli::node_join(&cfg),
                _ => compute::cli::node_leave(&cfg),
            }
            .map_err(|e| fail(e.message))?;
            println!("{out}");
            Ok(())
        }
        "init" => {
            let file = take(&mut rest, "--answer-file").map_err(usage_err)?;
            no_more(&rest).map_err(usage_err)?;
            let text = std::fs::read_to_string(&file)
                .map_err(|e| fail(format!("cannot read {file}: {e}")))?;
            let store = open_store(&cfg).map_err(fail)?;
            let backends = app::real_backends(&cfg).map_err(|e| fail(e.message))?;
            let services = app::services(store, &backends, cfg.settings(), app::global_spawner());
            // A run killed earlier is finished or undone first.
            let r = smol::block_on(async {
                tasks::recover_all(&services, &tasks::builtin_owners()).await?;
                firstboot::init_from_answers(&services, &text).await
            });
            services
                .store
                .flush_blocking()
                .map_err(|e| fail(e.message))?;
            match r {
                Ok(lines) => {
                    for l in lines {
                        println!("{l}");
                    }
                    Ok(())
                }
                Err(e) => Err(fail(format!("{file}: {}", e.message))),
            }
        }
        "admin" => {
            if rest.first().map(String::as_str) != Some("set-password") {
                return Err(usage_err(
                    "admin: the only subcommand is set-password".into(),
                ));
            }
            rest.remove(0);
            let name = take(&mut rest, "--name").map_err(usage_err)?;
            let mut password = take(&mut rest, "--password").map_err(usage_err)?;
            if password == "-" {
                // Keeps the password out of argv and shell history.
                password.clear();
                std::io::stdin()
                    .read_line(&mut password)
                    .map_err(|e| fail(format!("cannot read the password: {e}")))?;
                password = password.trim_end_matches(['\r', '\n']).to_string();
            }
            no_more(&rest).map_err(usage_err)?;
            let store = open_store(&cfg).map_err(fail)?;
            let (backends, _, _) = app::fake_backends();
            let services = app::services(store, &backends, cfg.settings(), app::global_spawner());
            let created = services
                .admin_set_password(&name, &password)
                .map_err(|e| fail(e.message))?;
            println!(
                "admin `{name}` {}",
                if created {
                    "created"
                } else {
                    "password changed; its sessions are revoked"
                }
            );
            Ok(())
        }
        "export" => {
            let out = take(&mut rest, "--out").map_err(usage_err)?;
            no_more(&rest).map_err(usage_err)?;
            let store = open_store(&cfg).map_err(fail)?;
            let text = store.export_json().map_err(|e| fail(e.message))?;
            write_private(&out, &text).map_err(|e| fail(format!("cannot write {out}: {e}")))?;
            println!("store exported to {out}");
            Ok(())
        }
        "import" => {
            let input = take(&mut rest, "--in").map_err(usage_err)?;
            no_more(&rest).map_err(usage_err)?;
            let text = std::fs::read_to_string(&input)
                .map_err(|e| fail(format!("cannot read {input}: {e}")))?;
            let store = open_store(&cfg).map_err(fail)?;
            store.import_json(&text).map_err(|e| fail(e.message))?;
            println!("store imported from {input}");
            Ok(())
        }
        other => Err(usage_err(format!("unknown command `{other}`"))),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match real(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, msg)) => {
            eprintln!("vdi-appliance: {msg}");
            ExitCode::from(code)
        }
    }
}
