//! TF_LOG=TRACE must show what the provider does, never its secrets.

use crate::harness::Scenario;

#[test]
fn trace_logs_show_the_provider_at_work_but_no_secret() {
    let s = Scenario::new().with_trace_log();
    s.config(&format!(
        r#"
resource "parallel_api_key" "main" {{
  app_id       = "{}"
  api_key_name = "logged"
}}

output "key" {{
  value     = parallel_api_key.main.raw_api_key
  sensitive = true
}}
"#,
        s.app_id()
    ));
    s.apply();
    let key = s.only_live_key();

    let log = s.log_text();
    // Without these the secret check below would prove nothing: the log
    // really holds the provider's own lines, from both resource operations
    // and the HTTP layer, at TRACE.
    for expected in [
        "provider.terraform-provider-parallel",
        "creating API key",
        "Parallel API call",
        "Parallel API request",
        "Parallel API response",
        &key.api_key_id,
    ] {
        assert!(
            log.contains(expected),
            "the TF_LOG=TRACE file lacks {expected:?}; {} bytes of log",
            log.len()
        );
    }
    s.assert_no_secrets("the TF_LOG=TRACE file after apply", &log);
    // The create answer is logged with its member names and its values
    // masked (ids and names excepted).
    let answer = log
        .lines()
        .find(|line| line.contains("Parallel API response") && line.contains("status=200"))
        .expect("the create answer is logged");
    for name in ["created_by_user_email", "raw_api_key", "api_key_id"] {
        assert!(answer.contains(name), "{name} missing: {answer}");
    }
    assert!(
        !answer.contains(&key.created_by_user_email),
        "values are masked: {answer}"
    );

    s.destroy();
    let log = s.log_text();
    assert!(log.contains("revoking API key"), "the revoke is logged too");
    // `finish` checks the whole log again, destroy included.
    s.finish();
}
