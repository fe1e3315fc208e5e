//! The range a send rate may take, written once for every place that accepts one (flow
//! control per channel, rate per channel account) and for the rate gates that apply them.

/// Slowest rate accepted: one send in about eleven and a half days. Slower rates add nothing
/// an operator needs and turn into bucket periods that overflow time types.
pub const MIN_RATE_PER_SECOND: f64 = 1e-6;

/// Fastest rate accepted; no provider herald talks to takes more.
pub const MAX_RATE_PER_SECOND: f64 = 1e6;

/// Checks a rate given by a person: a finite number within
/// [`MIN_RATE_PER_SECOND`]..=[`MAX_RATE_PER_SECOND`]. The error says what is wrong, for a
/// message naming the field.
pub fn check_rate_per_second(rate: f64) -> Result<f64, String> {
    if !rate.is_finite() {
        return Err(format!("{rate} is not a number of sends per second"));
    }
    if !(MIN_RATE_PER_SECOND..=MAX_RATE_PER_SECOND).contains(&rate) {
        return Err(format!(
            "{rate} is out of range: give {MIN_RATE_PER_SECOND} to {MAX_RATE_PER_SECOND} sends per second, or null for no limit"
        ));
    }
    Ok(rate)
}

/// The rate a gate applies for a stored value, which may predate [`check_rate_per_second`]:
/// None for a value that does not limit (not a positive number), else the value brought into
/// the accepted range.
pub fn effective_rate(rate: f64) -> Option<f64> {
    (rate.is_finite() && rate > 0.0).then(|| rate.clamp(MIN_RATE_PER_SECOND, MAX_RATE_PER_SECOND))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_outside_the_range_are_refused() {
        for bad in [0.0, -1.0, 1e-300, 5e-7, 1e6 + 1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(check_rate_per_second(bad).is_err(), "{bad}");
        }
        for good in [MIN_RATE_PER_SECOND, 0.5, 1.0, 20.0, MAX_RATE_PER_SECOND] {
            assert_eq!(check_rate_per_second(good), Ok(good));
        }
    }

    #[test]
    fn stored_rates_are_brought_into_range() {
        assert_eq!(effective_rate(1e-300), Some(MIN_RATE_PER_SECOND));
        assert_eq!(effective_rate(1e300), Some(MAX_RATE_PER_SECOND));
        assert_eq!(effective_rate(3.0), Some(3.0));
        assert_eq!(effective_rate(0.0), None);
        assert_eq!(effective_rate(f64::NAN), None);
        assert_eq!(effective_rate(-2.0), None);
    }
}
