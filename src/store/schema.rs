//! The schema-version key and the ordered migrations that bring an older
//! store up to the version this binary writes. A newer store is refused.

use crate::error::{Error, Result};

pub const CURRENT: u32 = 1;
const KEY: &[u8] = b"schema_version";

/// One step: brings a store at `to - 1` to `to`. A step must be idempotent:
/// the version key is written after the step, so a crash in between runs
/// the step again at the next start.
pub struct Migration {
    pub to: u32,
    pub run: fn(&sled::Db) -> sled::Result<()>,
}

/// Schema 1 is the first layout: the trees are created on open, nothing to move.
fn init_v1(_db: &sled::Db) -> sled::Result<()> {
    Ok(())
}

pub const MIGRATIONS: &[Migration] = &[Migration {
    to: 1,
    run: init_v1,
}];

pub fn read_version(db: &sled::Db) -> Result<Option<u32>> {
    let meta = db.open_tree("meta").map_err(Error::store)?;
    match meta.get(KEY).map_err(Error::store)? {
        None => Ok(None),
        Some(v) => {
            let arr: [u8; 4] = v
                .as_ref()
                .try_into()
                .map_err(|_| Error::store("bad schema key"))?;
            Ok(Some(u32::from_be_bytes(arr)))
        }
    }
}

fn write_version(db: &sled::Db, v: u32) -> Result<()> {
    let meta = db.open_tree("meta").map_err(Error::store)?;
    meta.insert(KEY, &v.to_be_bytes()).map_err(Error::store)?;
    db.flush().map_err(Error::store)?;
    Ok(())
}

/// Runs every migration above the store's version, in order, up to `target`.
/// A store without a version key is version 0 (brand new).
pub fn migrate(db: &sled::Db, migrations: &[Migration], target: u32) -> Result<u32> {
    let have = read_version(db)?.unwrap_or(0);
    if have > target {
        return Err(Error::new(
            crate::error::Code::StoreUnavailable,
            format!("The store has schema version {have}; this binary understands up to {target}. Use a newer release."),
        ));
    }
    let mut at = have;
    for m in migrations.iter().filter(|m| m.to > have && m.to <= target) {
        if m.to != at + 1 {
            return Err(Error::store(format!(
                "migration gap: at {at}, next step goes to {}",
                m.to
            )));
        }
        (m.run)(db).map_err(Error::store)?;
        write_version(db, m.to)?;
        if have > 0 {
            log::info!("store migrated to schema version {}", m.to);
        }
        at = m.to;
    }
    if at != target {
        return Err(Error::store(format!(
            "no migration reaches schema version {target}"
        )));
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_db() -> sled::Db {
        sled::Config::new().temporary(true).open().unwrap()
    }

    fn add_x(db: &sled::Db) -> sled::Result<()> {
        db.open_tree("t")?.insert("x", "1")?;
        Ok(())
    }

    fn double_x(db: &sled::Db) -> sled::Result<()> {
        let t = db.open_tree("t")?;
        let v = t.get("x")?.unwrap();
        t.insert("x", [v.as_ref(), v.as_ref()].concat())?;
        Ok(())
    }

    const STEPS: &[Migration] = &[
        Migration { to: 1, run: add_x },
        Migration {
            to: 2,
            run: double_x,
        },
        Migration {
            to: 3,
            run: double_x,
        },
    ];

    #[test]
    fn runs_in_order_and_only_once() {
        let db = temp_db();
        assert_eq!(migrate(&db, STEPS, 2).unwrap(), 2);
        assert_eq!(
            db.open_tree("t")
                .unwrap()
                .get("x")
                .unwrap()
                .unwrap()
                .as_ref(),
            b"11"
        );
        assert_eq!(migrate(&db, STEPS, 3).unwrap(), 3);
        assert_eq!(
            db.open_tree("t")
                .unwrap()
                .get("x")
                .unwrap()
                .unwrap()
                .as_ref(),
            b"1111"
        );
        assert_eq!(migrate(&db, STEPS, 3).unwrap(), 3);
        assert_eq!(
            db.open_tree("t")
                .unwrap()
                .get("x")
                .unwrap()
                .unwrap()
                .as_ref(),
            b"1111"
        );
    }

    #[test]
    fn refuses_a_newer_store() {
        let db = temp_db();
        migrate(&db, STEPS, 3).unwrap();
        let e = migrate(&db, STEPS, 2).unwrap_err();
        assert!(e.message.contains("schema version 3"));
    }

    #[test]
    fn refuses_a_gap() {
        let db = temp_db();
        let gappy = &[
            Migration { to: 1, run: add_x },
            Migration {
                to: 3,
                run: double_x,
            },
        ];
        assert!(migrate(&db, gappy, 3).is_err());
    }
}
