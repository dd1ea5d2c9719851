//! The retry rules and the delivery's state: exponential backoff from `initial_backoff_ms`
//! to `max_backoff_ms` until the first attempt is `give_up_after_hours` old, a fair share
//! of sending slots per endpoint, and what a 2xx means.

use std::{collections::HashMap, hash::Hash};

/// How long to wait after failed attempt number `attempt` (1-based): `initial_ms` doubling
/// each attempt, at most `max_ms`.
pub fn backoff_ms(attempt: u32, initial_ms: u64, max_ms: u64) -> u64 {
    let factor = 1u64
        .checked_shl(attempt.saturating_sub(1))
        .unwrap_or(u64::MAX);
    initial_ms.max(1).saturating_mul(factor).min(max_ms)
}

/// Endpoints that already have `per_endpoint` deliveries in flight, in order.
pub fn saturated<E: Clone + Ord + Hash>(
    in_flight: &HashMap<E, usize>,
    per_endpoint: usize,
) -> Vec<E> {
    let mut busy: Vec<E> = in_flight
        .iter()
        .filter(|(_, n)| **n >= per_endpoint)
        .map(|(e, _)| e.clone())
        .collect();
    busy.sort();
    busy
}

/// Which of the due deliveries `(delivery id, endpoint id)`, in order, to send now so that
/// no endpoint has more than `per_endpoint` in flight: a slow receiver cannot take every
/// sending slot.
pub fn choose<D: Clone, E: Clone + Eq + Hash>(
    candidates: &[(D, E)],
    in_flight: &HashMap<E, usize>,
    per_endpoint: usize,
) -> Vec<D> {
    let mut counts = in_flight.clone();
    let mut chosen = Vec::new();
    for (id, endpoint) in candidates {
        let n = counts.entry(endpoint.clone()).or_default();
        if *n < per_endpoint {
            *n += 1;
            chosen.push(id.clone());
        }
    }
    chosen
}

/// What happens to a delivery after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again at this time (unix ms).
    RetryAt(i64),
    /// The first attempt is older than the give-up window: mark the delivery failed and
    /// disable the endpoint.
    GiveUp,
}

/// The retry rule: back off exponentially until the first attempt is `give_up_after_hours` old.
pub fn after_failure(
    attempt: u32,
    first_attempt_ms: i64,
    now_ms: i64,
    settings: &RetryPolicy,
) -> AfterFailure {
    if now_ms - first_attempt_ms >= settings.give_up_after_ms {
        AfterFailure::GiveUp
    } else {
        let wait = backoff_ms(
            attempt,
            settings.initial_backoff_ms,
            settings.max_backoff_ms,
        );
        AfterFailure::RetryAt(now_ms.saturating_add(i64::try_from(wait).unwrap_or(i64::MAX)))
    }
}

/// The retry settings in the units the rules use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub initial_backoff_ms: u64,
    pub max_backoff_ms: u64,
    pub give_up_after_ms: i64,
}

impl From<&hub_platform::config::WebhookSettings> for RetryPolicy {
    fn from(s: &hub_platform::config::WebhookSettings) -> Self {
        Self {
            initial_backoff_ms: s.initial_backoff_ms,
            max_backoff_ms: s.max_backoff_ms.max(s.initial_backoff_ms),
            give_up_after_ms: i64::try_from(s.give_up_after_hours.saturating_mul(3_600_000))
                .unwrap_or(i64::MAX),
        }
    }
}

/// Whether an HTTP status means the receiver accepted the webhook.
pub fn accepted(status: u16) -> bool {
    (200..300).contains(&status)
}

hub_platform::code_enum! {
    /// Status of a delivery: `pending` until an attempt is accepted (`delivered`) or the
    /// give-up window closes (`failed`); a redelivery makes either `pending` again.
    pub enum DeliveryStatus {
        /// Waiting for its next attempt (or, while its endpoint is disabled, paused).
        Pending,
        Delivered,
        /// Given up after `webhooks.give_up_after_hours`; can be redelivered.
        Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_endpoint_never_takes_every_slot() {
        let c = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect::<Vec<_>>()
        };
        let in_flight = HashMap::from([("slow".to_owned(), 1usize)]);
        let chosen = choose(
            &c(&[
                ("1", "slow"),
                ("2", "slow"),
                ("3", "fast"),
                ("4", "fast"),
                ("5", "fast"),
            ]),
            &in_flight,
            2,
        );
        assert_eq!(chosen, ["1", "3", "4"]);
        assert_eq!(
            saturated(
                &HashMap::from([("slow".to_owned(), 2), ("fast".to_owned(), 1)]),
                2
            ),
            ["slow"]
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let waits: Vec<u64> = (1..=8).map(|a| backoff_ms(a, 1000, 30_000)).collect();
        assert_eq!(waits, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
        assert_eq!(backoff_ms(200, 1000, 3_600_000), 3_600_000);
        assert_eq!(backoff_ms(64, u64::MAX / 2, u64::MAX), u64::MAX);
    }

    #[test]
    fn failures_are_retried_until_the_give_up_window_closes() {
        let p = RetryPolicy {
            initial_backoff_ms: 1000,
            max_backoff_ms: 60_000,
            give_up_after_ms: 3_600_000,
        };
        assert_eq!(after_failure(1, 0, 10, &p), AfterFailure::RetryAt(1010));
        assert_eq!(after_failure(3, 0, 100, &p), AfterFailure::RetryAt(4100));
        assert_eq!(
            after_failure(40, 0, 3_599_999, &p),
            AfterFailure::RetryAt(3_659_999)
        );
        assert_eq!(after_failure(41, 0, 3_600_000, &p), AfterFailure::GiveUp);
    }

    /// With the shipped configuration a failing delivery is retried, backing off
    /// exponentially, for at least 24 hours before it is given up and its endpoint disabled.
    #[test]
    fn the_default_schedule_retries_for_at_least_a_day() {
        let settings = hub_platform::Settings::load_with(&[]).unwrap();
        let policy = RetryPolicy::from(&settings.webhooks);
        let (mut now, mut attempt, mut waits) = (0i64, 1u32, Vec::new());
        let gave_up_at = loop {
            match after_failure(attempt, 0, now, &policy) {
                AfterFailure::RetryAt(at) => {
                    waits.push(at - now);
                    now = at;
                    attempt += 1;
                }
                AfterFailure::GiveUp => break now,
            }
        };
        let hour = 3_600_000;
        assert!(
            waits.windows(2).take(8).all(|w| w[1] == 2 * w[0]),
            "exponential: {waits:?}"
        );
        assert!(
            waits.iter().all(|w| *w <= hour),
            "capped at an hour: {waits:?}"
        );
        assert!(
            gave_up_at >= 24 * hour,
            "retried for {} h only",
            gave_up_at / hour
        );
        assert!(gave_up_at < 27 * hour, "{} h", gave_up_at / hour);
        assert!(attempt < 40, "{attempt} attempts");
    }
}
