//! Tests of the generic web query (search, filters, ranges, ordering, paging).
use super::*;
use crate::domain::query::parse;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};

/// Record `n`: created at second `n`, never changed, no uuid of its own.
fn base(n: u64) -> Base {
    Base {
        id: n,
        uuid: None,
        created_at: n as i64 * 1000,
        updated_at: None,
    }
}

struct Ctx {
    gen: AtomicU64,
    rows: RwLock<Vec<Value>>,
}

fn engine() -> (QueryEngine<Ctx>, Ctx) {
    let mut e = QueryEngine::default();
    e.register(Listing {
        name: "thing",
        fields: &["uuid", "name", "default", "ram", "tags"],
        generation: |c: &Ctx| c.gen.load(Ordering::SeqCst),
        load: |c: &Ctx, sink: &mut Sink<'_>| {
            c.rows
                .read()
                .unwrap()
                .iter()
                .enumerate()
                .for_each(|(i, v)| sink(base(i as u64 + 1), v.clone()));
            Ok(())
        },
    });
    let rows = vec![
        json!({"uuid":"u1","name":"Teach-A","default":true,"ram":2.0,"tags":["x"]}),
        json!({"uuid":"u2","name":"teach-b","default":false,"ram":4}),
        json!({"uuid":"u3","name":"office","default":false,"ram":2}),
    ];
    let c = Ctx {
        gen: AtomicU64::new(1),
        rows: RwLock::new(rows),
    };
    (e, c)
}

fn q(s: &[(&str, &str)]) -> Query {
    parse(
        &s.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>(),
    )
    .unwrap()
}

fn rows(a: &Answer) -> Vec<Value> {
    match a {
        Answer::Page { rows, .. } => serde_json::from_str(rows).unwrap(),
        Answer::Single(r) => vec![serde_json::from_str(r).unwrap()],
    }
}

fn names(a: Answer) -> Vec<String> {
    rows(&a)
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn all_contain_single() {
    let (e, c) = engine();
    assert_eq!(
        names(e.run(&c, "thing", &q(&[])).unwrap()),
        ["Teach-A", "teach-b", "office"]
    );
    assert_eq!(
        names(
            e.run(
                &c,
                "thing",
                &q(&[("searchtype", "contain"), ("name", "TEACH")])
            )
            .unwrap()
        ),
        ["Teach-A", "teach-b"]
    );
    assert_eq!(
        names(e.run(&c, "thing", &q(&[("name", "teach-b")])).unwrap()),
        ["teach-b"]
    );
    assert_eq!(
        names(
            e.run(&c, "thing", &q(&[("searchtype", "single"), ("ram", "2")]))
                .unwrap()
        ),
        ["Teach-A"]
    );
    assert_eq!(
        names(e.run(&c, "thing", &q(&[("default", "1")])).unwrap()),
        ["Teach-A"]
    );
    assert_eq!(
        names(
            e.run(&c, "thing", &q(&[("default", "false"), ("ram", "2")]))
                .unwrap()
        ),
        ["office"]
    );
    let err = e
        .run(
            &c,
            "thing",
            &q(&[("searchtype", "single"), ("name", "zzz")]),
        )
        .unwrap_err();
    assert_eq!(err.code, Code::QueryNoMatch);
}

#[test]
fn unknown_field_is_named() {
    let (e, c) = engine();
    let err = e.run(&c, "thing", &q(&[("colour", "red")])).unwrap_err();
    assert_eq!(err.code, Code::QueryUnknownField);
    assert!(err.message.contains("`colour`"));
}

#[test]
fn newest_first_reverses_and_pages_from_the_end() {
    let (e, c) = engine();
    let a = e
        .run(&c, "thing", &q(&[("ordering", "-id"), ("page_size", "2")]))
        .unwrap();
    let ids: Vec<i64> = rows(&a).iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [3, 2]);
    let a = e.run(&c, "thing", &q(&[("ordering", "id")])).unwrap();
    let ids: Vec<i64> = rows(&a).iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [1, 2, 3]);
    let err = crate::domain::query::parse(&[("ordering".into(), "name".into())]).unwrap_err();
    assert!(err.message.contains("`ordering`"), "{err:?}");
}

