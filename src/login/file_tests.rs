//! Reading, selecting, expiring and merging saved logins.

use super::*;
use serde_json::json;

const NOW: i64 = 1_800_000_000;

fn file(value: Value) -> AuthFile {
    AuthFile::parse(value.to_string().as_bytes()).expect("an object")
}

fn cli_file(access_expires_at: i64) -> Value {
    json!({
        "version": 1,
        "selected_org_id": "org-a",
        "client_id": "client-1",
        "future_field": {"kept": [1, 2, 3]},
        "orgs": {
            "org-a": {
                "api_key": "data-api-key-a",
                "org_name": "Acme",
                "control_api": {
                    "access_token": "at-a",
                    "access_token_expires_at": access_expires_at,
                    "access_token_scopes": ["apps:read"],
                    "refresh_token": "rt-a",
                    "refresh_token_expires_at": NOW + 86_400,
                    "authorization_expires_at": NOW + 86_400,
                    "unknown_token_field": "stays"
                }
            },
            "org-b": {"api_key": "data-api-key-b", "org_name": "Beta", "control_api": {}}
        }
    })
}

fn grant() -> Grant {
    Grant {
        access_token: Secret::new("at-new"),
        refresh_token: Some(Secret::new("rt-new")),
        expires_in: Some(600),
        refresh_token_expires_in: Some(1000),
        authorization_expires_in: None,
        scope: Some("apps:read keys:create".into()),
        org_id: Some("org-a".into()),
    }
}

#[test]
fn the_selected_org_is_used_unless_org_id_says_otherwise() {
    let auth = file(cli_file(NOW + 3600));
    let login = auth.select(None).unwrap();
    assert_eq!(login.org_id, "org-a");
    assert_eq!(login.client_id.as_deref(), Some("client-1"));
    assert_eq!(login.access_token_expires_at, Some(NOW + 3600));
    assert!(matches!(
        auth.select(Some("org-b")),
        Err(Problem::NoTokens { .. })
    ));

    let Err(problem) = auth.select(Some("org-z")) else {
        panic!("org-z is not in the file");
    };
    let text = problem.to_string();
    assert!(text.contains("\"org-z\""), "{text}");
    assert!(text.contains("Acme (org-a), Beta (org-b)"), "{text}");
}

#[test]
fn without_a_usable_selection_the_orgs_are_listed() {
    let mut value = cli_file(NOW);
    value["selected_org_id"] = json!("gone");
    let text = file(value).select(None).unwrap_err().to_string();
    assert!(
        text.contains("set org_id to one of: Acme (org-a)"),
        "{text}"
    );
}

#[test]
fn a_fresh_token_is_used_and_one_expiring_within_the_margin_refreshed() {
    let login = file(cli_file(NOW + 61)).select(None).unwrap();
    assert!(matches!(login.verdict(NOW, 60), Verdict::Use(t) if t.expose() == "at-a"));
    let login = file(cli_file(NOW + 60)).select(None).unwrap();
    let Verdict::Refresh {
        refresh_token,
        client_id,
    } = login.verdict(NOW, 60)
    else {
        panic!("expiring within 60 s");
    };
    assert_eq!(
        (refresh_token.expose(), client_id.as_str()),
        ("rt-a", "client-1")
    );
    let login = file(cli_file(NOW - 5)).select(None).unwrap();
    assert!(matches!(login.verdict(NOW, 60), Verdict::Refresh { .. }));
}

#[test]
fn an_expired_authorization_or_refresh_token_is_an_expired_login() {
    let mut value = cli_file(NOW + 3600);
    value["orgs"]["org-a"]["control_api"]["authorization_expires_at"] = json!(NOW);
    let login = file(value).select(None).unwrap();
    assert!(matches!(
        login.verdict(NOW, 60),
        Verdict::Expired(Expired::Authorization { at: NOW })
    ));

    let mut value = cli_file(NOW - 1);
    value["orgs"]["org-a"]["control_api"]["refresh_token_expires_at"] = json!(NOW - 1);
    let login = file(value).select(None).unwrap();
    assert!(matches!(
        login.verdict(NOW, 60),
        Verdict::Expired(Expired::RefreshToken { .. })
    ));

    let mut value = cli_file(NOW - 1);
    value["orgs"]["org-a"]["control_api"]["refresh_token"] = Value::Null;
    value["client_id"] = Value::Null;
    let login = file(value).select(None).unwrap();
    assert!(matches!(
        login.verdict(NOW, 60),
        Verdict::Expired(Expired::NoRefreshToken)
    ));
}

#[test]
fn a_missing_client_id_falls_back_to_the_cli_s() {
    let mut value = cli_file(NOW - 1);
    value["client_id"] = Value::Null;
    let login = file(value).select(None).unwrap();
    assert!(matches!(
        login.verdict(NOW, 60),
        Verdict::Refresh { client_id, .. } if client_id == FALLBACK_CLIENT_ID
    ));
}

