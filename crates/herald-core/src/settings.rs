//! The one error a component's settings give when a value is out of range, naming the key, so a
//! node refuses a bad configuration at load instead of quietly clamping it.

/// A setting refused by a component's `validate()`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {reason}")]
pub struct InvalidSetting {
    /// The key as the configuration file spells it, section first once the node has placed it
    /// (`worker.sends_in_flight`).
    pub key: String,
    pub reason: String,
}

impl InvalidSetting {
    pub fn new(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { key: key.into(), reason: reason.into() }
    }

    /// The same refusal with the key placed in its configuration section.
    pub fn in_section(self, section: &str) -> Self {
        Self { key: format!("{section}.{}", self.key), reason: self.reason }
    }

    /// Refuses `value` outside `min..=max`.
    pub fn check_range<T>(key: &str, value: T, min: T, max: T) -> Result<(), Self>
    where
        T: PartialOrd + std::fmt::Display + Copy,
    {
        if value < min || value > max {
            return Err(Self::new(key, format!("{value} is out of range; use {min} to {max}")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::InvalidSetting;

    #[test]
    fn a_refusal_names_the_key_in_its_section_and_the_range() {
        let err = InvalidSetting::check_range("batch_size", 0usize, 1, 100).unwrap_err().in_section("streamer");
        assert_eq!(err.to_string(), "streamer.batch_size: 0 is out of range; use 1 to 100");
        assert!(InvalidSetting::check_range("batch_size", 100usize, 1, 100).is_ok());
    }
}
