//! The generic web query of file 001 ("通用查询方法"): `searchtype`, field
//! filters and paging, parsed from the query string's pairs.

use crate::error::{Code, Error, Result};

pub const DEFAULT_PAGE_SIZE: usize = 20;
pub const MAX_PAGE_SIZE: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchType {
    /// Every record; filters compare with `=`.
    All,
    /// Filters are case-insensitive substrings (`LIKE %value%`).
    Contain,
    /// Filters compare with `=`; only the first match is returned, as an object.
    Single,
}

/// How a range filter compares a row's value with the given one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Range {
    Gte,
    Gt,
    Lte,
    Lt,
}

impl Range {
    /// Splits `field__gte` into `field` and its comparison.
    pub fn split(key: &str) -> Option<(&str, Range)> {
        for (suffix, r) in [
            ("__gte", Range::Gte),
            ("__gt", Range::Gt),
            ("__lte", Range::Lte),
            ("__lt", Range::Lt),
        ] {
            if let Some(f) = key.strip_suffix(suffix) {
                if !f.is_empty() {
                    return Some((f, r));
                }
            }
        }
        None
    }

    /// Whether `ord` (the row's value against the given one) passes.
    pub fn admits(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Range::Gte => ord != Less,
            Range::Gt => ord == Greater,
            Range::Lte => ord != Greater,
            Range::Lt => ord == Less,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub search: SearchType,
    pub filters: Vec<(String, String)>,
    /// 1-based.
    pub page: usize,
    pub page_size: usize,
    /// Range filters, Django's lookups as file 001's framework spells them:
    /// `created_at__gte=2026-12-04`, `percent__lt=50`. Numbers compare as
    /// numbers, text (the UTC times among them) in byte order.
    pub ranges: Vec<(String, Range, String)>,
    /// `ordering=-id` (or `-created_at`): newest first, the reverse of the
    /// listing's own order (by id, which is creation order).
    pub newest_first: bool,
}

impl Query {
    /// How many matches come before the requested page: `(page - 1) ×
    /// page_size`, saturating (a huge `page` is an empty page, never an
    /// overflow). Every paged listing uses this.
    pub fn offset(&self) -> usize {
        self.page.saturating_sub(1).saturating_mul(self.page_size)
    }
}

/// Parses decoded `key=value` pairs. Reserved keys: `searchtype`, `page`,
/// `page_size` (a record field named `page` therefore cannot be filtered, as
/// the specification says).
pub fn parse(pairs: &[(String, String)]) -> Result<Query> {
    let mut search = SearchType::All;
    let mut page = 1usize;
    let mut page_size = DEFAULT_PAGE_SIZE;
    let mut filters = Vec::new();
    let mut newest_first = false;
    let mut ranges = Vec::new();
    for (k, v) in pairs {
        match k.as_str() {
            "searchtype" => {
                search = match v.as_str() {
                    "all" | "" => SearchType::All,
                    "contain" => SearchType::Contain,
                    "single" => SearchType::Single,
                    other => {
                        return Err(Error::new(
                            Code::QueryInvalid,
                            format!(
                                "Query `searchtype`: `{other}` is not one of all, contain, single"
                            ),
                        ))
                    }
                }
            }
            "ordering" => {
                newest_first = match v.as_str() {
                    "id" | "created_at" | "" => false,
                    "-id" | "-created_at" => true,
                    other => {
                        return Err(Error::new(
                            Code::QueryInvalid,
                            format!(
                                "Query `ordering`: `{other}` is not one of id, -id, created_at, -created_at"
                            ),
                        ))
                    }
                }
            }
            "page" => page = positive("page", v, usize::MAX)?,
            "page_size" => page_size = positive("page_size", v, MAX_PAGE_SIZE)?,
            "" => {}
            _ => {
                if v.contains('\0') {
                    return Err(Error::new(
                        Code::QueryInvalid,
                        format!("Query `{k}`: value contains a NUL character"),
                    ));
                }
                match Range::split(k) {
                    Some((f, r)) => ranges.push((f.to_string(), r, v.clone())),
                    None => filters.push((k.clone(), v.clone())),
                }
            }
        }
    }
    if filters.is_empty() && search != SearchType::All {
        return Err(Error::new(
            Code::QueryFilterRequired,
            "Query: `searchtype=contain` and `searchtype=single` need a field filter such as `name=...`",
        ));
    }
    Ok(Query {
        search,
        filters,
        page,
        page_size,
        ranges,
        newest_first,
    })
}

fn positive(field: &str, v: &str, max: usize) -> Result<usize> {
    match v.parse::<usize>() {
        Ok(n) if n >= 1 && n <= max => Ok(n),
        _ => Err(Error::new(
            Code::QueryInvalid,
            format!("Query `{field}`: `{v}` is not a whole number from 1 to {max}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &[(&str, &str)]) -> Result<Query> {
        let v: Vec<_> = s
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        parse(&v)
    }

    #[test]
    fn defaults() {
        let q = p(&[]).unwrap();
        assert_eq!(q.search, SearchType::All);
        assert_eq!((q.page, q.page_size), (1, DEFAULT_PAGE_SIZE));
        assert!(q.filters.is_empty());
    }

    #[test]
    fn filters_and_paging() {
        let q = p(&[
            ("searchtype", "contain"),
            ("name", "te"),
            ("page", "2"),
            ("page_size", "5"),
        ])
        .unwrap();
        assert_eq!(q.search, SearchType::Contain);
        assert_eq!(q.filters, vec![("name".to_string(), "te".to_string())]);
        assert_eq!((q.page, q.page_size), (2, 5));
    }

    #[test]
    fn offsets_saturate() {
        let q = p(&[("page", &usize::MAX.to_string()), ("page_size", "1000")]).unwrap();
        assert_eq!(q.offset(), usize::MAX);
        assert_eq!(
            p(&[("page", "3"), ("page_size", "5")]).unwrap().offset(),
            10
        );
        assert_eq!(p(&[]).unwrap().offset(), 0);
    }

    #[test]
    fn errors_name_the_parameter() {
        assert!(p(&[("searchtype", "fuzzy")])
            .unwrap_err()
            .message
            .contains("searchtype"));
        assert!(p(&[("page", "0")]).unwrap_err().message.contains("`page`"));
        assert!(p(&[("page", "-1")]).is_err());
        assert!(p(&[("page_size", "1001")])
            .unwrap_err()
            .message
            .contains("page_size"));
        assert_eq!(
            p(&[("searchtype", "single")]).unwrap_err().code,
            Code::QueryFilterRequired
        );
        assert_eq!(
            p(&[("searchtype", "contain")]).unwrap_err().code,
            Code::QueryFilterRequired
        );
    }
}
