//! Pagination: every collection answers one envelope, `{"items": [...], "next": "<cursor>"}`,
//! `next` being `null` on the last page.
//!
//! Pages are keyset pages, never `OFFSET` scans: each list has a stable order on a unique
//! key (usually its UUIDv7 id, which sorts by creation time; otherwise a timestamp and the
//! id), fetches `limit + 1` rows *after* the key the cursor carries, and answers `limit` of
//! them with a cursor holding the last one's key. A page deep in a million rows costs what
//! the first costs: an index range scan from the key.
//!
//! The cursor is opaque to clients: base64url of the key as JSON. It carries no secret and
//! nothing a caller could not read on the page itself, and it changes no authorisation: the
//! filters of the caller's own view apply to every page, whatever the cursor says.
//!
//! ```ignore
//! let page = PageRequest::from_query(&query)?;
//! let after: Option<ReferralId> = page.after()?;
//! let rows = store::list(conn, who, after, page.fetch())?;   // ORDER BY id DESC, LIMIT fetch
//! Ok(HttpResponse::Ok().json(page.page(rows, |r| r.id)))
//! ```

use std::collections::HashMap;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Serialize, de::DeserializeOwned};

use crate::problem::Problem;

/// How many items a page holds when the caller does not say.
pub const DEFAULT_LIMIT: i64 = 50;

/// The most items one page may hold (`limit` above it is a 422).
pub const MAX_LIMIT: i64 = 200;

/// One page of a collection.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// The items, in the collection's documented order.
    pub items: Vec<T>,
    /// The cursor of the next page (`?cursor=…`, with the same filters), or null on the last.
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// The same page with each item mapped (a row to its view).
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

/// The paging parameters every collection takes, for its OpenAPI document:
/// `params(PageParams, …)`.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// At most this many items (1 to 200, default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next` of the previous page; leave it out for the first.
    pub cursor: Option<String>,
}

/// The page a request asks for: how many items, and after which key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    limit: i64,
    cursor: Option<String>,
}

impl PageRequest {
    /// The first page of [`DEFAULT_LIMIT`] items.
    pub fn first() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            cursor: None,
        }
    }

    /// `limit` and `cursor` from a query string's parameters: 422 on `limit` (rule `range`)
    /// unless a whole number from 1 to [`MAX_LIMIT`]. The cursor is read by
    /// [`PageRequest::after`], when its key type is known.
    pub fn from_query(query: &HashMap<String, String>) -> Result<Self, Problem> {
        let limit = match query.get("limit") {
            None => DEFAULT_LIMIT,
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    Problem::invalid(
                        "limit",
                        "range",
                        format!("a whole number from 1 to {MAX_LIMIT}"),
                    )
                })?,
        };
        Ok(Self {
            limit,
            cursor: query.get("cursor").cloned(),
        })
    }

    /// The items a page holds.
    pub fn limit(&self) -> i64 {
        self.limit
    }

    /// The rows to fetch: one more than the page holds, to know whether there is a next.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// The key the page starts after, from the cursor (`None` on the first page); a cursor
    /// this list did not give is a 422 on `cursor` (rule `format`).
    pub fn after<K: DeserializeOwned>(&self) -> Result<Option<K>, Problem> {
        let Some(cursor) = &self.cursor else {
            return Ok(None);
        };
        URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .map(Some)
            .ok_or_else(|| {
                Problem::invalid(
                    "cursor",
                    "format",
                    "not a cursor of this list: pass the `next` of its previous page as it is",
                )
            })
    }

    /// The page of `rows` (fetched with [`PageRequest::fetch`], in the list's order): at most
    /// `limit` of them, and the cursor after the last when more were found.
    pub fn page<T, K: Serialize>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> K) -> Page<T> {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let next = if more {
            rows.last().map(|last| encode(&key(last)))
        } else {
            None
        };
        Page { items: rows, next }
    }
}

/// A cursor for `key`.
pub fn encode<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).expect("a cursor key is JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_walk_over_pages_sees_every_row_once() {
        let rows: Vec<i64> = (1..=7).collect();
        let mut seen = Vec::new();
        let mut q = query(&[("limit", "3")]);
        loop {
            let page = PageRequest::from_query(&q).unwrap();
            let after: Option<i64> = page.after().unwrap();
            let fetched: Vec<i64> = rows
                .iter()
                .copied()
                .filter(|r| after.is_none_or(|a| *r > a))
                .take(page.fetch() as usize)
                .collect();
            let p = page.page(fetched, |r| *r);
            assert!(p.items.len() <= 3);
            seen.extend(p.items);
            match p.next {
                Some(next) => {
                    q.insert("cursor".into(), next);
                }
                None => break,
            }
        }
        assert_eq!(seen, rows);
    }

    #[test]
    fn the_last_full_page_has_no_next() {
        let page = PageRequest::from_query(&query(&[("limit", "2")])).unwrap();
        assert_eq!(page.page(vec![1, 2], |r| *r).next, None);
        assert!(page.page(vec![1, 2, 3], |r| *r).next.is_some());
    }

    #[test]
    fn limits_and_cursors_are_checked() {
        for bad in ["0", "201", "ten", "-1"] {
            let p = PageRequest::from_query(&query(&[("limit", bad)])).unwrap_err();
            assert_eq!(
                (p.status, p.errors[0].field.as_str()),
                (422, "limit"),
                "{bad}"
            );
        }
        assert_eq!(
            PageRequest::from_query(&query(&[])).unwrap().limit(),
            DEFAULT_LIMIT
        );
        let p = PageRequest::from_query(&query(&[("cursor", "not a cursor!")])).unwrap();
        let e = p.after::<i64>().unwrap_err();
        assert_eq!((e.status, e.errors[0].rule.as_str()), (422, "format"));
    }
}
