//! Pagination: the lenient number parsing of the original API and the pagination object it returns.

use serde::Serialize;

/// The longest prefix of optional whitespace, an optional sign and decimal digits; `None` without digits.
/// Saturates instead of overflowing, so absurd inputs still give a usable bound.
pub fn parse_lenient_int(raw: &str) -> Option<i64> {
    let s = raw.trim_start();
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let digits: &str = &digits[..digits.bytes().take_while(u8::is_ascii_digit).count()];
    if digits.is_empty() {
        return None;
    }
    let magnitude = digits.bytes().fold(0i64, |acc, d| acc.saturating_mul(10).saturating_add(i64::from(d - b'0')));
    Some(if negative { -magnitude } else { magnitude })
}

/// A validated page request: `page` ≥ 1, 1 ≤ `limit` ≤ the configured maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub limit: u32,
}

impl PageRequest {
    pub fn parse(page: Option<&str>, limit: Option<&str>, limit_max: u32) -> Self {
        let page = match page.and_then(parse_lenient_int).map(i64::unsigned_abs) {
            None | Some(0) => 1,
            Some(p) => p.min(i32::MAX as u64) as u32,
        };
        let limit = match limit.and_then(parse_lenient_int) {
            Some(l) if l > 0 => l.min(i64::from(limit_max)) as u32,
            _ => 10u32.min(limit_max),
        };
        PageRequest { page, limit }
    }

    pub fn offset(self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.limit)
    }
}

/// The pagination object of docs/api.md §1.6 (keys in documented order).
#[derive(Serialize, utoipa::ToSchema, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub docs: Vec<T>,
    pub total_docs: u64,
    pub limit: u32,
    pub page: u32,
    pub total_pages: u64,
    pub paging_counter: u64,
    pub has_prev_page: bool,
    pub has_next_page: bool,
    pub prev_page: Option<u32>,
    pub next_page: Option<u64>,
}

impl<T> Page<T> {
    pub fn new(docs: Vec<T>, total_docs: u64, req: PageRequest) -> Self {
        let limit = u64::from(req.limit);
        let total_pages = if total_docs == 0 { 1 } else { total_docs.div_ceil(limit) };
        let page = u64::from(req.page);
        Page {
            docs,
            total_docs,
            limit: req.limit,
            page: req.page,
            total_pages,
            paging_counter: req.offset() + 1,
            has_prev_page: page > 1,
            has_next_page: page < total_pages,
            prev_page: (page > 1).then(|| req.page - 1),
            next_page: (page < total_pages).then_some(page + 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_parsing_takes_the_numeric_prefix() {
        assert_eq!(parse_lenient_int("2abc"), Some(2));
        assert_eq!(parse_lenient_int("1e3"), Some(1));
        assert_eq!(parse_lenient_int("  -7"), Some(-7));
        assert_eq!(parse_lenient_int("+4"), Some(4));
        assert_eq!(parse_lenient_int("abc"), None);
        assert_eq!(parse_lenient_int("-"), None);
        assert_eq!(parse_lenient_int(""), None);
        assert_eq!(parse_lenient_int("99999999999999999999999"), Some(i64::MAX));
    }

    #[test]
    fn page_and_limit_follow_the_contract_rules() {
        let p = |page, limit| PageRequest::parse(page, limit, 100);
        assert_eq!(p(None, None), PageRequest { page: 1, limit: 10 });
        assert_eq!(p(Some("-3"), Some("0")), PageRequest { page: 3, limit: 10 });
        assert_eq!(p(Some("0"), Some("-5")), PageRequest { page: 1, limit: 10 });
        assert_eq!(p(Some("x"), Some("1000000")), PageRequest { page: 1, limit: 100 });
        assert_eq!(p(Some("99999999999"), Some("7")).page, 2_147_483_647);
    }

    #[test]
    fn past_the_end_page_matches_the_contract_example() {
        let page = Page::<u8>::new(vec![], 3, PageRequest { page: 5, limit: 10 });
        let json = serde_json::to_value(&page).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"docs": [], "totalDocs": 3, "limit": 10, "page": 5, "totalPages": 1,
                "pagingCounter": 41, "hasPrevPage": true, "hasNextPage": false, "prevPage": 4, "nextPage": null})
        );
    }

    #[test]
    fn empty_result_has_one_page() {
        let page = Page::<u8>::new(vec![], 0, PageRequest { page: 1, limit: 10 });
        assert_eq!(page.total_pages, 1);
        assert!(!page.has_next_page);
        assert_eq!(page.next_page, None);
    }

    proptest::proptest! {
        #[test]
        fn any_input_gives_a_valid_page_request(page in ".{0,12}", limit in ".{0,12}", max in 1u32..500) {
            let req = PageRequest::parse(Some(&page), Some(&limit), max);
            proptest::prop_assert!(req.page >= 1);
            proptest::prop_assert!(req.limit >= 1 && req.limit <= max);
        }

        #[test]
        fn numeric_prefixes_are_honoured(n in 1i64..100_000, suffix in "[a-z.]{0,4}") {
            let req = PageRequest::parse(Some(&format!("{n}{suffix}")), Some(&format!("-{n}{suffix}")), 100);
            proptest::prop_assert_eq!(i64::from(req.page), n);
            proptest::prop_assert_eq!(req.limit, 10);
        }

        #[test]
        fn page_object_is_consistent(total in 0u64..10_000, page in 1u32..200, limit in 1u32..100) {
            let p = Page::<u8>::new(vec![], total, PageRequest { page, limit });
            proptest::prop_assert!(p.total_pages >= 1);
            proptest::prop_assert_eq!(p.has_next_page, u64::from(page) < p.total_pages);
            proptest::prop_assert_eq!(p.paging_counter, u64::from(page - 1) * u64::from(limit) + 1);
        }
    }
}
