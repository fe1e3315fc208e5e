//! A command job: a program the node runs, off unless the node's configuration enables commands
//! and lists which may run. Its shape, the checks on it, the node's policy over it (applied when
//! it is saved and again when it runs) and how its exit is judged.

use super::MASKED;
use crate::field::FieldError;
use crate::listing::{QUOTED_CHARS, clip};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const MAX_PROGRAM_BYTES: usize = 4_096;
const MAX_ARGS: usize = 100;
const MAX_ARG_BYTES: usize = 8_192;
const MAX_ENV: usize = 50;

/// A program run on the node that claims the fire, with no shell unless `shell` asks for one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CommandCall {
    /// The program, exactly as the node's `jobs.allowed_commands` lists it; with `shell`, a
    /// script for `sh -c`.
    pub program: String,
    /// Passed as they are, never through a shell.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Added to a clean environment (the node's own is not passed on). Values of secret-looking
    /// names read as `********` in answers, like headers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Runs `program` as a `sh -c` script; refused unless the node's `jobs.allow_shell` is on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shell: bool,
    /// Exit codes that count as success; 0 when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub success_codes: Vec<i32>,
}

/// Which commands a node runs: from its `[jobs]` configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandPolicy {
    /// Commands run at all.
    pub enabled: bool,
    /// Programs that may run, each written as jobs give it.
    pub allowed: Vec<String>,
    /// `shell` jobs may run.
    pub allow_shell: bool,
}

impl CommandPolicy {
    /// Why this node does not run `command`, naming the field; None when it does.
    pub fn refusal(&self, command: &CommandCall) -> Option<FieldError> {
        if !self.enabled {
            return Some(FieldError::new("command", "command jobs are off on this node (jobs.commands_enabled)"));
        }
        if command.shell {
            return (!self.allow_shell)
                .then(|| FieldError::new("command.shell", "shell scripts are off on this node (jobs.allow_shell)"));
        }
        (!self.allowed.contains(&command.program)).then(|| {
            let program = clip(&command.program, QUOTED_CHARS);
            FieldError::new("command.program", format!("{program:?} is not in this node's jobs.allowed_commands"))
        })
    }
}

impl CommandCall {
    pub(super) fn check(&self, errors: &mut Vec<FieldError>) {
        if self.program.trim().is_empty() {
            errors.push(FieldError::new("command.program", "must not be empty"));
        } else if self.program.len() > MAX_PROGRAM_BYTES || self.program.contains('\0') {
            errors
                .push(FieldError::new("command.program", format!("must be at most {MAX_PROGRAM_BYTES} bytes, no NUL")));
        }
        if self.args.len() > MAX_ARGS {
            errors.push(FieldError::new("command.args", format!("{} arguments; at most {MAX_ARGS}", self.args.len())));
        }
        if let Some(i) = self.args.iter().position(|a| a.len() > MAX_ARG_BYTES || a.contains('\0')) {
            errors.push(FieldError::new(
                format!("command.args.{i}"),
                format!("must be at most {MAX_ARG_BYTES} bytes, no NUL"),
            ));
        }
        if self.env.len() > MAX_ENV {
            errors.push(FieldError::new("command.env", format!("{} variables; at most {MAX_ENV}", self.env.len())));
        }
        for (name, value) in self.env.iter().take(MAX_ENV) {
            let field = format!("command.env.{}", clip(name, QUOTED_CHARS));
            if !is_env_name(name) || name.starts_with("HERALD_") {
                errors.push(FieldError::new(field, "is not a variable name (letters, digits, _; not HERALD_)"));
            } else if value == MASKED {
                errors.push(FieldError::new(field, format!("give its value: {MASKED} keeps a stored value only")));
            } else if value.len() > MAX_ARG_BYTES || value.contains('\0') {
                errors.push(FieldError::new(field, format!("must be at most {MAX_ARG_BYTES} bytes, no NUL")));
            }
        }
    }

    /// Whether the command's exit `code` is a success; the error says why not.
    pub fn judge(&self, code: i32) -> Result<(), String> {
        let ok = if self.success_codes.is_empty() { code == 0 } else { self.success_codes.contains(&code) };
        if ok { Ok(()) } else { Err(format!("exited with {code}")) }
    }
}

fn is_env_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(program: &str) -> CommandCall {
        CommandCall { program: program.into(), ..CommandCall::default() }
    }

    #[test]
    fn a_node_runs_only_the_commands_it_lists_and_a_shell_only_when_it_allows_one() {
        let off = CommandPolicy::default();
        assert_eq!(off.refusal(&command("/usr/bin/true")).unwrap().field, "command");
        let on = CommandPolicy { enabled: true, allowed: vec!["/usr/bin/true".into()], allow_shell: false };
        assert_eq!(on.refusal(&command("/usr/bin/true")), None);
        assert_eq!(on.refusal(&command("/usr/bin/false")).unwrap().field, "command.program");
        let script = CommandCall { shell: true, ..command("echo hi") };
        assert_eq!(on.refusal(&script).unwrap().field, "command.shell");
        assert_eq!(CommandPolicy { allow_shell: true, ..on }.refusal(&script), None);
    }

    #[test]
    fn faults_name_their_field_and_an_exit_is_judged_by_its_code() {
        let mut bad = command(" ");
        bad.args = vec!["ok".into(), "a\0b".into()];
        bad.env.insert("1X".into(), "v".into());
        bad.env.insert("HERALD_NODE".into(), "v".into());
        bad.env.insert("API_TOKEN".into(), MASKED.into());
        let mut errors = Vec::new();
        bad.check(&mut errors);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["command.program", "command.args.1", "command.env.1X", "command.env.API_TOKEN", "command.env.HERALD_NODE"]
        );
        assert_eq!(command("x").judge(0), Ok(()));
        assert_eq!(command("x").judge(3), Err("exited with 3".into()));
        let lenient = CommandCall { success_codes: vec![0, 3], ..command("x") };
        assert_eq!(lenient.judge(3), Ok(()));
    }
}
