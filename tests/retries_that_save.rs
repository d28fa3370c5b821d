//! A retry storm whose retries save every message is not told to turn retries off (the sixth
//! review's `sixth_lastretry`: a flaky payment gateway; every retried charge succeeded on its
//! last allowed attempt). Retries that recover a call but spend the message's deadline
//! (`deadline_retries`) keep the old advice. Truth from the captures' `.expected.json`.

mod common;

use common::*;

#[test]
fn retries_that_save_every_message_are_kept_not_disabled() {
    let truth = fixture_json("review/sixth_lastretry.expected.json");
    // Everything succeeded, and without retries the retried messages would have failed.
    assert_eq!(truth["statuses"]["succeeded"], truth["traces"]);
    let saved = truth["would_fail_with_max_retries"]["0"].as_u64().unwrap();
    assert!(saved > 0);
    let path = fixture_arg("review/sixth_lastretry.jsonl");
    for subcommand in ["classify", "saturation", "triage"] {
        let steps = report_json(subcommand, &[&path])["remediation"].to_string();
        assert!(
            steps.contains("the retries are what keeps it working")
                && steps.contains("keep them with backoff"),
            "{subcommand}: {steps}"
        );
        assert!(!steps.contains("disable retries"), "{subcommand}: {steps}");
    }
    let classify = report_json("classify", &[&path]);
    assert!(
        classify["remediation"]
            .to_string()
            .contains(&format!("would fail those {saved}")),
        "{}",
        classify["remediation"]
    );
}

#[test]
fn retries_that_recover_the_call_but_spend_the_deadline_are_not_called_saving() {
    let path = fixture_arg("review/deadline_retries.jsonl");
    let classify = report_json("classify", &[&path]);
    // The capture's premise, as the runtime logged it: messages skipped for their deadline.
    assert!(
        classify["categories"]["deadline"]["events"]
            .as_u64()
            .unwrap()
            > 0
    );
    for subcommand in ["classify", "saturation"] {
        let steps = report_json(subcommand, &[&path])["remediation"].to_string();
        assert!(
            !steps.contains("the retries are what keeps it working"),
            "{subcommand}: {steps}"
        );
    }
}
