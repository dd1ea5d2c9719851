//! Money as integer pence. Never floats.

use serde::{Deserialize, Serialize};

/// An amount in pence.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[serde(transparent)]
#[diesel(sql_type = diesel::sql_types::BigInt)]
pub struct Pence(pub i64);

impl Pence {
    pub const ZERO: Pence = Pence(0);

    /// The most a weekly rate, or one weekly extra on top of a rate, may be: £100,000.00.
    /// A children's home placement costs a few thousand pounds a week; the bound keeps every
    /// cost the ledger derives from a rate (a year is 52 weeks, a contract a few years)
    /// many orders of magnitude inside `i64`.
    pub const MAX_WEEKLY: Pence = Pence::gbp(100_000, 0);

    /// The most one payment line (an actual uploaded by finance) may be, either way:
    /// £10,000,000.00 paid or refunded.
    pub const MAX_PAYMENT_LINE: Pence = Pence::gbp(10_000_000, 0);

    /// Checks `self` is within `min..=max`, else a 422 field error naming `field` (a JSON
    /// pointer) with rule `range` and both bounds in pounds.
    pub fn check_range(
        self,
        field: &str,
        min: Pence,
        max: Pence,
    ) -> Result<Pence, crate::problem::FieldError> {
        if self < min || self > max {
            return Err(crate::problem::FieldError::new(
                field,
                "range",
                format!(
                    "must be from {min} to {max} (in pence: {} to {})",
                    min.0, max.0
                ),
            ));
        }
        Ok(self)
    }

    /// `self + o`, or `None` when the sum does not fit in `i64`.
    pub fn checked_add(self, o: Pence) -> Option<Pence> {
        self.0.checked_add(o.0).map(Pence)
    }

    /// `pounds` and `pence` (e.g. `Pence::gbp(2149, 0)`).
    pub const fn gbp(pounds: i64, pence: i64) -> Self {
        Pence(pounds * 100 + pence)
    }

    /// The amount in pounds as a plain decimal, `1999.99`, `-1.05`: no `£`, no grouping, always
    /// two decimals (CSV cells, OCDS text). `Display` gives the reader's form, `£1,999.99`.
    pub fn decimal(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }

    /// The cost of a weekly rate over `days` days: `weekly × days / 7`, rounded half up to
    /// the penny (half away from zero for negative amounts).
    pub fn prorate_weekly(self, days: i64) -> Pence {
        Pence(div_round_half_up(self.0 as i128 * days as i128, 7) as i64)
    }

    /// `self × numerator / denominator`, rounded half up.
    pub fn scale(self, numerator: i64, denominator: i64) -> Pence {
        Pence(div_round_half_up(self.0 as i128 * numerator as i128, denominator as i128) as i64)
    }

    /// Splits the amount in proportion to `weights` by the largest-remainder method, so the
    /// parts add up to the whole exactly. Ties in remainder go to the earlier weight. All
    /// weights zero splits evenly.
    pub fn split(self, weights: &[i64]) -> Vec<Pence> {
        if weights.is_empty() {
            return Vec::new();
        }
        let total_weight: i128 = weights.iter().map(|w| *w as i128).sum();
        let (weights, total_weight): (Vec<i128>, i128) = if total_weight == 0 {
            (vec![1; weights.len()], weights.len() as i128)
        } else {
            (weights.iter().map(|w| *w as i128).collect(), total_weight)
        };
        let whole = self.0 as i128;
        let sign = if whole < 0 { -1 } else { 1 };
        let magnitude = whole.abs();
        let mut parts: Vec<i128> = weights
            .iter()
            .map(|w| magnitude * w / total_weight)
            .collect();
        let mut order: Vec<usize> = (0..weights.len()).collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(magnitude * weights[i] % total_weight), i));
        let mut left = magnitude - parts.iter().sum::<i128>();
        for i in order {
            if left == 0 {
                break;
            }
            parts[i] += 1;
            left -= 1;
        }
        parts
            .into_iter()
            .map(|p| Pence((p * sign) as i64))
            .collect()
    }
}

fn div_round_half_up(numerator: i128, denominator: i128) -> i128 {
    let q = numerator / denominator;
    let r = numerator % denominator;
    if 2 * r.abs() >= denominator.abs() {
        q + numerator.signum() * denominator.signum()
    } else {
        q
    }
}

