//! A budget as kept: the partnership's year, and its versions, each from a period, with its
//! lines, costing model, risk-share agreement and contributions. A new version runs from a
//! period not before the current version's ([`BudgetVersion::next`]); earlier versions stay.

use chrono::NaiveDateTime;
use hub_platform::{Pence, Problem};

use super::{Contribution, CostingModel, LineAmount};
use crate::{domain::risk::RiskShare, ids::BudgetId};

/// A partnership's pooled budget for a financial year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    pub id: BudgetId,
    pub partnership: String,
    pub year: i32,
    pub created_by: String,
    pub created_org: String,
    pub created_at: NaiveDateTime,
}

/// One version of a budget (without its lines and contributions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetVersion {
    pub budget_id: BudgetId,
    /// 1, 2, … in the order they were made.
    pub version: i32,
    /// The first period it is the budget for.
    pub from_period: i32,
    pub reason: String,
    pub total_pence: Pence,
    pub costing_model: CostingModel,
    pub risk_share: RiskShare,
    pub created_by: String,
    pub created_org: String,
    pub created_at: NaiveDateTime,
}

/// A version with its lines (in name order) and contributions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullVersion {
    pub version: BudgetVersion,
    pub lines: Vec<LineAmount>,
    pub contributions: Vec<Contribution>,
}

impl BudgetVersion {
    /// The transition to a new version from `from_period`: its number, or 422
    /// `after_last_version` naming `/from_period` if it would start before this one (the
    /// current version). Whether that period is still open is the period's to say.
    pub fn next(&self, from_period: i32) -> Result<i32, Problem> {
        if from_period < self.from_period {
            return Err(Problem::invalid(
                "/from_period",
                "after_last_version",
                format!(
                    "version {} runs from period {}: a new version cannot start before it",
                    self.version, self.from_period
                ),
            ));
        }
        Ok(self.version + 1)
    }
}

impl FullVersion {
    /// The version renumbered `n` (a new version is built before its number is settled).
    pub fn numbered(mut self, n: i32) -> Self {
        self.version.version = n;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_version_starts_no_earlier_than_the_current_one() {
        let current = BudgetVersion {
            budget_id: BudgetId::new(),
            version: 2,
            from_period: 4,
            reason: "mid-year".into(),
            total_pence: Pence(100),
            costing_model: CostingModel::Equal {},
            risk_share: RiskShare::default(),
            created_by: "u".into(),
            created_org: "E08000012".into(),
            created_at: chrono::DateTime::UNIX_EPOCH.naive_utc(),
        };
        assert_eq!(current.next(4), Ok(3));
        assert_eq!(current.next(12), Ok(3));
        let e = current.next(3).unwrap_err();
        assert_eq!(
            (e.errors[0].field.as_str(), e.errors[0].rule.as_str()),
            ("/from_period", "after_last_version")
        );
    }
}
