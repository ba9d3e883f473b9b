//! Cloudinary request signatures and upload-result signatures (SHA-1 over sorted parameters + secret).

use sha1::{Digest, Sha1};

/// Signs request parameters as Cloudinary does: drop empty values and the unsigned keys, write
/// `key=value` (with `&` in values escaped), sort, join with `&`, append the secret, SHA-1 hex.
pub fn sign_params(params: &[(&str, String)], secret: &str) -> String {
    const UNSIGNED: [&str; 5] = ["file", "cloud_name", "resource_type", "api_key", "signature"];
    let mut pairs: Vec<String> = params
        .iter()
        .filter(|(k, v)| !v.is_empty() && !UNSIGNED.contains(k))
        .map(|(k, v)| format!("{k}={}", v.replace('&', "%26")))
        .collect();
    pairs.sort();
    sha1_hex(&format!("{}{secret}", pairs.join("&")))
}

/// The `signature` Cloudinary puts in an upload result: SHA-1 of `public_id=…&version=…` + secret.
pub fn result_signature(public_id: &str, version: i64, secret: &str) -> String {
    sha1_hex(&format!("public_id={public_id}&version={version}{secret}"))
}

fn sha1_hex(input: &str) -> String {
    hex::encode(Sha1::digest(input.as_bytes()))
}

/// Constant-time comparison of two hex signatures.
pub fn signatures_match(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_documented_test_vector() {
        let params = [("public_id", "sample_image".to_owned()), ("timestamp", "1315060510".to_owned())];
        assert_eq!(sign_params(&params, "abcd"), "b4ad47fb4e25c7bf5f92a20089f9db59bc302313");
    }

    #[test]
    fn unsigned_and_empty_parameters_do_not_change_the_signature() {
        let base = [("public_id", "sample_image".to_owned()), ("timestamp", "1315060510".to_owned())];
        let extra = [
            ("timestamp", "1315060510".to_owned()),
            ("api_key", "123".to_owned()),
            ("resource_type", "video".to_owned()),
            ("tags", String::new()),
            ("public_id", "sample_image".to_owned()),
        ];
        assert_eq!(sign_params(&base, "abcd"), sign_params(&extra, "abcd"));
        assert!(signatures_match(&sign_params(&base, "abcd"), "b4ad47fb4e25c7bf5f92a20089f9db59bc302313"));
        assert!(!signatures_match("ab", "abc"));
    }
}
