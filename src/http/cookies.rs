//! Auth cookies of docs/api.md §1.9: exact attribute order, session cookies, configurable Secure/SameSite.

use axum::http::{HeaderMap, HeaderValue, header};

use crate::config::{Config, SameSite};

pub const ACCESS_COOKIE: &str = "accessToken";
pub const REFRESH_COOKIE: &str = "refreshToken";

fn attributes(config: &Config) -> String {
    let mut attrs = String::from("; Path=/");
    if config.cookie_secure {
        attrs.push_str("; HttpOnly; Secure");
    } else {
        attrs.push_str("; HttpOnly");
    }
    match config.cookie_same_site {
        Some(SameSite::Lax) => attrs.push_str("; SameSite=Lax"),
        Some(SameSite::Strict) => attrs.push_str("; SameSite=Strict"),
        Some(SameSite::None) => attrs.push_str("; SameSite=None"),
        None => {}
    }
    attrs
}

fn push(headers: &mut HeaderMap, cookie: String) {
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        headers.append(header::SET_COOKIE, value);
    }
}

/// Both token cookies plus `Cache-Control: no-store`.
pub fn set_tokens(config: &Config, access: &str, refresh: &str) -> HeaderMap {
    let attrs = attributes(config);
    let mut headers = HeaderMap::new();
    push(&mut headers, format!("{ACCESS_COOKIE}={access}{attrs}"));
    push(&mut headers, format!("{REFRESH_COOKIE}={refresh}{attrs}"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers
}

/// Clears both token cookies.
pub fn clear_tokens(config: &Config) -> HeaderMap {
    let attrs = attributes(config).replacen("; Path=/", "; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT", 1);
    let mut headers = HeaderMap::new();
    push(&mut headers, format!("{ACCESS_COOKIE}={attrs}"));
    push(&mut headers, format!("{REFRESH_COOKIE}={attrs}"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers
}

/// The value of a request cookie, from any `Cookie` header.
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"').to_owned())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Config {
        Config::from_vars(&pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<HashMap<_, _>>())
            .unwrap()
    }

    #[test]
    fn set_and_clear_follow_the_contract_format() {
        let headers = set_tokens(&config(&[]), "a.b.c", "d.e.f");
        let cookies: Vec<_> = headers.get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap()).collect();
        assert_eq!(
            cookies,
            ["accessToken=a.b.c; Path=/; HttpOnly; Secure", "refreshToken=d.e.f; Path=/; HttpOnly; Secure"]
        );
        let headers = clear_tokens(&config(&[("COOKIE_SECURE", "false"), ("COOKIE_SAMESITE", "Lax")]));
        let cleared: Vec<_> = headers.get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap()).collect();
        assert_eq!(cleared[0], "accessToken=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax");
    }

    #[test]
    fn reads_a_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; accessToken=tok; b=2"));
        assert_eq!(read(&headers, "accessToken").as_deref(), Some("tok"));
        assert_eq!(read(&headers, "refreshToken"), None);
    }
}
