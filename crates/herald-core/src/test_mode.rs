//! Test mode: a template that sends for real only to the receivers it lists, so a new template
//! can be rehearsed on its real crowd; every other receiver is traced `test_skipped`, never sent.

use crate::field::FieldError;
use crate::listing::clip;
use serde::{Deserialize, Serialize};

/// The most receivers a template's test mode lists.
pub const MAX_TEST_RECEIVERS: usize = 100;
const MAX_RECEIVER_CHARS: usize = 200;

/// Why a receiver of a template in test mode was not sent to, as its trace says.
pub const TEST_SKIP_REASON: &str = "test mode: not one of the template's test receivers";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestMode {
    /// The receivers that get real sends, as the crowd's receiver column (or `/send`) gives
    /// them; an empty list sends to no one.
    pub receivers: Vec<String>,
}

impl TestMode {
    /// Whether `receiver` gets a real send (compared without surrounding spaces).
    pub fn lets_through(&self, receiver: &str) -> bool {
        let receiver = receiver.trim();
        self.receivers.iter().any(|listed| listed.trim() == receiver)
    }

    /// What is wrong with the list, each naming its entry.
    pub fn problems(&self) -> Vec<FieldError> {
        if self.receivers.len() > MAX_TEST_RECEIVERS {
            let message = format!("lists {} receivers; at most {MAX_TEST_RECEIVERS}", self.receivers.len());
            return vec![FieldError::new("testMode.receivers", message)];
        }
        let field = |i: usize| format!("testMode.receivers[{i}]");
        self.receivers
            .iter()
            .enumerate()
            .filter_map(|(i, r)| match r.trim() {
                "" => Some(FieldError::new(field(i), "must not be blank")),
                r if r.chars().count() > MAX_RECEIVER_CHARS => Some(FieldError::new(
                    field(i),
                    format!("{:?} is longer than {MAX_RECEIVER_CHARS} characters", clip(r, 40)),
                )),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(receivers: &[&str]) -> TestMode {
        TestMode { receivers: receivers.iter().map(|r| r.to_string()).collect() }
    }

    #[test]
    fn only_listed_receivers_are_let_through() {
        let test = listing(&["13900000003", " qa@example.com "]);
        assert!(test.lets_through("13900000003"));
        assert!(test.lets_through("qa@example.com "));
        assert!(!test.lets_through("13900000004"));
        assert!(!listing(&[]).lets_through("13900000003"), "an empty list sends to no one");
    }

    #[test]
    fn blank_long_and_too_many_receivers_are_named() {
        let problems = listing(&["ok", "  ", &"9".repeat(201)]).problems();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["testMode.receivers[1]", "testMode.receivers[2]"]);
        let many: Vec<String> = (0..=MAX_TEST_RECEIVERS).map(|n| n.to_string()).collect();
        let problems = TestMode { receivers: many }.problems();
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("at most 100"), "{}", problems[0]);
    }
}