impl std::ops::Add for Pence {
    type Output = Pence;
    fn add(self, o: Pence) -> Pence {
        Pence(self.0 + o.0)
    }
}
impl std::ops::Sub for Pence {
    type Output = Pence;
    fn sub(self, o: Pence) -> Pence {
        Pence(self.0 - o.0)
    }
}
impl std::ops::Mul<i64> for Pence {
    type Output = Pence;
    fn mul(self, k: i64) -> Pence {
        Pence(self.0 * k)
    }
}
impl std::iter::Sum for Pence {
    fn sum<I: Iterator<Item = Pence>>(iter: I) -> Pence {
        Pence(iter.map(|p| p.0).sum())
    }
}

impl std::fmt::Display for Pence {
    /// `£33,488.00`, `-£1.05`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let pounds = (abs / 100).to_string();
        let mut grouped = String::new();
        for (i, c) in pounds.chars().enumerate() {
            if i > 0 && (pounds.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        write!(f, "{sign}£{grouped}.{:02}", abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_check_names_the_field_and_both_bounds() {
        let max = Pence::MAX_WEEKLY;
        assert_eq!(
            max.check_range("/weekly_rate_pence", Pence(1), max),
            Ok(max)
        );
        let e = Pence(i64::MAX)
            .check_range("/weekly_rate_pence", Pence(1), max)
            .unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.rule.as_str()),
            ("/weekly_rate_pence", "range")
        );
        assert!(e.message.contains("£100,000.00"), "{}", e.message);
        let m = Pence::MAX_PAYMENT_LINE;
        assert!(
            Pence(i64::MIN)
                .check_range("/rows/0/amount_pence", Pence(-m.0), m)
                .is_err()
        );
        assert_eq!(Pence(i64::MAX).checked_add(Pence(1)), None);
    }

    #[test]
    fn block_contract_savings_from_the_seed_are_exact() {
        // Care Assist: 4 beds, £2,149 → £1,988 a week, × 52 weeks.
        let saving = (Pence::gbp(2149, 0) - Pence::gbp(1988, 0)) * 52 * 4;
        assert_eq!(saving, Pence::gbp(33_488, 0));
        assert_eq!(saving.to_string(), "£33,488.00");
        // Family Care Group: 4 beds, £3,170.65 → £2,809.00.
        let saving = (Pence::gbp(3170, 65) - Pence::gbp(2809, 0)) * 52 * 4;
        assert_eq!(saving, Pence::gbp(75_223, 20));
    }

    #[test]
    fn decimals_have_two_places_and_no_symbol_or_grouping() {
        assert_eq!(Pence(199_999).decimal(), "1999.99");
        assert_eq!(Pence(123_456_789).decimal(), "1234567.89");
        assert_eq!(Pence(5).decimal(), "0.05");
        assert_eq!(Pence(-105).decimal(), "-1.05");
        assert_eq!(Pence::ZERO.decimal(), "0.00");
    }

    #[test]
    fn part_periods_round_half_up_to_the_penny() {
        // £1,988 a week for 31 days = £8,804.00 exactly; for 1 day = £284.00.
        assert_eq!(Pence::gbp(1988, 0).prorate_weekly(31), Pence(880_400));
        assert_eq!(Pence::gbp(1988, 0).prorate_weekly(1), Pence(28_400));
        // 100p for 1 day = 14.29p → 14p; 1,000p for 1 day = 142.86p → 143p; 3p × 1 / 2 rounds up.
        assert_eq!(Pence(100).prorate_weekly(1), Pence(14));
        assert_eq!(Pence(1000).prorate_weekly(1), Pence(143));
        assert_eq!(Pence(3).scale(1, 2), Pence(2));
        assert_eq!(Pence(-3).scale(1, 2), Pence(-2));
        assert_eq!(Pence(317_065).prorate_weekly(3), Pence(135_885));
    }

    #[test]
    fn splits_add_up_to_the_whole() {
        let parts = Pence(10_000).split(&[1, 1, 1]);
        assert_eq!(parts, vec![Pence(3334), Pence(3333), Pence(3333)]);
        let parts = Pence(-100).split(&[1, 2]);
        assert_eq!(parts.iter().copied().sum::<Pence>(), Pence(-100));
        let budget = Pence(123_456_789);
        let parts = budget.split(&[3125, 2650, 2400, 1825]);
        assert_eq!(parts.iter().copied().sum::<Pence>(), budget);
        assert_eq!(Pence(5).split(&[0, 0]), vec![Pence(3), Pence(2)]);
        assert_eq!(Pence(-105).to_string(), "-£1.05");
    }
}