#[test]
fn a_grant_changes_the_token_fields_and_nothing_else() {
    let before = cli_file(NOW - 1);
    let merged = file(before.clone())
        .with_grant("org-a", &grant(), NOW)
        .unwrap();
    let after: Value = serde_json::from_slice(&merged.to_bytes()).unwrap();

    let control = &after["orgs"]["org-a"]["control_api"];
    assert_eq!(control["access_token"], "at-new");
    assert_eq!(control["access_token_expires_at"], NOW + 600);
    assert_eq!(control["refresh_token"], "rt-new");
    assert_eq!(control["refresh_token_expires_at"], NOW + 1000);
    assert_eq!(
        control["access_token_scopes"],
        json!(["apps:read", "keys:create"])
    );

    // Everything else is as it was.
    let mut expected = before;
    for (field, value) in control.as_object().unwrap() {
        expected["orgs"]["org-a"]["control_api"][field] = value.clone();
    }
    assert_eq!(after, expected);
    assert_eq!(
        after["orgs"]["org-a"]["control_api"]["authorization_expires_at"],
        NOW + 86_400
    );
    assert_eq!(
        after["orgs"]["org-a"]["control_api"]["unknown_token_field"],
        "stays"
    );
    assert_eq!(after["future_field"], json!({"kept": [1, 2, 3]}));
    assert_eq!(after["orgs"]["org-b"]["api_key"], "data-api-key-b");
}

#[test]
fn a_refresh_token_that_did_not_rotate_stays() {
    let grant = Grant {
        refresh_token: None,
        refresh_token_expires_in: None,
        scope: None,
        ..grant()
    };
    let merged = file(cli_file(NOW - 1))
        .with_grant("org-a", &grant, NOW)
        .unwrap();
    let login = merged.select(None).unwrap();
    assert_eq!(
        login
            .refresh_token
            .map(|t| t.expose().to_owned())
            .as_deref(),
        Some("rt-a")
    );
    assert_eq!(login.access_token_expires_at, Some(NOW + 600));
}

#[test]
fn bad_content_is_described_without_quoting_it() {
    let err = AuthFile::parse(b"{\"access_token\": \"secret-value\"").unwrap_err();
    assert!(matches!(err, Problem::NotJson { line: 1, .. }), "{err:?}");
    assert!(!err.to_string().contains("secret-value"));
    assert_eq!(AuthFile::parse(b"[1]").unwrap_err(), Problem::NotAnObject);

    let mut value = cli_file(NOW);
    value["orgs"]["org-a"]["control_api"]["access_token_expires_at"] = json!("soon");
    let err = file(value).select(None).unwrap_err().to_string();
    assert!(
        err.contains("orgs.org-a.control_api.access_token_expires_at"),
        "{err}"
    );
    let err = file(json!({"orgs": 3})).select(Some("x")).unwrap_err();
    assert_eq!(err, malformed("orgs", "an object"));
}

#[test]
fn debug_shows_no_token() {
    let auth = file(cli_file(NOW));
    let login = auth.select(None).unwrap();
    let text = format!("{auth:?} {login:?} {:?}", login.verdict(NOW, 60));
    for secret in ["at-a", "rt-a", "data-api-key"] {
        assert!(!text.contains(secret), "{text}");
    }
}

#[test]
fn a_grant_keeps_the_rest_of_the_file_byte_for_byte() {
    // Numbers a float would change, keys out of order, an escape, odd
    // spacing: none of it is the provider's to rewrite.
    let before = r#"{"zeta": 123456789012345678901234567890, "version": 1,
    "ratio": 1e5,   "name": "caf\u00e9",
    "selected_org_id": "org-a", "client_id": "client-1",
    "orgs": {"org-a": {"api_key": "data-api-key-a", "control_api": {
        "refresh_token": "rt-a", "unknown_token_field": 1E-7,
        "access_token": "at-a", "access_token_expires_at": 1799999999
    }}}}"#;
    let merged = AuthFile::parse(before.as_bytes())
        .unwrap()
        .with_grant("org-a", &grant(), NOW)
        .unwrap();
    let after = String::from_utf8(merged.to_bytes()).unwrap();
    let expected = before
        .replace(r#""refresh_token": "rt-a""#, r#""refresh_token": "rt-new""#)
        .replace(r#""access_token": "at-a""#, r#""access_token": "at-new""#)
        .replace(
            r#""access_token_expires_at": 1799999999"#,
            &format!(
                "\"access_token_expires_at\": {},\n        \"refresh_token_expires_at\": {},\n        \
                 \"access_token_scopes\": [\"apps:read\",\"keys:create\"]",
                NOW + 600,
                NOW + 1000
            ),
        );
    assert_eq!(after, expected);
    let login = AuthFile::parse(after.as_bytes())
        .unwrap()
        .select(None)
        .unwrap();
    assert_eq!(login.refresh_token_expires_at, Some(NOW + 1000));
}