#[test]
fn range_filters_compare_numbers_and_times() {
    let (e, c) = engine();
    let ids =
        |a: Answer| -> Vec<i64> { rows(&a).iter().map(|r| r["id"].as_i64().unwrap()).collect() };
    assert_eq!(
        ids(e.run(&c, "thing", &q(&[("ram__gte", "2")])).unwrap()),
        ids(e.run(&c, "thing", &q(&[("ram__gt", "1.5")])).unwrap())
    );
    let all = ids(e.run(&c, "thing", &q(&[])).unwrap());
    let early = ids(e
        .run(
            &c,
            "thing",
            &q(&[("created_at__lt", "1970-01-01 00:00:03")]),
        )
        .unwrap());
    assert_eq!(early, [1, 2]);
    let late = ids(e
        .run(
            &c,
            "thing",
            &q(&[("created_at__gte", "1970-01-01 00:00:03")]),
        )
        .unwrap());
    assert_eq!(late, [3]);
    assert_eq!(all.len(), early.len() + late.len());
    let day = ids(e
        .run(
            &c,
            "thing",
            &q(&[
                ("created_at__gte", "1970-01-01"),
                ("created_at__lt", "1970-01-02"),
            ]),
        )
        .unwrap());
    assert_eq!(day, all);
    let err = e.run(&c, "thing", &q(&[("colour__gte", "1")])).unwrap_err();
    assert!(err.message.contains("`colour__…`"), "{err:?}");
}

#[test]
fn paging_edges() {
    let (e, c) = engine();
    let a = e
        .run(&c, "thing", &q(&[("page", "2"), ("page_size", "2")]))
        .unwrap();
    assert!(matches!(
        a,
        Answer::Page {
            count: 3,
            returned: 1,
            ..
        }
    ));
    assert_eq!(
        rows(&a),
        vec![
            json!({"id": 3, "uuid":"u3","created_at": "1970-01-01 00:00:03", "updated_at": null,
                    "deleted": false, "deleted_at": null,
                    "name":"office","default":false,"ram":2,"tags":null})
        ]
    );
    let a = e
        .run(&c, "thing", &q(&[("page", "9"), ("page_size", "2")]))
        .unwrap();
    assert_eq!(
        a,
        Answer::Page {
            count: 3,
            returned: 0,
            rows: "[]".into()
        }
    );
    // Nested values and escapes survive the direct rendering.
    let a = e
        .run(&c, "thing", &q(&[("searchtype", "single"), ("uuid", "u1")]))
        .unwrap();
    assert_eq!(rows(&a)[0]["tags"], json!(["x"]));
}

#[test]
fn snapshot_follows_generation() {
    let (e, c) = engine();
    let found = || {
        names(
            e.run(
                &c,
                "thing",
                &q(&[("searchtype", "contain"), ("name", "new")]),
            )
            .unwrap(),
        )
    };
    assert!(found().is_empty());
    c.rows
        .write()
        .unwrap()
        .push(json!({"uuid":"u4","name":"brand-new","default":false,"ram":1}));
    // Same generation: the snapshot is still the old one.
    assert!(found().is_empty());
    assert!(e.is_fresh(&c, "thing"));
    c.gen.store(2, Ordering::SeqCst);
    assert!(!e.is_fresh(&c, "thing"));
    assert_eq!(found(), ["brand-new"]);
    assert!(e.is_fresh(&c, "thing"));
}

#[test]
fn trigram_search_agrees_with_a_plain_scan() {
    let names: Vec<String> = (0..500u32)
        .map(|i| {
            format!(
                "{}-Room{}-{}",
                ["lab", "Office", "库房", "hall"][(i % 4) as usize],
                i % 37,
                i * 7919 % 1000
            )
        })
        .collect();
    let snap = Snapshot::build(&["name"], 1, |sink| {
        names
            .iter()
            .for_each(|n| sink(base(1), json!({ "name": n })));
        Ok(())
    })
    .unwrap();
    for needle in [
        "room1",
        "ROOM1-",
        "库房-r",
        "-9",
        "o",
        "lab-room3-",
        "zz",
        "fice-room36-9",
        "ffi",
        "Room12-",
        "房",
    ] {
        let want: Vec<u32> = names
            .iter()
            .enumerate()
            .filter(|(_, n)| fold(n).contains(&fold(needle)))
            .map(|(i, _)| i as u32)
            .collect();
        assert_eq!(snap.contain(0, needle), want, "needle {needle}");
    }
}

#[test]
fn substring_never_spans_rows() {
    let (e, c) = engine();
    // "b" ends row 2 and "o" starts row 3: "bo" must not match across them.
    let a = e
        .run(
            &c,
            "thing",
            &q(&[("searchtype", "contain"), ("name", "bo")]),
        )
        .unwrap();
    assert_eq!(names(a).len(), 0);
}
